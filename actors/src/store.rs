//! The store seam: everything the conversation engine reads or writes outside itself.
//!
//! Two backends implement [`Store`]: SQLite (the embedded default, in the `redsol` binary crate)
//! and, later, Google Sheets. [`MemoryStore`] is a complete in-memory implementation used by the
//! actor tests and benchmarks.

use crate::model::{
    Channel, Client, ConversationKey, Incident, NewIncident, NewProspect, PendingRequest, Priority,
    Prospect, Reply,
};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

pub mod handoff;
mod memory;
pub mod notices;
pub mod outages;
pub mod ownership;
pub mod payments;
pub mod tickets;

pub use memory::MemoryStore;

/// A boxed, sendable future: what the object-safe [`Store`] trait returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Why a store call failed. The text is for operators' logs, never for users.
#[derive(Clone, Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store unavailable: {0}")]
    Unavailable(String),
    #[error("store data invalid: {0}")]
    Invalid(String),
    /// The turn was refused: its conversation is no longer this replica's (another took its
    /// lease), or its message was answered already. Nothing of the turn was written.
    #[error("turn fenced: {0}")]
    Fenced(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// An inbound message kept in the journal until it has been answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JournalEntry {
    pub key: ConversationKey,
    pub message_id: String,
    /// The message as the channel serialized it (JSON of [`crate::model::Content`] and profile).
    pub payload: String,
}

/// A reply kept in the outbox until its channel has sent it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutboxEntry {
    /// `channel:message_id:n`: unique per reply, so a replayed turn cannot queue it twice.
    pub id: String,
    pub key: ConversationKey,
    pub reply: Reply,
    pub in_reply_to: Option<String>,
    /// When the turn queued it (seconds since the Unix epoch).
    pub queued_at: u64,
    /// Where it goes when not to the user's own chat (see [`crate::model::Outbound`]).
    pub reply_to: Option<String>,
    /// Whether a sender handed it to the platform before (see [`Store::outbox_attempted`]):
    /// sent again after a restart, it may arrive twice.
    pub attempted: bool,
    /// The message it replaces (see [`crate::model::Outbound::edit`]).
    pub edit: Option<String>,
    /// The WhatsApp template sent instead of the text (see [`crate::model::Outbound::template`]).
    pub template: Option<crate::model::Template>,
}

impl OutboxEntry {
    /// The id of the `n`th reply to a journaled message.
    pub fn id_for(key: &ConversationKey, message_id: &str, n: usize) -> String {
        format!("{}:{}:{}", key.channel, message_id, n)
    }
}

/// A page of a channel's unsent replies (see [`Store::outbox_page`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutboxPage {
    pub entries: Vec<OutboxEntry>,
    /// The position to read on from: that of the last entry, or the one asked for when the
    /// page is empty.
    pub next: u64,
}

/// What one turn changes, committed at once: the conversation's snapshot, the inbound message
/// marked answered, and the replies queued in the outbox. A crash before the commit replays
/// the message from the journal on the old snapshot; after it, the replies are in the outbox.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TurnCommit {
    pub key: ConversationKey,
    /// The answered message, when it was journaled.
    pub message_id: Option<String>,
    pub snapshot: String,
    /// Durable replies (only for journaled messages).
    pub replies: Vec<OutboxEntry>,
    /// The fencing token of the conversation's lease the turn ran under, when replicas share
    /// the conversations ([`ownership::Ownership`]): a stale one makes the commit [`StoreError::Fenced`].
    pub lease: Option<u64>,
}

