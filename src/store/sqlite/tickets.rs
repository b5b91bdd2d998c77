//! Tickets' follow-up in SQLite: closing (once), the rating awaited and recorded, reopening.
//! (With the Sheets backend, ratings and the statuses redsol sets stay here: they are not
//! written to the sheet yet.)

use super::records::{IncidentRow, INCIDENT_COLUMNS};
use super::*;
use redsol_actors::store::tickets::{Survey, Tickets, REOPENED};

fn incident_where(conn: &Connection, filter: &str, id: &str) -> StoreResult<Option<Incident>> {
    conn.query_row(
        &format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = ?1 AND {filter}"),
        params![id],
        IncidentRow::read,
    )
    .optional()
    .map_err(db_err)?
    .map(IncidentRow::into_incident)
    .transpose()
}

/// The filter of closed tickets (the statuses `Incident::is_open` says are not open).
const CLOSED: &str = "status IN ('Resuelto', 'Cerrado', 'Cancelado')";

fn set_status(
    conn: &mut Connection,
    id: &str,
    from: &str,
    status: &str,
    pending: bool,
    at: u64,
    source: Option<&str>,
) -> StoreResult<Option<Incident>> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    let Some(mut incident) = incident_where(&tx, from, id)? else {
        // A replay of the message that made this change finds the ticket as it left it.
        let replayed = match source {
            Some(source) => tx
                .query_row(
                    &format!(
                        "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = ?1 AND close_source = ?2"
                    ),
                    params![id, source],
                    IncidentRow::read,
                )
                .optional()
                .map_err(db_err)?
                .map(IncidentRow::into_incident)
                .transpose()?,
            None => None,
        };
        return Ok(replayed);
    };
    tx.execute(
        "UPDATE incidents SET status = ?2, closed_at = ?3, survey_pending = ?4, \
         close_source = ?5 WHERE id = ?1",
        params![id, status, at as i64, pending, source],
    )
    .map_err(db_err)?;
    incident.status = status.to_string();
    tx.commit().map_err(db_err)?;
    Ok(Some(incident))
}

fn answer_survey(conn: &mut Connection, survey: &Survey) -> StoreResult<bool> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    if let Some(source) = &survey.source {
        let replayed: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM surveys WHERE source = ?1)",
                params![source],
                |r| r.get(0),
            )
            .map_err(db_err)?;
        if replayed {
            return Ok(true);
        }
    }
    let taken = tx
        .execute(
            "UPDATE incidents SET survey_pending = 0 WHERE id = ?1 AND survey_pending = 1",
            params![survey.ticket],
        )
        .map_err(db_err)?;
    if taken == 0 {
        return Ok(false);
    }
    tx.execute(
        "INSERT INTO surveys (ticket, client, rating, comment, created_at, source) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            survey.ticket,
            survey.client,
            survey.rating,
            survey.comment,
            format_utc(survey.at),
            survey.source
        ],
    )
    .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    Ok(true)
}

/// The filter of open tickets.
const OPEN: &str = "status NOT IN ('Resuelto', 'Cerrado', 'Cancelado')";

/// Whether a status closes a ticket (and asks for its rating).
fn closes(status: &str) -> bool {
    matches!(status, "Resuelto" | "Cerrado")
}

fn note_sheet_statuses(
    conn: &mut Connection,
    seen: &[(String, String)],
) -> StoreResult<Vec<(String, String)>> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    let mut closed = Vec::new();
    for (id, status) in seen {
        let known: Option<(Option<String>, String)> = tx
            .query_row(
                "SELECT sheet_status, status FROM incidents WHERE id = ?1",
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db_err)?;
        let Some((before, local)) = known else {
            continue; // staff's own row: not a ticket redsol follows
        };
        if before.as_deref() == Some(status.as_str()) {
            continue;
        }
        tx.execute(
            "UPDATE incidents SET sheet_status = ?2 WHERE id = ?1",
            params![id, status],
        )
        .map_err(db_err)?;
        // Only a change seen happening: the first sight of a row (a ticket closed long ago,
        // before this was followed) is remembered, not announced.
        let was_open = before.as_deref().is_some_and(|b| !closes(b));
        if was_open && closes(status) && !closes(&local) {
            closed.push((id.clone(), status.clone()));
        }
    }
    tx.commit().map_err(db_err)?;
    Ok(closed)
}

impl SqliteStore {
    /// Notes each ticket's Estado as the sheet shows it (`(id, status)`), and returns those
    /// staff just closed there: to be told to their customers.
    pub async fn note_sheet_statuses(
        &self,
        seen: Vec<(String, String)>,
    ) -> StoreResult<Vec<(String, String)>> {
        self.run("note_sheet_statuses", move |conn| {
            note_sheet_statuses(conn, &seen)
        })
        .await
    }
}

impl Tickets for SqliteStore {
    fn close_incident(
        &self,
        id: &str,
        status: &str,
        at: u64,
        source: Option<String>,
    ) -> BoxFuture<'_, StoreResult<Option<Incident>>> {
        let (id, status) = (id.to_string(), status.to_string());
        Box::pin(self.run("close_incident", move |conn| {
            set_status(conn, &id, OPEN, &status, true, at, source.as_deref())
        }))
    }

    fn survey_pending(
        &self,
        customer: &ConversationKey,
        since: u64,
    ) -> BoxFuture<'_, StoreResult<Option<Incident>>> {
        let customer = customer.clone();
        Box::pin(self.run("survey_pending", move |conn| {
            conn.query_row(
                &format!(
                    "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE channel = ?1 AND user = ?2 \
                     AND survey_pending = 1 AND {CLOSED} AND closed_at >= ?3 \
                     ORDER BY closed_at DESC LIMIT 1"
                ),
                params![customer.channel.as_str(), customer.user, since as i64],
                IncidentRow::read,
            )
            .optional()
            .map_err(db_err)?
            .map(IncidentRow::into_incident)
            .transpose()
        }))
    }

    fn answer_survey(&self, survey: Survey) -> BoxFuture<'_, StoreResult<bool>> {
        Box::pin(self.run("answer_survey", move |conn| answer_survey(conn, &survey)))
    }

    fn reopen_incident(&self, id: &str, at: u64) -> BoxFuture<'_, StoreResult<Option<Incident>>> {
        let id = id.to_string();
        Box::pin(self.run("reopen_incident", move |conn| {
            set_status(conn, &id, CLOSED, REOPENED, false, at, None)
        }))
    }
}
