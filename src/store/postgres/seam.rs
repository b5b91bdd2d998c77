//! The engine's store seams, on the PostgreSQL store's own operations.

use super::PgStore;
use redsol_actors::model::{
    Channel, Client, ConversationKey, Incident, NewIncident, NewProspect, PendingRequest, Priority,
    Prospect,
};
use redsol_actors::store::handoff::{Claim, Ended, Handoff, Handoffs, NewHandoff, Owner};
use redsol_actors::store::notices::{Contact, Notice, Notices};
use redsol_actors::store::outages::{NewOutage, Outage, Outages};
use redsol_actors::store::payments::{Payment, Payments, Verdict};
use redsol_actors::store::tickets::{Survey, Tickets};
use redsol_actors::store::{
    BoxFuture, JournalEntry, OutboxEntry, OutboxPage, Retention, Store, StoreResult, TurnCommit,
};
use std::sync::Arc;

impl Store for PgStore {
    fn handoffs(&self) -> &dyn Handoffs {
        self
    }

    fn tickets(&self) -> &dyn Tickets {
        self
    }

    fn outages(&self) -> &dyn Outages {
        self
    }

    fn notices(&self) -> &dyn Notices {
        self
    }

    fn payments(&self) -> &dyn Payments {
        self
    }

    fn ownership(&self) -> Option<&dyn redsol_actors::store::ownership::Ownership> {
        Some(self)
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn clients(&self) -> BoxFuture<'_, StoreResult<Arc<Vec<Client>>>> {
        Box::pin(std::future::ready(Ok(PgStore::clients(self))))
    }

    fn save_prospect(&self, prospect: NewProspect) -> BoxFuture<'_, StoreResult<Prospect>> {
        Box::pin(PgStore::save_prospect(self, prospect))
    }

    fn create_incident(&self, incident: NewIncident) -> BoxFuture<'_, StoreResult<Incident>> {
        Box::pin(PgStore::create_incident(self, incident))
    }

    fn incidents_for(&self, key: &ConversationKey) -> BoxFuture<'_, StoreResult<Vec<Incident>>> {
        let key = key.clone();
        Box::pin(async move { PgStore::incidents_for(self, &key).await })
    }

    fn open_incidents_by_priority(&self) -> BoxFuture<'_, StoreResult<Vec<(Priority, u64)>>> {
        Box::pin(PgStore::open_incidents_by_priority(self))
    }

    fn record_request(&self, request: PendingRequest) -> BoxFuture<'_, StoreResult<()>> {
        Box::pin(PgStore::record_request(self, request))
    }

    fn load_snapshot(&self, key: &ConversationKey) -> BoxFuture<'_, StoreResult<Option<String>>> {
        let key = key.clone();
        Box::pin(async move { PgStore::load_snapshot(self, &key).await })
    }

    fn save_snapshot(
        &self,
        key: &ConversationKey,
        state: String,
    ) -> BoxFuture<'_, StoreResult<()>> {
        let key = key.clone();
        Box::pin(async move { PgStore::save_snapshot(self, &key, state).await })
    }

    fn delete_snapshot(&self, key: &ConversationKey) -> BoxFuture<'_, StoreResult<()>> {
        let key = key.clone();
        Box::pin(async move { PgStore::delete_snapshot(self, &key).await })
    }

    fn journal_inbound(&self, entry: JournalEntry) -> BoxFuture<'_, StoreResult<bool>> {
        Box::pin(PgStore::journal_inbound(self, entry))
    }

    fn journal_inbound_all(
        &self,
        entries: Vec<JournalEntry>,
    ) -> BoxFuture<'_, StoreResult<Vec<bool>>> {
        Box::pin(PgStore::journal_inbound_all(self, entries))
    }

    fn journal_done(
        &self,
        key: &ConversationKey,
        message_id: &str,
    ) -> BoxFuture<'_, StoreResult<()>> {
        let (key, id) = (key.clone(), message_id.to_string());
        Box::pin(async move { PgStore::journal_done(self, &key, &id).await })
    }

    fn journal_pending(&self) -> BoxFuture<'_, StoreResult<Vec<JournalEntry>>> {
        Box::pin(PgStore::journal_pending(self))
    }

    fn commit_turn(&self, commit: TurnCommit) -> BoxFuture<'_, StoreResult<()>> {
        Box::pin(PgStore::commit_turn(self, commit))
    }

    fn queue_replies(&self, replies: Vec<OutboxEntry>) -> BoxFuture<'_, StoreResult<Vec<String>>> {
        Box::pin(PgStore::queue_replies(self, replies))
    }

    fn outbox_sent(&self, id: &str) -> BoxFuture<'_, StoreResult<()>> {
        let id = id.to_string();
        Box::pin(async move { PgStore::outbox_sent(self, &id).await })
    }

    fn outbox_attempted(&self, id: &str) -> BoxFuture<'_, StoreResult<bool>> {
        let id = id.to_string();
        Box::pin(async move { PgStore::outbox_attempted(self, &id).await })
    }

    fn outbox_page(
        &self,
        channel: Channel,
        after: u64,
        limit: usize,
    ) -> BoxFuture<'_, StoreResult<OutboxPage>> {
        Box::pin(PgStore::outbox_page(self, channel, after, limit))
    }

    fn ping(&self) -> BoxFuture<'_, StoreResult<()>> {
        Box::pin(PgStore::ping(self))
    }

    fn prune(&self, now: u64, retention: Retention) -> BoxFuture<'_, StoreResult<()>> {
        Box::pin(async move { self.prune_at(now, retention).await.map(|_| ()) })
    }
}

