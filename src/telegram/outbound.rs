//! The Telegram sender: the replies of the conversations, out to the Bot API within Telegram's
//! limits, each sent once.
//!
//! [`TelegramOutbound`] is a cheap handle on the [`TelegramSender`] actor; its
//! [`sink`](TelegramOutbound::sink) is what the conversations deliver to (a cast: it never
//! blocks). The actor is a scheduler with one lane per chat, each with its queue and its token
//! bucket, running at most one job per lane at a time in a task of its own, so replies to one
//! chat go out in order (the parts of a split reply together) and a chat that is slow, rate
//! limited or failing never holds back the others.
//!
//! Pacing: each message takes a token from the bot's bucket (`send_per_second`) and one from
//! its chat's (`chat_burst`, refilled at `chat_per_second`), on tokio's clock. A message that
//! had to wait, locally or for a 429, is counted once in
//! `redsol_rate_limited_total{channel="telegram",direction="outbound"}`.
//!
//! Retries: a 429 waits its `retry_after` and is tried again (at most
//! [`RATE_LIMITED_RETRY_FACTOR`](super::pacing::RATE_LIMITED_RETRY_FACTOR) × `max_retries` times); a 5xx, a timeout or a network error
//! waits an exponential backoff with jitter and is tried again at most `max_retries` times. A
//! 403 "bot was blocked by the user" (or a deactivated user, a chat the bot was removed from) is
//! counted with outcome `blocked` and never retried; any other refusal is `rejected`.
//!
//! Outbox: once every part of a durable reply was accepted, `Store::outbox_sent` marks it.
//! When retries run out (or the token is refused), the entry stays unsent and is offered again
//! by the outbox sweep ([`TelegramOutbound::sweep_outbox`], after a backoff) and at start
//! ([`TelegramOutbound::resend_pending`]); a blocked or rejected reply closes its entry, since
//! sending it again would be refused again. In memory, the sender's
//! [`crate::outbox::Ledger`] knows the outbox ids it sent or holds (so the same reply twice
//! goes out once) and, for a reply that failed halfway, how many parts were accepted (a retry
//! never sends a part twice).
//!
//! Metrics: `redsol_messages_sent_total{channel="telegram",outcome}` once per Telegram message
//! (`ok`, `blocked`, `rejected`, `error` when retries ran out);
//! `redsol_response_seconds{channel="telegram"}` from the inbound's acceptance to Telegram's
//! acceptance of the reply's last part. Logs name a conversation by its opaque id only.

use super::api::{Api, TelegramError, CALL_TIMEOUT};
use super::pacing::{Policy, TokenBucket};
use super::render::{render, Part};
use crate::outbox::{Finish, Ledger};
use crate::pacing::{InFlight, SenderHandle};
use ractor::{Actor, ActorProcessingErr, ActorRef};
use redsol_actors::model::{Channel, Outbound, ReplySink};
use redsol_actors::store::Store;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use teloxide::payloads::{EditMessageTextSetters, SendMessageSetters};
use teloxide::requests::Requester;
use teloxide::types::{ChatId, InlineKeyboardMarkup, MessageId};
use tokio::task::AbortHandle;
use tokio::time::Instant;

/// The most replies waiting in the queues; past it a reply is dropped (its outbox entry, if
/// any, leaves at the next outbox sweep).
const MAX_QUEUED_REPLIES: usize = 100_000;
/// Past this many lanes, idle lanes with a full bucket are forgotten.
const LANES_SWEEP_AT: usize = 10_000;

const CHANNEL: &str = "telegram";

fn count_sent(outcome: &'static str) {
    metrics::counter!("redsol_messages_sent_total", "channel" => CHANNEL, "outcome" => outcome)
        .increment(1);
}

fn count_rate_limited() {
    metrics::counter!("redsol_rate_limited_total", "channel" => CHANNEL, "direction" => "outbound")
        .increment(1);
}

