//! The WhatsApp sender: the replies of the conversations, out to the Graph API within Meta's
//! limits, each sent once.
//!
//! [`WhatsAppOutbound`] is a cheap handle on the [`WhatsAppSender`] actor; its
//! [`sink`](WhatsAppOutbound::sink) is what the conversations deliver to (a cast: it never
//! blocks). The actor is a scheduler: it keeps one lane per recipient, with its queue and its
//! token bucket, and runs at most one job per lane at a time in a task of its own, so:
//! - replies to one recipient go out in order, the parts of a split reply together;
//! - a recipient that is slow, rate limited or failing never holds back the others.
//!
//! Pacing: every Graph request takes a token from the business number's bucket
//! (`send_per_second`) and, for messages, one from its recipient's bucket (`recipient_burst`
//! refilled at `recipient_per_second`). Time is tokio's, so tests can pause it. A message that
//! had to wait is counted once in `redsol_rate_limited_total{channel="whatsapp",
//! direction="outbound"}`.
//!
//! Retries: a rate-limited answer waits its `Retry-After`, else an exponential backoff with
//! jitter, and is retried (at most [`RATE_LIMITED_RETRY_FACTOR`] × `max_retries` times); a
//! limit of the whole number (every code but the pair rate limit 131056) also holds every
//! other recipient for that long. Transient errors, timeouts and connection failures are
//! retried with the same backoff at most `max_retries` times. A permanent rejection is not
//! retried.
//!
//! Outbox: once every part of a durable reply was accepted, `Store::outbox_sent` marks it.
//! When retries run out, the entry stays unsent and is offered again by the outbox sweep
//! ([`WhatsAppOutbound::sweep_outbox`], after a backoff) and at start
//! ([`WhatsAppOutbound::resend_pending`]). A permanent rejection of the message itself (a bad
//! parameter, a recipient out of reach) closes the entry, since sending it again would be
//! rejected again; a rejection of our credentials (401/403, OAuth or permission codes) leaves
//! it for after the operator's fix. In memory, the sender's [`crate::outbox::Ledger`] knows
//! the outbox ids it sent or holds (so a replayed or swept reply goes out once) and, for a
//! reply that failed halfway, how many parts were accepted (a retry never sends a part twice).
//!
//! Metrics: `redsol_messages_sent_total{channel="whatsapp",outcome}` once per Graph message
//! (`ok`, `error` when retries ran out, `rejected` for a permanent rejection);
//! `redsol_response_seconds{channel="whatsapp"}` when the last part of a reply is accepted.
//! Logs name a conversation by its opaque id, never by phone number or text.

use super::graph::{render, GraphClient, GraphError, GraphMessage};
use crate::settings::WhatsAppTuning;
use ractor::{Actor, ActorProcessingErr, ActorRef};
use redsol_actors::model::{Channel, Outbound, ReplySink};
use redsol_actors::store::Store;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::AbortHandle;
use tokio::time::Instant;

use crate::outbox::{Finish, Ledger};
/// Rate-limited answers are retried at most this many times `max_retries` (at least 4).
pub use crate::pacing::RATE_LIMITED_RETRY_FACTOR;
use crate::pacing::{InFlight, Retries, SenderHandle, TokenBucket};
/// The most replies waiting in the queues; past it a reply is dropped (its outbox entry, if
/// any, leaves at the next outbox sweep).
const MAX_QUEUED_REPLIES: usize = 100_000;
/// The most read receipts waiting; past it they are dropped (they are best effort).
const MAX_QUEUED_RECEIPTS: usize = 1_000;
/// Past this many lanes, idle lanes with a full bucket are forgotten.
const LANES_SWEEP_AT: usize = 10_000;

const CHANNEL: &str = "whatsapp";

fn count_sent(outcome: &'static str) {
    metrics::counter!("redsol_messages_sent_total", "channel" => CHANNEL, "outcome" => outcome)
        .increment(1);
}