impl Handoffs for PgStore {
    fn open_handoff(&self, new: NewHandoff) -> BoxFuture<'_, StoreResult<(Handoff, bool)>> {
        Box::pin(PgStore::open_handoff(self, new))
    }

    fn claim_handoff(
        &self,
        id: &str,
        owner: Owner,
        at: u64,
        source: Option<String>,
    ) -> BoxFuture<'_, StoreResult<Claim>> {
        let id = id.to_string();
        Box::pin(async move { PgStore::claim_handoff(self, &id, owner, at, source).await })
    }

    fn handoff_for(
        &self,
        customer: &ConversationKey,
    ) -> BoxFuture<'_, StoreResult<Option<Handoff>>> {
        let customer = customer.clone();
        Box::pin(async move { PgStore::handoff_for(self, &customer).await })
    }

    fn handoffs_held(&self, owner: &ConversationKey) -> BoxFuture<'_, StoreResult<Vec<Handoff>>> {
        let owner = owner.clone();
        Box::pin(async move { PgStore::handoffs_held(self, &owner).await })
    }

    fn touch_handoff(&self, id: &str, at: u64) -> BoxFuture<'_, StoreResult<()>> {
        let id = id.to_string();
        Box::pin(async move { PgStore::touch_handoff(self, &id, at).await })
    }

    fn end_handoff(
        &self,
        id: &str,
        ended: Ended,
        at: u64,
        source: Option<String>,
    ) -> BoxFuture<'_, StoreResult<Option<Handoff>>> {
        let id = id.to_string();
        Box::pin(async move { PgStore::end_handoff(self, &id, ended, at, source).await })
    }

    fn open_handoffs(&self) -> BoxFuture<'_, StoreResult<Vec<Handoff>>> {
        Box::pin(PgStore::open_handoffs(self))
    }

    fn mark_carded(&self, id: &str) -> BoxFuture<'_, StoreResult<bool>> {
        let id = id.to_string();
        Box::pin(async move { PgStore::mark_carded(self, &id).await })
    }
}

impl Tickets for PgStore {
    fn close_incident(
        &self,
        id: &str,
        status: &str,
        at: u64,
        source: Option<String>,
    ) -> BoxFuture<'_, StoreResult<Option<Incident>>> {
        let (id, status) = (id.to_string(), status.to_string());
        Box::pin(async move { PgStore::close_incident(self, &id, &status, at, source).await })
    }

    fn survey_pending(
        &self,
        customer: &ConversationKey,
        since: u64,
    ) -> BoxFuture<'_, StoreResult<Option<Incident>>> {
        let customer = customer.clone();
        Box::pin(async move { PgStore::survey_pending(self, &customer, since).await })
    }

    fn answer_survey(&self, survey: Survey) -> BoxFuture<'_, StoreResult<bool>> {
        Box::pin(PgStore::answer_survey(self, survey))
    }

    fn reopen_incident(&self, id: &str, at: u64) -> BoxFuture<'_, StoreResult<Option<Incident>>> {
        let id = id.to_string();
        Box::pin(async move { PgStore::reopen_incident(self, &id, at).await })
    }
}

