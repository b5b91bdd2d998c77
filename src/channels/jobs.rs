//! A sender's jobs: one reply (its parts in order, paced, retried, its outbox entry kept), or
//! one read receipt (best effort, one attempt).

use super::coalesce::Batch;
use super::quota::{self, Quota, Take};
use super::scheduler::spill::OnDisk;
use super::scheduler::{JobOutcome, Reporter};
use super::{count_receipt, count_sent, Pacing, Platform, Verdict};
use crate::outbox::Ledger;
use crate::pacing::TokenBucket;
use redsol_actors::model::Opaque;
use redsol_actors::store::notices::is_notice;
use redsol_actors::store::Store;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// The platform bucket's burst: a tenth of a second's worth (at least one), so that no second
/// sees more than about 1.1 times the rate (a burst of a whole second's worth on top of the
/// rate would let through twice the platform's limit in one second).
pub(super) fn global_burst(rate: f64) -> f64 {
    (rate / 10.0).max(1.0)
}

/// What a sender's jobs share, across restarts of its actor.
pub(crate) struct Shared<P: Platform> {
    pub platform: P,
    pub store: Arc<dyn Store>,
    pub pacing: Pacing,
    /// The platform's tokens: the whole bot or business number (see [`global_burst`]), this
    /// sender's own or shared by replicas.
    global: Arc<Mutex<Quota>>,
    /// What the sender knows of the outbox ids it has seen; it outlives a restart, so a reply
    /// sent before is not sent again, nor a part of a half-sent one.
    ledger: Mutex<Ledger>,
    /// Replies left on disk while the backlog is read back (see [`super::spill`]).
    pub on_disk: OnDisk,
}

impl<P: Platform> Shared<P> {
    pub fn new(platform: P, pacing: Pacing, store: Arc<dyn Store>) -> Shared<P> {
        let rate = pacing.send_per_second;
        let global = match &pacing.shared {
            Some(shared) => quota::fed(P::CHANNEL, shared.clone(), pacing.fallback_share),
            None => Arc::new(Mutex::new(Quota::Own(TokenBucket::full(
                global_burst(rate),
                rate,
                Instant::now(),
            )))),
        };
        Shared {
            platform,
            store,
            global,
            ledger: Mutex::new(Ledger::new(pacing.retries.clone())),
            on_disk: OnDisk::default(),
            pacing,
        }
    }

    /// A full bucket for one recipient.
    pub fn lane_bucket(&self, now: Instant) -> TokenBucket {
        TokenBucket::full(self.pacing.lane_burst, self.pacing.lane_per_second, now)
    }

    pub fn ledger<T>(&self, f: impl FnOnce(&mut Ledger) -> T) -> T {
        let mut guard = match self.ledger.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }

    fn with_global<T>(&self, f: impl FnOnce(&mut Quota) -> T) -> T {
        f(&mut quota::lock(&self.global))
    }

    /// Takes a token of the platform if one is there now; else how long until one is.
    pub fn try_token(&self, now: Instant) -> Result<(), Duration> {
        self.with_global(|b| b.try_take(now))
    }