/// What the job tasks share.
struct Shared {
    api: Api,
    store: Arc<dyn Store>,
    policy: Policy,
    /// The bot's bucket.
    global: Mutex<TokenBucket>,
}

impl Shared {
    /// Waits for a token of the chat and of the bot; `true` if it had to wait.
    async fn pace(&self, chat: &mut TokenBucket) -> bool {
        let mut waited = false;
        let wait = chat.take(Instant::now());
        if !wait.is_zero() {
            waited = true;
            tokio::time::sleep(wait).await;
        }
        let wait = {
            let mut guard = match self.global.lock() {
                Ok(g) => g,
                Err(poisoned) => poisoned.into_inner(),
            };
            guard.take(Instant::now())
        };
        if !wait.is_zero() {
            waited = true;
            tokio::time::sleep(wait).await;
        }
        waited
    }
}

struct LaneState {
    queue: VecDeque<Job>,
    /// The running job's task, if one runs.
    running: Option<AbortHandle>,
    /// The chat's bucket; lent to the running job.
    bucket: Option<TokenBucket>,
}

struct Job {
    out: Box<Outbound>,
    resent: bool,
}

/// How a job ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum JobOutcome {
    /// Every part accepted.
    Sent,
    /// Retries ran out on a part (or the token was refused): the outbox entry stays.
    Failed,
    /// Refused for good (blocked, bad request): the outbox entry is closed.
    Closed,
    /// The task ended early (the sender stopping, or a bug).
    Interrupted,
}

/// What a finished job tells the actor.
pub struct JobReport {
    lane: i64,
    bucket: Option<TokenBucket>,
    outbox_id: Option<String>,
    /// Parts of the reply accepted so far (the next part to send).
    accepted: usize,
    outcome: JobOutcome,
}

/// Sends the job's report when dropped: when the job ends, and also if its task is cancelled
/// or panics, so that its lane never stays busy.
struct Reporter {
    actor: ActorRef<TelegramSenderMsg>,
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
            let _ = self.actor.cast(TelegramSenderMsg::Done(Box::new(report)));
        }
    }
}

/// The messages of the sender actor.
pub enum TelegramSenderMsg {
    /// A reply to send; `resent` when it comes from the outbox after a restart (not timed in
    /// `redsol_response_seconds`).
    Send { out: Box<Outbound>, resent: bool },
    /// A job finished (from its task).
    Done(Box<JobReport>),
}

/// The sender actor: a scheduler of per-chat lanes.
pub struct TelegramSender;

/// Start-up arguments of [`TelegramSender`].
pub struct TelegramSenderArgs {
    shared: Arc<Shared>,
    pending: InFlight,
}

/// The state of [`TelegramSender`].
pub struct TelegramSenderState {
    shared: Arc<Shared>,
    /// Replies accepted by the handle and not finished (queued, running or in the mailbox).
    pending: InFlight,
    lanes: HashMap<i64, LaneState>,
    /// Replies waiting in the lanes (not running).
    queued: usize,
    /// What this process knows of the outbox ids it has seen.
    ledger: Ledger,
}

impl TelegramSenderState {
    fn finish_one(&self) {
        self.pending.done();
    }

    fn enqueue(&mut self, myself: &ActorRef<TelegramSenderMsg>, lane: i64, job: Job) {
        if self.lanes.len() >= LANES_SWEEP_AT && !self.lanes.contains_key(&lane) {
            let now = Instant::now();
            self.lanes.retain(|_, l| {
                l.running.is_some()
                    || !l.queue.is_empty()
                    || l.bucket.as_mut().is_some_and(|b| !b.is_full(now))
            });
        }
        let policy = &self.shared.policy;
        let state = self.lanes.entry(lane).or_insert_with(|| LaneState {
            queue: VecDeque::new(),
            running: None,
            bucket: Some(policy.chat_bucket(Instant::now())),
        });
        state.queue.push_back(job);
        self.queued += 1;
        self.pump(myself, lane);
    }