impl Outages for PgStore {
    fn declare_outage(&self, new: NewOutage) -> BoxFuture<'_, StoreResult<(Outage, bool)>> {
        Box::pin(PgStore::declare_outage(self, new))
    }

    fn resolve_outage(
        &self,
        zone: Option<&str>,
        source: Option<&str>,
        at: u64,
    ) -> BoxFuture<'_, StoreResult<Option<Outage>>> {
        let (zone, source) = (zone.map(str::to_string), source.map(str::to_string));
        Box::pin(async move {
            PgStore::resolve_outage(self, zone.as_deref(), source.as_deref(), at).await
        })
    }

    fn open_outages(&self) -> BoxFuture<'_, StoreResult<Vec<Outage>>> {
        Box::pin(PgStore::open_outages(self))
    }

    fn link_report(
        &self,
        outage: &str,
        customer: &ConversationKey,
        at: u64,
    ) -> BoxFuture<'_, StoreResult<bool>> {
        let (outage, customer) = (outage.to_string(), customer.clone());
        Box::pin(async move { PgStore::link_report(self, &outage, &customer, at).await })
    }
}

impl Notices for PgStore {
    fn touch_contact(
        &self,
        key: &ConversationKey,
        phone: Option<String>,
        at: u64,
    ) -> BoxFuture<'_, StoreResult<()>> {
        let key = key.clone();
        Box::pin(async move { PgStore::touch_contact(self, &key, phone, at).await })
    }

    fn set_opted_out(
        &self,
        key: &ConversationKey,
        opted_out: bool,
        at: u64,
    ) -> BoxFuture<'_, StoreResult<()>> {
        let key = key.clone();
        Box::pin(async move { PgStore::set_opted_out(self, &key, opted_out, at).await })
    }

    fn contacts(&self) -> BoxFuture<'_, StoreResult<Vec<Contact>>> {
        Box::pin(PgStore::contacts(self))
    }

    fn queue_notices(&self, notices: Vec<Notice>) -> BoxFuture<'_, StoreResult<usize>> {
        Box::pin(PgStore::queue_notices(self, notices))
    }

    fn release_notices(&self, limit: usize) -> BoxFuture<'_, StoreResult<Vec<OutboxEntry>>> {
        Box::pin(PgStore::release_notices(self, limit))
    }

    fn notices_waiting(&self) -> BoxFuture<'_, StoreResult<u64>> {
        Box::pin(PgStore::notices_waiting(self))
    }

    fn requeue_notices(&self) -> BoxFuture<'_, StoreResult<u64>> {
        Box::pin(PgStore::requeue_notices(self))
    }

    fn hold_attempted_notices(
        &self,
        channel: Channel,
        until: u64,
    ) -> BoxFuture<'_, StoreResult<u64>> {
        Box::pin(PgStore::hold_attempted_notices(self, channel, until))
    }

    fn confirm_notices(&self, ids: Vec<String>) -> BoxFuture<'_, StoreResult<u64>> {
        Box::pin(PgStore::confirm_notices(self, ids))
    }

    fn close_attempted_notices(&self) -> BoxFuture<'_, StoreResult<Vec<(Channel, u64)>>> {
        Box::pin(PgStore::close_attempted_notices(self))
    }
}

impl Payments for PgStore {
    fn payments_of(&self, client_id: &str) -> BoxFuture<'_, StoreResult<Vec<Payment>>> {
        let client_id = client_id.to_string();
        Box::pin(async move { PgStore::payments_of(self, &client_id).await })
    }

    fn report_payment(
        &self,
        client_id: &str,
        receipt: &str,
        reporter: &ConversationKey,
    ) -> BoxFuture<'_, StoreResult<Option<Payment>>> {
        let (client_id, receipt, reporter) =
            (client_id.to_string(), receipt.to_string(), reporter.clone());
        Box::pin(
            async move { PgStore::report_payment(self, &client_id, &receipt, &reporter).await },
        )
    }

    fn period_and_overdue(&self, period: &str) -> BoxFuture<'_, StoreResult<Vec<Payment>>> {
        let period = period.to_string();
        Box::pin(async move { PgStore::period_and_overdue(self, &period).await })
    }

    fn pending_due(&self, dues: Vec<String>) -> BoxFuture<'_, StoreResult<Vec<Payment>>> {
        Box::pin(PgStore::pending_due(self, dues))
    }

    fn settle_payment(
        &self,
        id: &str,
        verdict: Verdict,
        on: &str,
    ) -> BoxFuture<'_, StoreResult<Option<Payment>>> {
        let (id, on) = (id.to_string(), on.to_string());
        Box::pin(async move { PgStore::settle_payment(self, &id, verdict, &on).await })
    }
}