/// Everything outside the conversation that the engine needs. All methods are cheap to call
/// concurrently; implementations do their blocking work off the async workers.
pub trait Store: Send + Sync + 'static {
    /// The handoffs to a person.
    fn handoffs(&self) -> &dyn handoff::Handoffs;

    /// Tickets' follow-up: closing, rating, reopening.
    fn tickets(&self) -> &dyn tickets::Tickets;

    /// Zone outages and the reports linked to them.
    fn outages(&self) -> &dyn outages::Outages;

    /// How replicas share the conversations; `None`: this process owns them all.
    fn ownership(&self) -> Option<&dyn ownership::Ownership> {
        None
    }

    /// Contacts and the campaigns of notices that tell them.
    fn notices(&self) -> &dyn notices::Notices;

    /// Clients' payments by period.
    fn payments(&self) -> &dyn payments::Payments;

    /// Tickets staff closed outside redsol (`(id, status)`, say in the sheet), for their
    /// customers to be told; the first call takes the stream. Backends nobody else edits have
    /// none.
    fn closed_elsewhere(&self) -> Option<tickets::ClosedElsewhere> {
        None
    }

    /// `sqlite`, `sheets` or `memory`: the `backend` label of `redsol_store_request_seconds`.
    fn backend(&self) -> &'static str;

    /// Every client (a cached snapshot; cheap to call).
    fn clients(&self) -> BoxFuture<'_, StoreResult<Arc<Vec<Client>>>>;

    /// Saves a prospect and returns it with its id. A prospect with a `source` the store has
    /// seen is not saved again: the one saved then is returned (a replayed message).
    fn save_prospect(&self, prospect: NewProspect) -> BoxFuture<'_, StoreResult<Prospect>>;

    /// Saves an incident and returns it with its ticket id; like [`Store::save_prospect`], once
    /// per `source`.
    fn create_incident(&self, incident: NewIncident) -> BoxFuture<'_, StoreResult<Incident>>;

    /// The incidents reported from one conversation, newest first.
    fn incidents_for(&self, key: &ConversationKey) -> BoxFuture<'_, StoreResult<Vec<Incident>>>;

    /// Open incidents counted by priority.
    fn open_incidents_by_priority(&self) -> BoxFuture<'_, StoreResult<Vec<(Priority, u64)>>>;

    /// Records a request for staff (human handoff, billing question); once per `source` and
    /// kind.
    fn record_request(&self, request: PendingRequest) -> BoxFuture<'_, StoreResult<()>>;

    /// The last snapshot of a conversation's state, if any.
    fn load_snapshot(&self, key: &ConversationKey) -> BoxFuture<'_, StoreResult<Option<String>>>;

    /// Replaces the snapshot of a conversation.
    fn save_snapshot(&self, key: &ConversationKey, state: String)
        -> BoxFuture<'_, StoreResult<()>>;

    /// Forgets a conversation's snapshot (it starts clean next time).
    fn delete_snapshot(&self, key: &ConversationKey) -> BoxFuture<'_, StoreResult<()>>;

    /// Journals an inbound message before it is acknowledged to the platform. Returns `false`
    /// when that message id was journaled before (a redelivery, to be answered once).
    fn journal_inbound(&self, entry: JournalEntry) -> BoxFuture<'_, StoreResult<bool>>;

    /// Journals the messages of one delivery together (one transaction where the backend has
    /// them): for each, whether it was new. All or none are journaled.
    fn journal_inbound_all(
        &self,
        entries: Vec<JournalEntry>,
    ) -> BoxFuture<'_, StoreResult<Vec<bool>>> {
        Box::pin(async move {
            let mut new = Vec::with_capacity(entries.len());
            for entry in entries {
                new.push(self.journal_inbound(entry).await?);
            }
            Ok(new)
        })
    }

    /// Marks a journaled message as answered.
    fn journal_done(
        &self,
        key: &ConversationKey,
        message_id: &str,
    ) -> BoxFuture<'_, StoreResult<()>>;

    /// Journaled messages not yet answered (after a crash), oldest first.
    fn journal_pending(&self) -> BoxFuture<'_, StoreResult<Vec<JournalEntry>>>;

    /// Commits a turn: snapshot, journal entry done, replies into the outbox (ids already
    /// there are left alone).
    fn commit_turn(&self, commit: TurnCommit) -> BoxFuture<'_, StoreResult<()>>;

    /// Queues replies made outside any turn (a closed ticket's notice, a sweep's); a reply
    /// whose id is already queued is left alone. The ids of those that were new.
    fn queue_replies(&self, replies: Vec<OutboxEntry>) -> BoxFuture<'_, StoreResult<Vec<String>>>;

    /// Marks an outbox reply as sent.
    fn outbox_sent(&self, id: &str) -> BoxFuture<'_, StoreResult<()>>;

    /// Marks an outbox reply as handed to the platform, before its first request: after a
    /// crash, only replies so marked and not sent may reach the user twice. Returns whether
    /// this process may send it: not when the outbox holds it sent, nor when another replica
    /// holds its claim (it took the reply over while this one could not renew its claim). An
    /// id the outbox does not hold may be sent.
    fn outbox_attempted(&self, id: &str) -> BoxFuture<'_, StoreResult<bool>>;

    /// Unsent outbox replies of a channel, oldest first (all of them: [`Store::outbox_page`]
    /// reads them a page at a time).
    fn outbox_pending(&self, channel: Channel) -> BoxFuture<'_, StoreResult<Vec<OutboxEntry>>> {
        Box::pin(async move {
            self.outbox_page(channel, 0, usize::MAX)
                .await
                .map(|page| page.entries)
        })
    }

    /// At most `limit` unsent outbox replies of a channel queued after position `after` (0:
    /// from the first), oldest first: how a sender reads back a backlog that waits on disk,
    /// a page at a time.
    fn outbox_page(
        &self,
        channel: Channel,
        after: u64,
        limit: usize,
    ) -> BoxFuture<'_, StoreResult<OutboxPage>>;

    /// Whether the backend answers now: a remote one is asked (within its timeout); a local
    /// one is always there. `/ready` turns 503 while it does not.
    fn ping(&self) -> BoxFuture<'_, StoreResult<()>> {
        Box::pin(std::future::ready(Ok(())))
    }

    /// On shutdown: gives writes still queued for a remote backend up to `within` to land
    /// (they stay queued for the next start otherwise). Local backends have nothing to do.
    fn flush(&self, _within: std::time::Duration) -> BoxFuture<'_, ()> {
        Box::pin(std::future::ready(()))
    }

    /// Forgets what [`Retention`] says is old at `now` (Unix seconds), and publishes the rows
    /// kept. Backends that keep nothing of the kind have nothing to do.
    fn prune(&self, _now: u64, _retention: Retention) -> BoxFuture<'_, StoreResult<()>> {
        Box::pin(std::future::ready(Ok(())))
    }
}