fn count_rate_limited() {
    metrics::counter!("redsol_rate_limited_total", "channel" => CHANNEL, "direction" => "outbound")
        .increment(1);
}

/// The retry and pacing policy, from `[whatsapp]`.
#[derive(Clone, Debug)]
struct Policy {
    send_per_second: f64,
    recipient_burst: f64,
    recipient_per_second: f64,
    retries: Retries,
}

impl Policy {
    fn new(tuning: &WhatsAppTuning) -> Policy {
        Policy {
            send_per_second: f64::from(tuning.send_per_second.max(1)),
            recipient_burst: f64::from(tuning.recipient_burst.max(1)),
            // NaN.max(x) is x: a nonsensical rate becomes the slowest one.
            recipient_per_second: tuning.recipient_per_second.max(0.001),
            retries: Retries::new(
                tuning.max_retries,
                tuning.backoff_base_ms,
                tuning.backoff_max_secs,
            ),
        }
    }

    fn recipient_bucket(&self, now: Instant) -> TokenBucket {
        TokenBucket::full(self.recipient_burst, self.recipient_per_second, now)
    }
}

/// What the job tasks share.
struct Shared {
    client: GraphClient,
    store: Arc<dyn Store>,
    policy: Policy,
    /// The business number's bucket.
    global: Mutex<TokenBucket>,
}

impl Shared {
    fn with_global<T>(&self, f: impl FnOnce(&mut TokenBucket) -> T) -> T {
        let mut guard = match self.global.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }

    /// Waits for a token of the recipient (if any) and of the number; `true` if it waited.
    async fn pace(&self, recipient: Option<&mut TokenBucket>) -> bool {
        let mut waited = false;
        if let Some(bucket) = recipient {
            let wait = bucket.take(Instant::now());
            if !wait.is_zero() {
                waited = true;
                tokio::time::sleep(wait).await;
            }
        }
        let wait = self.with_global(|b| b.take(Instant::now()));
        if !wait.is_zero() {
            waited = true;
            tokio::time::sleep(wait).await;
        }
        waited
    }
}

/// A lane of work: one recipient's messages, or the read receipts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Lane {
    Recipient(String),
    ReadReceipts,
}

enum Job {
    Reply { out: Box<Outbound>, resent: bool },
    MarkRead(String),
}

struct LaneState {
    queue: VecDeque<Job>,
    /// The running job's task, if one runs.
    running: Option<AbortHandle>,
    /// The recipient's bucket; lent to the running job.
    bucket: Option<TokenBucket>,
}

/// How a job ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum JobOutcome {
    /// Every part accepted.
    Sent,
    /// Retries ran out on a part.
    Failed,
    /// A part was rejected for good; `closed` when its outbox entry was closed.
    Rejected { closed: bool },
    /// The task ended early (the sender stopping, or a bug).
    Interrupted,
}

/// What a finished job tells the actor.
pub struct JobReport {
    lane: Lane,
    bucket: Option<TokenBucket>,
    outbox_id: Option<String>,
    /// Parts of the reply accepted so far (the next part to send).
    accepted: usize,
    outcome: JobOutcome,
}

/// Sends the job's report when dropped: when the job ends, and also if its task is cancelled
/// or panics, so that its lane never stays busy.
struct Reporter {
    actor: ActorRef<WhatsAppSenderMsg>,
    report: Option<JobReport>,
}

impl Reporter {
    fn report(&mut self) -> Option<&mut JobReport> {
        self.report.as_mut()
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        if let Some(report) = self.report.take() {
            // Fails only when the sender has stopped, and then nobody waits for the report.
            let _ = self.actor.cast(WhatsAppSenderMsg::Done(Box::new(report)));
        }
    }
}

/// The messages of the sender actor.
pub enum WhatsAppSenderMsg {
    /// A reply to send; `resent` when it comes from the outbox after a restart (not timed in
    /// `redsol_response_seconds`).
    Send { out: Box<Outbound>, resent: bool },
    /// A read receipt for an inbound message id.
    MarkRead(String),
    /// A job finished (from its task).
    Done(Box<JobReport>),
}

