//! Proactive notices (a zone outage declared, its ETA changed, service restored): who can be
//! reached and how, and the campaigns that tell them.
//!
//! - **Contacts:** who wrote to the bot, on which channel, with the phone they shared (a
//!   WhatsApp id is one), when they last wrote (the WhatsApp 24-hour window) and whether they
//!   asked for no notices ("BAJA AVISOS").
//! - **Campaigns:** notices queued once each under a per-client key
//!   (`notice:<outage>:<event>:<channel>:<user>`), then released into the reply outbox a few at
//!   a time, at the configured rate, in the same transaction that marks them released: a
//!   crash anywhere loses none and queues none twice.

use super::{BoxFuture, OutboxEntry, StoreResult};
use crate::model::{Channel, ConversationKey, Reply, Template};

/// The prefix of every notice's id (and its outbox entry's).
pub const NOTICE_PREFIX: &str = "notice:";
/// The prefix of a payment reminder's id (a notice too).
pub const REMINDER_PREFIX: &str = "notice:reminder:";

/// Whether an outbox id is a notice's (an outage notice or a payment reminder): sent on the
/// bot's own initiative, not in answer to a message.
pub fn is_notice(outbox_id: Option<&str>) -> bool {
    outbox_id.is_some_and(|id| id.starts_with(NOTICE_PREFIX))
}

/// Someone who wrote to the bot.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Contact {
    pub key: ConversationKey,
    /// The phone they shared (on WhatsApp, their number), when known.
    pub phone: Option<String>,
    /// When they last wrote, as far as the store knows (Unix seconds; recorded at most
    /// hourly, so it may be up to an hour older than the truth: never younger).
    pub last_inbound: u64,
    pub opted_out: bool,
}

/// A notice to queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// `notice:<outage>:<event>:<channel>:<user>`: queued once, whatever repeats.
    pub id: String,
    pub key: ConversationKey,
    pub reply: Reply,
    /// On WhatsApp outside the 24-hour window: the template sent instead of the text.
    pub template: Option<Template>,
    /// Unix seconds.
    pub queued_at: u64,
}

/// Contacts and campaigns. Every method is atomic on its own.
pub trait Notices: Send + Sync + 'static {
    /// Records that `key` wrote at `at`, with the phone they shared, if any (kept when none).
    fn touch_contact(
        &self,
        key: &ConversationKey,
        phone: Option<String>,
        at: u64,
    ) -> BoxFuture<'_, StoreResult<()>>;

    /// Turns notices off (or on again) for `key`; a contact not seen before is recorded.
    fn set_opted_out(
        &self,
        key: &ConversationKey,
        opted_out: bool,
        at: u64,
    ) -> BoxFuture<'_, StoreResult<()>>;

    /// Every contact.
    fn contacts(&self) -> BoxFuture<'_, StoreResult<Vec<Contact>>>;

    /// Queues notices; one queued before under the same id is left alone. Returns how many
    /// were new.
    fn queue_notices(&self, notices: Vec<Notice>) -> BoxFuture<'_, StoreResult<usize>>;

    /// Moves up to `limit` queued notices, oldest first, into the reply outbox (same ids) and
    /// marks them released, at once. Returns the outbox entries that were new.
    fn release_notices(&self, limit: usize) -> BoxFuture<'_, StoreResult<Vec<OutboxEntry>>>;

    /// Notices queued and not yet released.
    fn notices_waiting(&self) -> BoxFuture<'_, StoreResult<u64>>;

    /// At start: notices released into the outbox and never handed to a platform go back to
    /// their campaign, to leave again at its pace (not all at once after a restart). Returns
    /// how many.
    fn requeue_notices(&self) -> BoxFuture<'_, StoreResult<u64>>;

    /// At start, on a channel whose platform confirms deliveries (WhatsApp's statuses carry
    /// the notice's id): notices handed to it before the stop and not marked sent go back to
    /// their campaign, held until `until` (Unix seconds). One confirmed before then
    /// ([`Notices::confirm_notices`]) is never sent again; the others leave again after it.
    /// Returns how many were held.
    fn hold_attempted_notices(
        &self,
        channel: Channel,
        until: u64,
    ) -> BoxFuture<'_, StoreResult<u64>>;

    /// The platform confirmed these notices arrived: those held
    /// ([`Notices::hold_attempted_notices`]) are closed, never released again, and those handed
    /// over in this run and not marked sent yet (the status came before the platform's answer)
    /// are marked sent. Any other id changes nothing. Returns how many were held.
    fn confirm_notices(&self, ids: Vec<String>) -> BoxFuture<'_, StoreResult<u64>>;

    /// At start, after the holds: notices handed to a platform before the stop and never
    /// confirmed are closed, not sent again (a notice arrives at most once). Returns how
    /// many, per channel.
    fn close_attempted_notices(&self) -> BoxFuture<'_, StoreResult<Vec<(Channel, u64)>>>;
}
