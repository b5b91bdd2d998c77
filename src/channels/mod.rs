//! One sender for every channel: the replies of the conversations go out to a platform within
//! its limits, in order per recipient, each sent once, and nothing waits for a restart.
//!
//! A platform (WhatsApp's Graph API, Telegram's Bot API) implements the small [`Platform`]
//! trait: address a reply, render it as the platform's messages, send one, classify an error.
//! Everything else is written once, here:
//! - [`scheduler`]: the sender actor. One lane per recipient (its queue and its token bucket),
//!   at most one job per lane at a time (the jobs of all lanes polled together on one task, not
//!   a task per send), so replies to one recipient go out
//!   in order (the parts of a split reply together) and a recipient that is slow, rate limited
//!   or failing never holds back the others. A lane's job starts when the platform's bucket
//!   has a token, lanes in the order they became ready; the replies waiting in the lane then
//!   leave as one message ([`coalesce`]). Past `memory_queue` replies waiting, the backlog
//!   waits in the outbox on disk and is read back in order ([`scheduler::spill`]). Read
//!   receipts have lanes of their own, [`RECEIPT_LANES`] of them running side by side, paced by
//!   the platform's bucket only.
//! - [`jobs`]: a job: pacing (a token of the platform's bucket, `send_per_second`, and of the
//!   recipient's, `lane_burst` refilled at `lane_per_second`, on tokio's clock), retries (a rate
//!   limit waits what the platform asks, else an exponential backoff with jitter, at most
//!   [`crate::pacing::RATE_LIMITED_RETRY_FACTOR`] × `max_retries` times; a transient failure at
//!   most `max_retries` times; a refusal for good never), and the durable outbox: a reply is
//!   marked attempted before its first request and sent once every part was accepted.
//! - [`handle`]: [`ChannelSender`], the cheap handle the conversations deliver to; the outbox
//!   sweep (unsent replies offered again while the process runs, after a backoff); the drain
//!   at shutdown; and the restart of a failed sender by the root supervisor, which resumes from
//!   the outbox.
//!
//! Metrics: `redsol_messages_sent_total{channel,outcome}` once per platform message (`ok`,
//! `error` when retries ran out, and the platform's refusals: `rejected`, `blocked`);
//! `redsol_response_seconds{channel}` when a reply's last part is accepted (answers only, not
//! notices);
//! `redsol_rate_limited_total{channel,direction="outbound"}` once per message that waited;
//! `redsol_read_receipts_total{channel,outcome}` (`sent`, `failed`, `dropped` past
//! [`MAX_QUEUED_RECEIPTS`]); `redsol_replies_coalesced_total{channel}` (replies that rode in
//! another's message); `redsol_replies_spilled_total{channel}` (replies left on disk past
//! `memory_queue`). Logs name a conversation by its opaque id, never by phone or text.

mod coalesce;
pub mod handle;
mod jobs;
pub mod media;
mod quota;
mod scheduler;

pub use handle::ChannelSender;

use crate::pacing::Retries;
use crate::shared_rate::{SharedRate, Sharing};
use redsol_actors::model::{Channel, Outbound};
use std::future::Future;
use std::time::Duration;

/// Replies a sender holds in memory unless configured otherwise.
pub const DEFAULT_MEMORY_QUEUE: usize = 10_000;
/// How many read-receipt lanes run side by side.
pub const RECEIPT_LANES: usize = 4;
/// The most read receipts waiting; past it they are dropped (best effort, and counted).
pub const MAX_QUEUED_RECEIPTS: usize = 1_000;

/// What the sender does with a failed request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The platform asks to slow down: wait `retry_after` (else a backoff) and retry;
    /// `whole_channel` holds every recipient for that long, not only this one.
    RateLimited {
        retry_after: Option<Duration>,
        whole_channel: bool,
    },
    /// A 5xx, a timeout, a network error: retry after a backoff.
    Transient,
    /// Refused for good, not retried. `outcome` labels `redsol_messages_sent_total`; `close`
    /// closes a durable reply's outbox entry (sending it again would be refused again), else
    /// the entry stays for after an operator's fix (our credentials were refused).
    Refused { outcome: &'static str, close: bool },
    /// Not the message's fault and not worth retrying now (our token refused): the outbox
    /// keeps the reply for a later sweep.
    GiveUp,
}