/// The sender actor: a scheduler of per-recipient lanes.
pub struct WhatsAppSender;

/// Start-up arguments of [`WhatsAppSender`].
pub struct WhatsAppSenderArgs {
    shared: Arc<Shared>,
    pending: InFlight,
}

/// The state of [`WhatsAppSender`].
pub struct WhatsAppSenderState {
    shared: Arc<Shared>,
    /// Jobs accepted by the handle and not finished (queued, running or in the mailbox).
    pending: InFlight,
    lanes: HashMap<Lane, LaneState>,
    /// Replies waiting in the lanes (not running).
    queued_replies: usize,
    /// What this process knows of the outbox ids it has seen.
    ledger: Ledger,
}

impl WhatsAppSenderState {
    fn finish_one(&self) {
        self.pending.done();
    }

    fn enqueue(&mut self, myself: &ActorRef<WhatsAppSenderMsg>, lane: Lane, job: Job) {
        if self.lanes.len() >= LANES_SWEEP_AT && !self.lanes.contains_key(&lane) {
            let now = Instant::now();
            self.lanes.retain(|_, l| {
                l.running.is_some()
                    || !l.queue.is_empty()
                    || l.bucket.as_mut().is_some_and(|b| !b.is_full(now))
            });
        }
        let shared = self.shared.clone();
        let state = self.lanes.entry(lane.clone()).or_insert_with(|| LaneState {
            queue: VecDeque::new(),
            running: None,
            bucket: match &lane {
                Lane::Recipient(_) => Some(shared.policy.recipient_bucket(Instant::now())),
                Lane::ReadReceipts => None,
            },
        });
        state.queue.push_back(job);
        self.pump(myself, &lane);
    }

    /// Starts the next job of a lane, unless one runs; forgets the lane when it is idle.
    fn pump(&mut self, myself: &ActorRef<WhatsAppSenderMsg>, key: &Lane) {
        let Some(lane) = self.lanes.get_mut(key) else {
            return;
        };
        if lane.running.is_some() {
            return;
        }
        let Some(job) = lane.queue.pop_front() else {
            let now = Instant::now();
            if lane.bucket.as_mut().is_none_or(|b| b.is_full(now)) {
                self.lanes.remove(key);
            }
            return;
        };
        let task = match job {
            Job::Reply { out, resent } => {
                self.queued_replies = self.queued_replies.saturating_sub(1);
                let skip = out
                    .outbox_id
                    .as_deref()
                    .map_or(0, |id| self.ledger.accepted(id));
                let bucket = lane
                    .bucket
                    .take()
                    .unwrap_or_else(|| self.shared.policy.recipient_bucket(Instant::now()));
                let reporter = Reporter {
                    actor: myself.clone(),
                    report: Some(JobReport {
                        lane: key.clone(),
                        bucket: None,
                        outbox_id: out.outbox_id.clone(),
                        accepted: skip,
                        outcome: JobOutcome::Interrupted,
                    }),
                };
                tokio::spawn(send_reply(
                    self.shared.clone(),
                    reporter,
                    bucket,
                    *out,
                    skip,
                    resent,
                ))
            }
            Job::MarkRead(message_id) => {
                let reporter = Reporter {
                    actor: myself.clone(),
                    report: Some(JobReport {
                        lane: key.clone(),
                        bucket: None,
                        outbox_id: None,
                        accepted: 0,
                        outcome: JobOutcome::Interrupted,
                    }),
                };
                tokio::spawn(send_read_receipt(self.shared.clone(), reporter, message_id))
            }
        };
        lane.running = Some(task.abort_handle());
    }