    /// Starts the next job of a lane, unless one runs; forgets the lane when it is idle.
    fn pump(&mut self, myself: &ActorRef<TelegramSenderMsg>, key: i64) {
        let Some(lane) = self.lanes.get_mut(&key) else {
            return;
        };
        if lane.running.is_some() {
            return;
        }
        let Some(job) = lane.queue.pop_front() else {
            let now = Instant::now();
            if lane.bucket.as_mut().is_none_or(|b| b.is_full(now)) {
                self.lanes.remove(&key);
            }
            return;
        };
        self.queued = self.queued.saturating_sub(1);
        let skip = job
            .out
            .outbox_id
            .as_deref()
            .map_or(0, |id| self.ledger.accepted(id));
        let bucket = lane
            .bucket
            .take()
            .unwrap_or_else(|| self.shared.policy.chat_bucket(Instant::now()));
        let reporter = Reporter {
            actor: myself.clone(),
            report: Some(JobReport {
                lane: key,
                bucket: None,
                outbox_id: job.out.outbox_id.clone(),
                accepted: skip,
                outcome: JobOutcome::Interrupted,
            }),
        };
        let task = tokio::spawn(send_reply(
            self.shared.clone(),
            reporter,
            bucket,
            ChatId(key),
            job,
            skip,
        ));
        lane.running = Some(task.abort_handle());
    }

    fn job_done(&mut self, myself: &ActorRef<TelegramSenderMsg>, report: JobReport) {
        if let Some(id) = report.outbox_id {
            let finish = match report.outcome {
                JobOutcome::Sent | JobOutcome::Closed => Finish::Done,
                JobOutcome::Failed => Finish::Failed,
                JobOutcome::Interrupted => Finish::Interrupted,
            };
            self.ledger
                .finished(id, finish, report.accepted, Instant::now());
        }
        if let Some(lane) = self.lanes.get_mut(&report.lane) {
            lane.running = None;
            lane.bucket = Some(
                report
                    .bucket
                    .unwrap_or_else(|| self.shared.policy.chat_bucket(Instant::now())),
            );
        }
        self.finish_one();
        self.pump(myself, report.lane);
    }
}