/// A platform's limits and retries, from its config section.
#[derive(Clone, Debug)]
pub struct Pacing {
    /// Requests per second for the whole bot or business number.
    pub send_per_second: f64,
    /// Messages one recipient may get at once, then `lane_per_second`.
    pub lane_burst: f64,
    pub lane_per_second: f64,
    pub retries: Retries,
    /// Whether read receipts are sent.
    pub mark_read: bool,
    /// The most replies held in memory; past it the backlog waits in the outbox on disk (see
    /// [`spill`]).
    pub memory_queue: usize,
    /// The account's rate, when replicas share it (`REDSOL_REDIS_URL`); else this sender's own.
    pub shared: Option<SharedRate>,
    /// The part of `send_per_second` a sender uses on its own while the shared rate cannot be
    /// reached.
    pub fallback_share: f64,
}

impl Pacing {
    /// The limits made sane: at least one request a second, one message a burst; a
    /// nonsensical rate (zero, negative, NaN) becomes the slowest one.
    pub fn new(
        send_per_second: u32,
        lane_burst: u32,
        lane_per_second: f64,
        retries: Retries,
    ) -> Pacing {
        Pacing {
            send_per_second: f64::from(send_per_second.max(1)),
            lane_burst: f64::from(lane_burst.max(1)),
            // NaN.max(x) is x.
            lane_per_second: lane_per_second.max(0.001),
            retries,
            mark_read: false,
            memory_queue: DEFAULT_MEMORY_QUEUE,
            shared: None,
            fallback_share: 1.0,
        }
    }

    /// Shares the account's rate as `sharing` says (its bucket named by `account`); one
    /// process keeps its own without it.
    pub fn shared_through(mut self, sharing: Option<&Sharing>, account: &str) -> Pacing {
        if let Some(sharing) = sharing {
            let rate = self.send_per_second;
            let bucket = sharing
                .store
                .bucket(account.to_string(), rate, jobs::global_burst(rate));
            self.shared = Some(bucket);
            self.fallback_share = sharing.fallback_share.clamp(0.01, 1.0);
        }
        self
    }
}

/// What a channel's sender needs of its platform.
pub trait Platform: Send + Sync + 'static {
    /// One message on the platform's wire.
    type Part: Send + Sync + 'static;
    type Error: std::fmt::Display + Send + Sync + 'static;
    const CHANNEL: Channel;

    /// Who a reply goes to (the lane): the recipient, or the chat fixed when the message came
    /// in. `None` when the reply cannot be addressed; it is dropped and its entry closed.
    fn address(out: &Outbound) -> Option<String>;

    /// The platform messages of a reply to `to`, in order.
    fn render(to: &str, out: &Outbound) -> Vec<Self::Part>;

    /// `text`, `button`...: for logs, never the recipient or the text.
    fn kind(part: &Self::Part) -> &'static str;

    /// Sends one message. `edit`, on a one-part reply, names a message of ours whose text
    /// this one replaces (where the platform can).
    fn send(
        &self,
        to: &str,
        part: &Self::Part,
        edit: Option<&str>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Marks an inbound message read (only called when [`Pacing::mark_read`] is on).
    fn mark_read(&self, message_id: &str) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// How the sender handles an error.
    fn classify(error: &Self::Error) -> Verdict;
}

fn count_sent(channel: Channel, outcome: &'static str) {
    metrics::counter!("redsol_messages_sent_total", "channel" => channel.as_str(), "outcome" => outcome)
        .increment(1);
}

fn count_receipt(channel: Channel, outcome: &'static str) {
    metrics::counter!("redsol_read_receipts_total", "channel" => channel.as_str(), "outcome" => outcome)
        .increment(1);
}