    fn job_done(&mut self, myself: &ActorRef<WhatsAppSenderMsg>, report: JobReport) {
        if let Some(id) = report.outbox_id {
            let finish = match report.outcome {
                JobOutcome::Sent | JobOutcome::Rejected { closed: true } => Finish::Done,
                JobOutcome::Failed | JobOutcome::Rejected { closed: false } => Finish::Failed,
                JobOutcome::Interrupted => Finish::Interrupted,
            };
            self.ledger
                .finished(id, finish, report.accepted, Instant::now());
        }
        if let Some(lane) = self.lanes.get_mut(&report.lane) {
            lane.running = None;
            if let Lane::Recipient(_) = report.lane {
                lane.bucket = Some(
                    report
                        .bucket
                        .unwrap_or_else(|| self.shared.policy.recipient_bucket(Instant::now())),
                );
            }
        }
        self.finish_one();
        self.pump(myself, &report.lane);
    }
}

impl Actor for WhatsAppSender {
    type Msg = WhatsAppSenderMsg;
    type State = WhatsAppSenderState;
    type Arguments = WhatsAppSenderArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        args: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(WhatsAppSenderState {
            ledger: Ledger::new(args.shared.policy.retries.clone()),
            shared: args.shared,
            pending: args.pending,
            lanes: HashMap::new(),
            queued_replies: 0,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            WhatsAppSenderMsg::Send { out, resent } => {
                if !state.ledger.admit_reply(&out, resent) {
                    state.finish_one();
                } else if state.queued_replies >= MAX_QUEUED_REPLIES {
                    count_sent("error");
                    tracing::error!(
                        conversation = %out.key.opaque_id(),
                        queued = state.queued_replies,
                        durable = out.outbox_id.is_some(),
                        "WhatsApp send queue full; reply dropped (a durable one leaves at the next outbox sweep)"
                    );
                    if let Some(id) = &out.outbox_id {
                        state.ledger.dropped(id);
                    }
                    state.finish_one();
                } else {
                    state.queued_replies += 1;
                    let lane = Lane::Recipient(out.key.user.clone());
                    state.enqueue(&myself, lane, Job::Reply { out, resent });
                }
            }
            WhatsAppSenderMsg::MarkRead(message_id) => {
                let queued = state
                    .lanes
                    .get(&Lane::ReadReceipts)
                    .map_or(0, |l| l.queue.len());
                if queued >= MAX_QUEUED_RECEIPTS {
                    tracing::debug!("too many read receipts waiting; one dropped");
                    state.finish_one();
                } else {
                    state.enqueue(&myself, Lane::ReadReceipts, Job::MarkRead(message_id));
                }
            }
            WhatsAppSenderMsg::Done(report) => state.job_done(&myself, *report),
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        // Jobs cut here leave their outbox entries unsent, for the next start.
        for lane in state.lanes.values() {
            if let Some(task) = &lane.running {
                task.abort();
            }
        }
        Ok(())
    }
}

/// Why a message was not sent.
enum Failure {
    /// Graph rejected it for good.
    Rejected(GraphError),
    /// Retries ran out.
    GaveUp(GraphError),
}

/// Sends one Graph message, paced, with the retries of the policy.
async fn send_with_retries(
    shared: &Shared,
    bucket: &mut TokenBucket,
    msg: &GraphMessage,
    conversation: &str,
) -> Result<Option<String>, Failure> {
    let policy = &shared.policy;
    let mut retries = 0u32;
    let mut limited = 0u32;
    let mut counted = false;
    loop {
        if shared.pace(Some(bucket)).await && !counted {
            counted = true;
            count_rate_limited();
        }
        let error = match shared.client.send(msg).await {
            Ok(id) => return Ok(id),
            Err(e) => e,
        };
        let delay = match &error {
            GraphError::Permanent { .. } => return Err(Failure::Rejected(error)),
            GraphError::RateLimited { retry_after, .. } => {
                if limited >= policy.retries.max_rate_limited {
                    return Err(Failure::GaveUp(error));
                }
                let delay = retry_after.unwrap_or_else(|| policy.retries.backoff(limited));
                limited += 1;
                if error.is_global_rate_limit() {
                    let until = Instant::now() + delay;
                    shared.with_global(|b| b.hold(until));
                }
                if !counted {
                    counted = true;
                    count_rate_limited();
                }
                delay
            }
            GraphError::Transient { .. } | GraphError::Timeout | GraphError::Connection { .. } => {
                if retries >= policy.retries.max {
                    return Err(Failure::GaveUp(error));
                }
                let delay = policy.retries.backoff(retries);
                retries += 1;
                delay
            }
        };
        tracing::info!(
            conversation,
            kind = msg.kind(),
            error = %error,
            code = ?error.code(),
            retry_in_ms = delay.as_millis() as u64,
            retries = retries + limited,
            "WhatsApp send failed; retrying"
        );
        tokio::time::sleep(delay).await;
    }
}

/// Marks an outbox entry sent (or closed), with one retry: a failure only means it may be
/// sent again after a restart.
async fn close_outbox(store: &dyn Store, id: &str, conversation: &str) {
    for attempt in 0..2 {
        match store.outbox_sent(id).await {
            Ok(()) => return,
            Err(e) if attempt == 0 => {
                tracing::warn!(error = %e, conversation, "could not mark an outbox reply sent; trying again");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => tracing::error!(
                error = %e,
                conversation,
                "could not mark an outbox reply sent; it may be sent again after a restart"
            ),
        }
    }
}

/// The job of one reply: its Graph messages in order, from part `skip` on.
async fn send_reply(
    shared: Arc<Shared>,
    mut reporter: Reporter,
    mut bucket: TokenBucket,
    out: Outbound,
    skip: usize,
    resent: bool,
) {
    let conversation = out.key.opaque_id();
    let messages = render(&out.key.user, &out.reply);
    let total = messages.len();
    let mut outcome = JobOutcome::Sent;
    if let Some(id) = &out.outbox_id {
        crate::outbox::mark_attempted(shared.store.as_ref(), id, &conversation).await;
    }
    for (i, msg) in messages.iter().enumerate().skip(skip) {
        match send_with_retries(&shared, &mut bucket, msg, &conversation).await {
            Ok(wamid) => {
                count_sent("ok");
                if let Some(r) = reporter.report() {
                    r.accepted = i + 1;
                }
                tracing::debug!(
                    conversation = %conversation,
                    kind = msg.kind(),
                    part = i + 1,
                    parts = total,
                    wamid = wamid.as_deref().unwrap_or(""),
                    "WhatsApp message accepted"
                );
            }
            Err(Failure::Rejected(error)) => {
                count_sent("rejected");
                let closed = out.outbox_id.is_some() && !error.is_auth();
                tracing::warn!(
                    conversation = %conversation,
                    code = ?error.code(),
                    kind = msg.kind(),
                    part = i + 1,
                    parts = total,
                    error = %error,
                    outbox_closed = closed,
                    "WhatsApp message rejected by the Graph API; not retried"
                );
                if let (true, Some(id)) = (closed, &out.outbox_id) {
                    close_outbox(shared.store.as_ref(), id, &conversation).await;
                }
                outcome = JobOutcome::Rejected { closed };
                break;
            }
            Err(Failure::GaveUp(error)) => {
                count_sent("error");
                tracing::error!(
                    conversation = %conversation,
                    code = ?error.code(),
                    kind = msg.kind(),
                    part = i + 1,
                    parts = total,
                    error = %error,
                    durable = out.outbox_id.is_some(),
                    "WhatsApp message not sent after its retries (a durable reply is offered again by the outbox sweep)"
                );
                outcome = JobOutcome::Failed;
                break;
            }
        }
    }
    if outcome == JobOutcome::Sent {
        if total > skip && !resent {
            metrics::histogram!("redsol_response_seconds", "channel" => CHANNEL)
                .record(out.accepted_at.elapsed().as_secs_f64());
        }
        if let Some(id) = &out.outbox_id {
            close_outbox(shared.store.as_ref(), id, &conversation).await;
        }
    }
    if let Some(r) = reporter.report() {
        r.outcome = outcome;
        r.bucket = Some(bucket);
    }
}

/// The job of one read receipt: best effort, one attempt.
async fn send_read_receipt(shared: Arc<Shared>, reporter: Reporter, message_id: String) {
    // Reports (the lane free again) when the job ends, whichever way.
    let _reporter = reporter;
    shared.pace(None).await;
    let msg = GraphMessage::MarkRead { message_id };
    match shared.client.send(&msg).await {
        Ok(_) => tracing::trace!("WhatsApp read receipt sent"),
        Err(error) => tracing::debug!(
            error = %error,
            code = ?error.code(),
            "WhatsApp read receipt not sent (best effort)"
        ),
    }
}

/// The handle on the WhatsApp sender. Cheap to clone.
#[derive(Clone)]
pub struct WhatsAppOutbound {
    sender: SenderHandle<WhatsAppSenderMsg>,
    mark_read: bool,
}

impl WhatsAppOutbound {
    /// Starts the sender (within a tokio runtime) for the client's business number.
    pub fn spawn(
        client: GraphClient,
        tuning: &WhatsAppTuning,
        store: Arc<dyn Store>,
    ) -> anyhow::Result<WhatsAppOutbound> {
        if tokio::runtime::Handle::try_current().is_err() {
            anyhow::bail!("the WhatsApp sender must be started within a tokio runtime");
        }
        let policy = Policy::new(tuning);
        let global = TokenBucket::full(
            policy.send_per_second,
            policy.send_per_second,
            Instant::now(),
        );
        let shared = Arc::new(Shared {
            client,
            store: store.clone(),
            policy,
            global: Mutex::new(global),
        });
        let pending = InFlight::default();
        let (actor, _started) = ractor::ActorRuntime::spawn_instant(
            None,
            WhatsAppSender,
            WhatsAppSenderArgs {
                shared,
                pending: pending.clone(),
            },
        )
        .map_err(|e| anyhow::anyhow!("cannot start the WhatsApp sender: {e}"))?;
        Ok(WhatsAppOutbound {
            sender: SenderHandle::new(actor, pending, store, Channel::WhatsApp),
            mark_read: tuning.mark_read,
        })
    }

    /// Where the conversations deliver WhatsApp replies.
    pub fn sink(&self) -> Arc<dyn ReplySink> {
        Arc::new(self.clone())
    }

    /// Queues a read receipt for an inbound message (best effort; skipped when
    /// `whatsapp.mark_read` is off).
    pub fn mark_read(&self, message_id: String) {
        if !self.mark_read || message_id.is_empty() {
            return;
        }
        self.cast(WhatsAppSenderMsg::MarkRead(message_id));
    }

    /// Queues the WhatsApp replies the store has not seen sent (after a crash or a stop with
    /// work left). Returns how many were queued.
    pub async fn resend_pending(&self) -> usize {
        crate::outbox::resend_after_restart(&self.sender, Channel::WhatsApp, |out| {
            WhatsAppSenderMsg::Send { out, resent: true }
        })
        .await
    }

    /// Offers the unsent outbox replies again every `every` while the sender runs (see
    /// [`crate::outbox`]): a reply never waits for a restart.
    pub fn sweep_outbox(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(crate::outbox::sweep(self.sender.clone(), every, |out| {
            WhatsAppSenderMsg::Send { out, resent: true }
        }))
    }
}

impl std::ops::Deref for WhatsAppOutbound {
    type Target = SenderHandle<WhatsAppSenderMsg>;

    /// `drain`, `pending` and `stop` are the shared handle's.
    fn deref(&self) -> &Self::Target {
        &self.sender
    }
}

impl ReplySink for WhatsAppOutbound {
    fn deliver(&self, out: Outbound) {
        self.sender
            .deliver(out, |out| WhatsAppSenderMsg::Send { out, resent: false });
    }
}