impl Actor for TelegramSender {
    type Msg = TelegramSenderMsg;
    type State = TelegramSenderState;
    type Arguments = TelegramSenderArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        args: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(TelegramSenderState {
            ledger: Ledger::new(args.shared.policy.retries.clone()),
            shared: args.shared,
            pending: args.pending,
            lanes: HashMap::new(),
            queued: 0,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            TelegramSenderMsg::Send { out, resent } => {
                let conversation = out.key.opaque_id();
                if !state.ledger.admit_reply(&out, resent) {
                    state.finish_one();
                    return Ok(());
                }
                // The chat fixed when the message came in (a group), else the user's own.
                let chat = out.reply_to.as_deref().unwrap_or(&out.key.user);
                let Some(chat) = chat.parse::<i64>().ok().map(ChatId) else {
                    count_sent("rejected");
                    tracing::error!(
                        conversation = %conversation,
                        "a Telegram reply for a user id that is not a number; dropped"
                    );
                    if let Some(id) = out.outbox_id {
                        close_outbox(state.shared.store.as_ref(), &id, &conversation).await;
                        state.ledger.finished(id, Finish::Done, 0, Instant::now());
                    }
                    state.finish_one();
                    return Ok(());
                };
                if state.queued >= MAX_QUEUED_REPLIES {
                    count_sent("error");
                    tracing::error!(
                        conversation = %conversation,
                        queued = state.queued,
                        durable = out.outbox_id.is_some(),
                        "Telegram send queue full; reply dropped (a durable one leaves at the next outbox sweep)"
                    );
                    if let Some(id) = &out.outbox_id {
                        state.ledger.dropped(id);
                    }
                    state.finish_one();
                    return Ok(());
                }
                state.enqueue(&myself, chat.0, Job { out, resent });
            }
            TelegramSenderMsg::Done(report) => state.job_done(&myself, *report),
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
    /// Refused for good; `blocked` when the recipient cannot be reached.
    Refused(TelegramError),
    /// Retries ran out, or the token was refused: worth sending again later.
    GaveUp(TelegramError),
}

/// Sends one message, or replaces the text of `edit` (a message of ours, its buttons removed),
/// paced, with the retries of the policy.
async fn send_with_retries(
    shared: &Shared,
    bucket: &mut TokenBucket,
    chat: ChatId,
    part: &Part,
    edit: Option<MessageId>,
    conversation: &str,
) -> Result<(), Failure> {
    let policy = &shared.policy;
    let mut retries = 0u32;
    let mut limited = 0u32;
    let mut counted = false;
    loop {
        if shared.pace(bucket).await && !counted {
            counted = true;
            count_rate_limited();
        }
        let sent = match edit {
            Some(message) => {
                let request = shared
                    .api
                    .bot()
                    .edit_message_text(chat, message, part.text.clone())
                    .reply_markup(InlineKeyboardMarkup::default());
                match shared.api.call(request, CALL_TIMEOUT).await {
                    // Edited before (a replay): the message already says it.
                    Err(TelegramError::Rejected(e)) if e.contains("message is not modified") => {
                        Ok(())
                    }
                    other => other.map(|_| ()),
                }
            }
            None => {
                let mut request = shared.api.bot().send_message(chat, part.text.clone());
                if let Some(markup) = &part.markup {
                    request = request.reply_markup(markup.clone());
                }
                shared.api.call(request, CALL_TIMEOUT).await.map(|_| ())
            }
        };
        let error = match sent {
            Ok(()) => return Ok(()),
            Err(e) => e,
        };
        let delay = match &error {
            TelegramError::RetryAfter(after) => {
                if limited >= policy.retries.max_rate_limited {
                    return Err(Failure::GaveUp(error));
                }
                limited += 1;
                if !counted {
                    counted = true;
                    count_rate_limited();
                }
                *after
            }
            TelegramError::Transient(_) | TelegramError::Timeout(_) => {
                if retries >= policy.retries.max {
                    return Err(Failure::GaveUp(error));
                }
                let delay = policy.retries.backoff(retries);
                retries += 1;
                delay
            }
            TelegramError::Unauthorized => return Err(Failure::GaveUp(error)),
            TelegramError::Blocked(_) | TelegramError::Conflict(_) | TelegramError::Rejected(_) => {
                return Err(Failure::Refused(error))
            }
        };
        tracing::info!(
            conversation,
            error = %error,
            kind = error.kind(),
            retry_in_ms = delay.as_millis() as u64,
            retries = retries + limited,
            "Telegram send failed; retrying"
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

/// The job of one reply: its messages in order, from part `skip` on.
async fn send_reply(
    shared: Arc<Shared>,
    mut reporter: Reporter,
    mut bucket: TokenBucket,
    chat: ChatId,
    job: Job,
    skip: usize,
) {
    let out = job.out;
    let conversation = out.key.opaque_id();
    let parts = render(&out.reply);
    let total = parts.len();
    let mut outcome = JobOutcome::Sent;
    if let Some(id) = &out.outbox_id {
        crate::outbox::mark_attempted(shared.store.as_ref(), id, &conversation).await;
    }
    // Only a one-part reply replaces a message; a longer one goes as new messages.
    let edit = out
        .edit
        .as_deref()
        .and_then(|m| m.parse::<i32>().ok())
        .filter(|_| total == 1)
        .map(MessageId);
    for (i, part) in parts.iter().enumerate().skip(skip) {
        match send_with_retries(&shared, &mut bucket, chat, part, edit, &conversation).await {
            Ok(()) => {
                count_sent("ok");
                if let Some(r) = reporter.report() {
                    r.accepted = i + 1;
                }
                tracing::debug!(
                    conversation = %conversation,
                    part = i + 1,
                    parts = total,
                    "Telegram message accepted"
                );
            }
            Err(Failure::Refused(error)) => {
                let blocked = matches!(error, TelegramError::Blocked(_));
                count_sent(if blocked { "blocked" } else { "rejected" });
                if blocked {
                    tracing::warn!(
                        conversation = %conversation,
                        error = %error,
                        "the user blocked the bot (or cannot be reached); reply dropped, not retried"
                    );
                } else {
                    tracing::warn!(
                        conversation = %conversation,
                        error = %error,
                        part = i + 1,
                        parts = total,
                        "Telegram refused a reply; not retried"
                    );
                }
                if let Some(id) = &out.outbox_id {
                    close_outbox(shared.store.as_ref(), id, &conversation).await;
                }
                outcome = JobOutcome::Closed;
                break;
            }
            Err(Failure::GaveUp(error)) => {
                count_sent("error");
                tracing::error!(
                    conversation = %conversation,
                    error = %error,
                    part = i + 1,
                    parts = total,
                    durable = out.outbox_id.is_some(),
                    "Telegram message not sent after its retries (a durable reply is offered again by the outbox sweep)"
                );
                outcome = JobOutcome::Failed;
                break;
            }
        }
    }
    if outcome == JobOutcome::Sent {
        if total > skip && !job.resent {
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

/// The handle on the Telegram sender. Cheap to clone.
#[derive(Clone)]
pub struct TelegramOutbound {
    sender: SenderHandle<TelegramSenderMsg>,
}

impl TelegramOutbound {
    /// Starts the sender (within a tokio runtime).
    pub fn spawn(
        api: Api,
        policy: Policy,
        store: Arc<dyn Store>,
    ) -> anyhow::Result<TelegramOutbound> {
        if tokio::runtime::Handle::try_current().is_err() {
            anyhow::bail!("the Telegram sender must be started within a tokio runtime");
        }
        let global = policy.global_bucket(Instant::now());
        let shared = Arc::new(Shared {
            api,
            store: store.clone(),
            policy,
            global: Mutex::new(global),
        });
        let pending = InFlight::default();
        let (actor, _started) = ractor::ActorRuntime::spawn_instant(
            None,
            TelegramSender,
            TelegramSenderArgs {
                shared,
                pending: pending.clone(),
            },
        )
        .map_err(|e| anyhow::anyhow!("cannot start the Telegram sender: {e}"))?;
        Ok(TelegramOutbound {
            sender: SenderHandle::new(actor, pending, store, Channel::Telegram),
        })
    }

    /// Where the conversations deliver Telegram replies.
    pub fn sink(&self) -> Arc<dyn ReplySink> {
        Arc::new(self.clone())
    }

    /// Queues the Telegram replies the store has not seen sent (after a crash or a stop with
    /// work left). Returns how many were queued.
    pub async fn resend_pending(&self) -> usize {
        crate::outbox::resend_after_restart(&self.sender, Channel::Telegram, |out| {
            TelegramSenderMsg::Send { out, resent: true }
        })
        .await
    }

    /// Offers the unsent outbox replies again every `every` while the sender runs (see
    /// [`crate::outbox`]): a reply never waits for a restart.
    pub fn sweep_outbox(&self, every: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(crate::outbox::sweep(self.sender.clone(), every, |out| {
            TelegramSenderMsg::Send { out, resent: true }
        }))
    }
}

impl std::ops::Deref for TelegramOutbound {
    type Target = SenderHandle<TelegramSenderMsg>;

    /// `drain`, `pending` and `stop` are the shared handle's.
    fn deref(&self) -> &Self::Target {
        &self.sender
    }
}

impl ReplySink for TelegramOutbound {
    fn deliver(&self, out: Outbound) {
        self.sender
            .deliver(out, |out| TelegramSenderMsg::Send { out, resent: false });
    }
}