    /// Waits for a token of the recipient (if any) and of the platform; `true` if it waited.
    async fn pace(&self, recipient: Option<&mut TokenBucket>) -> bool {
        let mut waited = false;
        if let Some(bucket) = recipient {
            let wait = bucket.take(Instant::now());
            if !wait.is_zero() {
                waited = true;
                tokio::time::sleep(wait).await;
            }
        }
        loop {
            match self.with_global(|q| q.take(Instant::now())) {
                Take::After(wait) => {
                    if !wait.is_zero() {
                        waited = true;
                        tokio::time::sleep(wait).await;
                    }
                    return waited;
                }
                Take::Retry(wait) => {
                    waited = true;
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

fn count_rate_limited<P: Platform>() {
    metrics::counter!("redsol_rate_limited_total", "channel" => P::CHANNEL.as_str(), "direction" => "outbound")
        .increment(1);
}

/// Why a message was not sent.
enum Failure<E> {
    /// Refused for good (see [`Verdict::Refused`]).
    Refused {
        error: E,
        outcome: &'static str,
        close: bool,
    },
    /// Retries ran out, or the platform refused our credentials: worth sending again later.
    GaveUp(E),
}

/// Sends one message, paced, with the retries of the policy; `prepaid` when its first try
/// has its tokens (the platform's and the recipient's) already.
async fn send_with_retries<P: Platform>(
    shared: &Shared<P>,
    bucket: &mut TokenBucket,
    to: &str,
    part: &P::Part,
    edit: Option<&str>,
    conversation: Opaque<'_>,
    mut prepaid: bool,
) -> Result<(), Failure<P::Error>> {
    let retries = &shared.pacing.retries;
    let (mut transient, mut limited) = (0u32, 0u32);
    let mut counted = false;
    loop {
        // The first try's tokens, when the scheduler took them, are spent already.
        let waited = !prepaid && shared.pace(Some(bucket)).await;
        prepaid = false;
        if waited && !counted {
            counted = true;
            count_rate_limited::<P>();
        }
        let error = match shared.platform.send(to, part, edit).await {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        let delay = match P::classify(&error) {
            Verdict::Refused { outcome, close } => {
                return Err(Failure::Refused {
                    error,
                    outcome,
                    close,
                })
            }
            Verdict::GiveUp => return Err(Failure::GaveUp(error)),
            Verdict::RateLimited {
                retry_after,
                whole_channel,
            } => {
                if limited >= retries.max_rate_limited {
                    return Err(Failure::GaveUp(error));
                }
                let delay = retry_after.unwrap_or_else(|| retries.backoff(limited));
                limited += 1;
                if whole_channel {
                    let until = Instant::now() + delay;
                    shared.with_global(|b| b.hold(until));
                }
                if !counted {
                    counted = true;
                    count_rate_limited::<P>();
                }
                delay
            }
            Verdict::Transient => {
                if transient >= retries.max {
                    return Err(Failure::GaveUp(error));
                }
                let delay = retries.backoff(transient);
                transient += 1;
                delay
            }
        };
        tracing::info!(
            channel = P::CHANNEL.as_str(),
            conversation = %conversation,
            kind = P::kind(part),
            error = %error,
            retry_in_ms = delay.as_millis() as u64,
            retries = transient + limited,
            "send failed; retrying"
        );
        tokio::time::sleep(delay).await;
    }
}

/// Marks an outbox entry sent (or closed), with one retry: a failure only means it may be
/// sent again after a restart.
pub(crate) async fn close_outbox(store: &dyn Store, id: &str, conversation: Opaque<'_>) {
    for attempt in 0..2 {
        match store.outbox_sent(id).await {
            Ok(()) => return,
            Err(e) if attempt == 0 => {
                tracing::warn!(error = %e, conversation = %conversation, "could not mark an outbox reply sent; trying again");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => tracing::error!(
                error = %e,
                conversation = %conversation,
                "could not mark an outbox reply sent; it may be sent again after a restart"
            ),
        }
    }
}

/// The job of one reply to `to` (several joined, see [`Batch`]): its messages in order, from
/// part `skip` on, the first with the platform's token the scheduler took.
pub(crate) async fn send_reply<P: Platform>(
    shared: Arc<Shared<P>>,
    mut reporter: Reporter,
    mut bucket: TokenBucket,
    to: String,
    batch: Batch,
    skip: usize,
) {
    let channel = P::CHANNEL;
    let out = &batch.out;
    let conversation = out.key.opaque();
    let parts = P::render(&to, out);
    let total = parts.len();
    let mut outcome = JobOutcome::Sent;
    let ids: Vec<&str> = batch
        .members
        .iter()
        .filter_map(|m| m.outbox_id.as_deref())
        .collect();
    let mut ours = true;
    for id in &ids {
        ours &= crate::outbox::mark_attempted(shared.store.as_ref(), id, conversation).await;
    }
    if !ours {
        // Sent already, or another replica's now: nothing goes from here. What is still this
        // replica's is offered again by the outbox sweep.
        reporter.finish(JobOutcome::Interrupted, bucket);
        return;
    }
    // Only a one-part reply replaces a message; a longer one goes as new messages.
    let edit = out.edit.as_deref().filter(|_| total == 1);
    let mut prepaid = true;
    for (i, part) in parts.iter().enumerate().skip(skip) {
        let sent = send_with_retries(&shared, &mut bucket, &to, part, edit, conversation, prepaid);
        prepaid = false;
        match sent.await {
            Ok(()) => {
                count_sent(channel, "ok");
                reporter.accepted(i + 1);
                tracing::debug!(
                    channel = channel.as_str(),
                    conversation = %conversation,
                    kind = P::kind(part),
                    part = i + 1,
                    parts = total,
                    replies = batch.members.len(),
                    "message accepted"
                );
            }
            Err(Failure::Refused {
                error,
                outcome: label,
                close,
            }) => {
                count_sent(channel, label);
                let closed = close && !ids.is_empty();
                tracing::warn!(
                    channel = channel.as_str(),
                    conversation = %conversation,
                    kind = P::kind(part),
                    part = i + 1,
                    parts = total,
                    error = %error,
                    outcome = label,
                    outbox_closed = closed,
                    "the platform refused a message for good; not retried"
                );
                if closed {
                    for id in &ids {
                        close_outbox(shared.store.as_ref(), id, conversation).await;
                    }
                }
                outcome = if closed {
                    JobOutcome::Closed
                } else {
                    JobOutcome::Failed
                };
                break;
            }
            Err(Failure::GaveUp(error)) => {
                count_sent(channel, "error");
                tracing::error!(
                    channel = channel.as_str(),
                    conversation = %conversation,
                    kind = P::kind(part),
                    part = i + 1,
                    parts = total,
                    error = %error,
                    durable = !ids.is_empty(),
                    "message not sent after its retries (a durable reply is offered again by the outbox sweep)"
                );
                outcome = JobOutcome::Failed;
                break;
            }
        }
    }
    if outcome == JobOutcome::Sent {
        // Counted once the platform has the message: a batch cut short by a failure or a
        // kill is joined again when it is offered again, and counts then.
        let joined = batch.members.len();
        if joined > 1 {
            metrics::counter!("redsol_replies_coalesced_total", "channel" => channel.as_str())
                .increment(joined as u64 - 1);
        }
        if total > skip {
            // Answers to messages only: a notice answers none.
            let answers = batch
                .members
                .iter()
                .filter(|m| !m.resent && !is_notice(m.outbox_id.as_deref()));
            for member in answers {
                metrics::histogram!("redsol_response_seconds", "channel" => channel.as_str())
                    .record(member.accepted_at.elapsed().as_secs_f64());
            }
        }
        for id in &ids {
            close_outbox(shared.store.as_ref(), id, conversation).await;
        }
    }
    reporter.finish(outcome, bucket);
}

/// The job of one read receipt: paced by the platform's bucket, one attempt.
pub(crate) async fn send_receipt<P: Platform>(
    shared: Arc<Shared<P>>,
    reporter: Reporter,
    message_id: String,
) {
    // Reports (the lane free again) when the job ends, whichever way.
    let _reporter = reporter;
    shared.pace(None).await;
    match shared.platform.mark_read(&message_id).await {
        Ok(()) => count_receipt(P::CHANNEL, "sent"),
        Err(error) => {
            count_receipt(P::CHANNEL, "failed");
            tracing::debug!(channel = P::CHANNEL.as_str(), error = %error, "read receipt not sent (best effort)");
        }
    }
}
