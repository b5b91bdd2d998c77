//! The [`Store`] seam over the sheet: what staff's data reads and writes go through the tabs
//! (clients, incidents, prospects), and what is redsol's own state stays in SQLite (snapshots,
//! the journal, the outbox, handoffs, tickets' follow-up, which wakes the writer for what it
//! queued for the sheet).

use super::*;

/// Tickets' follow-up: SQLite's, then the writer woken for what it queued for the sheet.
impl Tickets for SheetsStore {
    fn close_incident(
        &self,
        id: &str,
        status: &str,
        at: u64,
        source: Option<String>,
    ) -> BoxFuture<'_, StoreResult<Option<Incident>>> {
        let (id, status) = (id.to_string(), status.to_string());
        Box::pin(async move {
            let closed = self.local().close_incident(&id, &status, at, source).await;
            self.shared.wake.notify_one();
            closed
        })
    }

    fn survey_pending(
        &self,
        customer: &ConversationKey,
        since: u64,
    ) -> BoxFuture<'_, StoreResult<Option<Incident>>> {
        self.local().survey_pending(customer, since)
    }

    fn answer_survey(&self, survey: Survey) -> BoxFuture<'_, StoreResult<bool>> {
        Box::pin(async move {
            let recorded = self.local().answer_survey(survey).await;
            self.shared.wake.notify_one();
            recorded
        })
    }

    fn reopen_incident(&self, id: &str, at: u64) -> BoxFuture<'_, StoreResult<Option<Incident>>> {
        let id = id.to_string();
        Box::pin(async move {
            let reopened = self.local().reopen_incident(&id, at).await;
            self.shared.wake.notify_one();
            reopened
        })
    }
}