/// How long the store keeps what it keeps for the conversations' sake (records for staff, the
/// clients, prospects and incidents, are never pruned).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    /// Journal rows of messages answered (raw customer text; a redelivery after this is
    /// answered again).
    pub journal_days: u32,
    /// Outbox rows of replies sent.
    pub outbox_days: u32,
    /// Snapshots of conversations idle this long (they start afresh).
    pub snapshot_days: u32,
    /// Requests recorded for staff.
    pub request_days: u32,
}

/// `YYYY-MM-DD HH:MM:SS` of `days` before `now` (Unix seconds): where retention cuts, as the
/// stored timestamps compare (as text).
pub fn cutoff_utc(now: u64, days: u32) -> String {
    format_utc(now.saturating_sub(u64::from(days) * 86_400))
}

/// The current time in UTC as `YYYY-MM-DD HH:MM:SS`, without a date crate.
pub fn now_utc() -> String {
    format_utc(unix_now())
}

/// Seconds since the Unix epoch (0 on a clock before it).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Formats seconds since the Unix epoch as `YYYY-MM-DD HH:MM:SS` (UTC).
pub fn format_utc(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to a (year, month, day) date; Howard Hinnant's algorithm.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// The inverse of [`civil_from_days`]: days since 1970-01-01 of a (year, month, day) date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Formats a ticket id: `INC-000123`.
pub fn incident_id(seq: u64) -> String {
    format!("INC-{seq:06}")
}

/// Formats a prospect id: `PRO-000123`.
pub fn prospect_id(seq: u64) -> String {
    format!("PRO-{seq:06}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_formatting_matches_known_dates() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00:00");
        assert_eq!(format_utc(1_798_761_599), "2026-12-31 23:59:59");
    }
}