/// The `Store` methods about staff's data use the sheet; the rest is SQLite's.
impl Store for SheetsStore {
    fn backend(&self) -> &'static str {
        "sheets"
    }

    /// Handoffs are the bot's own state: SQLite's.
    fn handoffs(&self) -> &dyn redsol_actors::store::handoff::Handoffs {
        self.local()
    }

    /// Tickets' follow-up is SQLite's, which queues the ratings and the statuses redsol sets
    /// for the sheet (the writer is woken for them); tickets staff close in the sheet are
    /// handed on.
    fn tickets(&self) -> &dyn redsol_actors::store::tickets::Tickets {
        self
    }

    /// Outages are the bot's own state: SQLite's.
    fn outages(&self) -> &dyn redsol_actors::store::outages::Outages {
        self.local()
    }

    /// Contacts and campaigns are the bot's own state: SQLite's.
    fn notices(&self) -> &dyn redsol_actors::store::notices::Notices {
        self.local()
    }

    /// Payments are the `Pagos` tab's, imported into SQLite at each read; what redsol
    /// changes is queued for the row's cells (the writer is woken for it).
    fn payments(&self) -> &dyn redsol_actors::store::payments::Payments {
        self
    }

    fn closed_elsewhere(&self) -> Option<ClosedElsewhere> {
        self.closed.lock().ok()?.take()
    }

    fn clients(&self) -> BoxFuture<'_, StoreResult<Arc<Vec<Client>>>> {
        Box::pin(async move { Ok(self.shared.tab(Tab::Clients).await?.clients.clone()) })
    }

    fn save_prospect(&self, prospect: NewProspect) -> BoxFuture<'_, StoreResult<Prospect>> {
        Box::pin(async move {
            let saved = self.local().save_prospect(prospect).await?;
            self.shared.wake.notify_one();
            Ok(saved)
        })
    }

    fn create_incident(&self, incident: NewIncident) -> BoxFuture<'_, StoreResult<Incident>> {
        Box::pin(async move {
            let saved = self.local().create_incident(incident).await?;
            self.shared.wake.notify_one();
            Ok(saved)
        })
    }

    /// The conversation's incidents as redsol saved them, with what staff changed in the sheet
    /// (status, technician, priority).
    fn incidents_for(&self, key: &ConversationKey) -> BoxFuture<'_, StoreResult<Vec<Incident>>> {
        let key = key.clone();
        Box::pin(async move {
            let mut mine = self.local().incidents_for(&key).await?;
            if let Ok(sheet) = self.shared.tab(Tab::Incidents).await {
                let by_id: HashMap<String, table::IncidentRow> = sheet
                    .rows
                    .iter()
                    .filter_map(|r| table::incident_row(&sheet.columns, r))
                    .map(|i| (i.id.clone(), i))
                    .collect();
                for incident in &mut mine {
                    if let Some(row) = by_id.get(&incident.id) {
                        if !row.status.is_empty() {
                            incident.status = row.status.clone();
                        }
                        if !row.technician.is_empty() {
                            incident.technician = row.technician.clone();
                        }
                        if let Some(p) = row.priority {
                            incident.data.priority = p;
                        }
                    }
                }
            }
            Ok(mine)
        })
    }

    /// Open incidents in the sheet (staff's own included), plus those redsol created that the
    /// copy of the sheet does not show yet (queued, or appended since the last read).
    fn open_incidents_by_priority(&self) -> BoxFuture<'_, StoreResult<Vec<(Priority, u64)>>> {
        Box::pin(async move {
            let sheet = self.shared.tab(Tab::Incidents).await?;
            let mut counts: HashMap<Priority, u64> = HashMap::new();
            let mut seen = HashSet::new();
            for row in sheet
                .rows
                .iter()
                .filter_map(|r| table::incident_row(&sheet.columns, r))
            {
                seen.insert(row.id.clone());
                if row.is_open() {
                    *counts
                        .entry(row.priority.unwrap_or(Priority::Baja))
                        .or_default() += 1;
                }
            }
            for (id, priority) in self.local().incident_priorities().await? {
                if !seen.contains(&id) {
                    *counts.entry(priority).or_default() += 1;
                }
            }
            Ok(Priority::ALL
                .into_iter()
                .map(|p| (p, counts.get(&p).copied().unwrap_or(0)))
                .collect())
        })
    }

    fn record_request(&self, request: PendingRequest) -> BoxFuture<'_, StoreResult<()>> {
        self.local().record_request(request)
    }

    fn load_snapshot(&self, key: &ConversationKey) -> BoxFuture<'_, StoreResult<Option<String>>> {
        self.local().load_snapshot(key)
    }

    fn save_snapshot(
        &self,
        key: &ConversationKey,
        state: String,
    ) -> BoxFuture<'_, StoreResult<()>> {
        self.local().save_snapshot(key, state)
    }

    fn delete_snapshot(&self, key: &ConversationKey) -> BoxFuture<'_, StoreResult<()>> {
        self.local().delete_snapshot(key)
    }

    fn journal_inbound(&self, entry: JournalEntry) -> BoxFuture<'_, StoreResult<bool>> {
        self.local().journal_inbound(entry)
    }

    fn journal_inbound_all(
        &self,
        entries: Vec<JournalEntry>,
    ) -> BoxFuture<'_, StoreResult<Vec<bool>>> {
        self.local().journal_inbound_all(entries)
    }

    fn journal_done(
        &self,
        key: &ConversationKey,
        message_id: &str,
    ) -> BoxFuture<'_, StoreResult<()>> {
        self.local().journal_done(key, message_id)
    }

    fn journal_pending(&self) -> BoxFuture<'_, StoreResult<Vec<JournalEntry>>> {
        self.local().journal_pending()
    }

    fn commit_turn(&self, commit: TurnCommit) -> BoxFuture<'_, StoreResult<()>> {
        self.local().commit_turn(commit)
    }

    fn queue_replies(&self, replies: Vec<OutboxEntry>) -> BoxFuture<'_, StoreResult<Vec<String>>> {
        self.local().queue_replies(replies)
    }

    fn outbox_attempted(&self, id: &str) -> BoxFuture<'_, StoreResult<bool>> {
        self.local().outbox_attempted(id)
    }

    fn outbox_sent(&self, id: &str) -> BoxFuture<'_, StoreResult<()>> {
        self.local().outbox_sent(id)
    }

    fn outbox_page(
        &self,
        channel: Channel,
        after: u64,
        limit: usize,
    ) -> BoxFuture<'_, StoreResult<OutboxPage>> {
        self.local().outbox_page(channel, after, limit)
    }

    fn prune(
        &self,
        now: u64,
        retention: redsol_actors::store::Retention,
    ) -> BoxFuture<'_, StoreResult<()>> {
        Box::pin(async move { self.local().prune_at(now, retention).await.map(|_| ()) })
    }

    fn flush(&self, within: Duration) -> BoxFuture<'_, ()> {
        Box::pin(async move {
            self.shared.wake.notify_one();
            let deadline = tokio::time::Instant::now() + within;
            loop {
                match self.rows_pending().await {
                    Ok(0) => return,
                    Ok(n) if tokio::time::Instant::now() >= deadline => {
                        tracing::warn!(
                            rows = n,
                            "rows not yet in the sheet stay queued for the next start"
                        );
                        return;
                    }
                    Err(_) => return,
                    Ok(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        })
    }
}
