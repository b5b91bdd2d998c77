//! The sender actor: a scheduler of lanes (see the module docs of [`super`]).

use super::jobs::{self, Shared};
use super::{count_receipt, count_sent, Platform, MAX_QUEUED_RECEIPTS, RECEIPT_LANES};
use crate::outbox::Finish;
use crate::pacing::{InFlight, TokenBucket};
use ractor::{Actor, ActorProcessingErr, ActorRef};
use redsol_actors::model::Outbound;
use std::collections::{HashMap, VecDeque};
use std::marker::PhantomData;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::AbortHandle;
use tokio::time::Instant;

/// The most replies waiting in the queues; past it a reply is dropped (its outbox entry, if
/// any, leaves at the next outbox sweep).
const MAX_QUEUED_REPLIES: usize = 100_000;
/// Past this many lanes, idle lanes with a full bucket are forgotten.
const LANES_SWEEP_AT: usize = 10_000;

/// A lane of work: one recipient's messages, or a share of the read receipts.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Lane {
    To(String),
    Receipts(usize),
}

enum Job {
    Reply { out: Box<Outbound>, resent: bool },
    Receipt(String),
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
pub(crate) enum JobOutcome {
    /// Every part accepted.
    Sent,
    /// Retries ran out, or a refusal left the outbox entry for later.
    Failed,
    /// Refused for good and the outbox entry closed.
    Closed,
    /// The task ended early (the sender stopping or restarting, or a bug).
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
pub(crate) struct Reporter {
    actor: ActorRef<SenderMsg>,
    report: Option<JobReport>,
}

impl Reporter {
    pub fn accepted(&mut self, parts: usize) {
        if let Some(r) = self.report.as_mut() {
            r.accepted = parts;
        }
    }

    pub fn finish(&mut self, outcome: JobOutcome, bucket: TokenBucket) {
        if let Some(r) = self.report.as_mut() {
            r.outcome = outcome;
            r.bucket = Some(bucket);
        }
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        if let Some(report) = self.report.take() {
            // Fails only when this instance of the sender has stopped, and then nobody waits
            // for the report.
            let _ = self.actor.cast(SenderMsg::Done(Box::new(report)));
        }
    }
}

/// The messages of the sender actor.
pub enum SenderMsg {
    /// A reply to send; `resent` when the outbox offers it (after a restart or by the sweep):
    /// not timed in `redsol_response_seconds`, and held back while it backs off.
    Send { out: Box<Outbound>, resent: bool },
    /// A read receipt for an inbound message id.
    MarkRead(String),
    /// A job finished (from its task).
    Done(Box<JobReport>),
}

/// The sender actor of platform `P`.
pub struct Scheduler<P>(PhantomData<fn() -> P>);

impl<P> Scheduler<P> {
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

/// Start-up arguments of [`Scheduler`].
pub struct SchedulerArgs<P: Platform> {
    pub shared: Arc<Shared<P>>,
    pub pending: InFlight,
    /// Turns true when this instance is replaced: its running jobs stop.
    pub cancel: watch::Receiver<bool>,
}

/// The state of [`Scheduler`].
pub struct SchedulerState<P: Platform> {
    shared: Arc<Shared<P>>,
    /// Jobs accepted by the handle and not finished (queued, running or in the mailbox).
    pending: InFlight,
    cancel: watch::Receiver<bool>,
    lanes: HashMap<Lane, LaneState>,
    /// Replies and receipts waiting in the lanes (not running).
    queued_replies: usize,
    queued_receipts: usize,
    /// The receipt lane the next receipt joins.
    next_receipt_lane: usize,
}

impl<P: Platform> SchedulerState<P> {
    fn finish_one(&self) {
        self.pending.done();
    }

    fn enqueue(&mut self, myself: &ActorRef<SenderMsg>, lane: Lane, job: Job) {
        if self.lanes.len() >= LANES_SWEEP_AT && !self.lanes.contains_key(&lane) {
            let now = Instant::now();
            self.lanes.retain(|_, l| {
                l.running.is_some()
                    || !l.queue.is_empty()
                    || l.bucket.as_mut().is_some_and(|b| !b.is_full(now))
            });
        }
        match &job {
            Job::Reply { .. } => self.queued_replies += 1,
            Job::Receipt(_) => self.queued_receipts += 1,
        }
        let shared = &self.shared;
        let state = self.lanes.entry(lane.clone()).or_insert_with(|| LaneState {
            queue: VecDeque::new(),
            running: None,
            bucket: match &lane {
                Lane::To(_) => Some(shared.lane_bucket(Instant::now())),
                Lane::Receipts(_) => None,
            },
        });
        state.queue.push_back(job);
        self.pump(myself, &lane);
    }

    /// Starts the next job of a lane, unless one runs; forgets the lane when it is idle.
    fn pump(&mut self, myself: &ActorRef<SenderMsg>, key: &Lane) {
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
        let mut report = JobReport {
            lane: key.clone(),
            bucket: None,
            outbox_id: None,
            accepted: 0,
            outcome: JobOutcome::Interrupted,
        };
        let job: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> = match job {
            Job::Reply { out, resent } => {
                self.queued_replies = self.queued_replies.saturating_sub(1);
                let skip = out
                    .outbox_id
                    .as_deref()
                    .map_or(0, |id| self.shared.ledger(|l| l.accepted(id)));
                report.outbox_id = out.outbox_id.clone();
                report.accepted = skip;
                let bucket = lane
                    .bucket
                    .take()
                    .unwrap_or_else(|| self.shared.lane_bucket(Instant::now()));
                let to = match key {
                    Lane::To(to) => to.clone(),
                    Lane::Receipts(_) => String::new(),
                };
                let reporter = Reporter {
                    actor: myself.clone(),
                    report: Some(report),
                };
                Box::pin(jobs::send_reply(
                    self.shared.clone(),
                    reporter,
                    bucket,
                    to,
                    *out,
                    skip,
                    resent,
                ))
            }
            Job::Receipt(message_id) => {
                self.queued_receipts = self.queued_receipts.saturating_sub(1);
                let reporter = Reporter {
                    actor: myself.clone(),
                    report: Some(report),
                };
                Box::pin(jobs::send_receipt(
                    self.shared.clone(),
                    reporter,
                    message_id,
                ))
            }
        };
        let mut cancel = self.cancel.clone();
        let task = tokio::spawn(async move {
            let replaced = async {
                // A dropped handle never cancels: only a restart does.
                if cancel.wait_for(|c| *c).await.is_err() {
                    std::future::pending::<()>().await;
                }
            };
            tokio::select! {
                () = job => {}
                () = replaced => {}
            }
        });
        lane.running = Some(task.abort_handle());
    }

    fn job_done(&mut self, myself: &ActorRef<SenderMsg>, report: JobReport) {
        if let Some(id) = report.outbox_id {
            let finish = match report.outcome {
                JobOutcome::Sent | JobOutcome::Closed => Finish::Done,
                JobOutcome::Failed => Finish::Failed,
                JobOutcome::Interrupted => Finish::Interrupted,
            };
            self.shared
                .ledger(|l| l.finished(id, finish, report.accepted, Instant::now()));
        }
        if let Some(lane) = self.lanes.get_mut(&report.lane) {
            lane.running = None;
            if let Lane::To(_) = report.lane {
                lane.bucket = Some(
                    report
                        .bucket
                        .unwrap_or_else(|| self.shared.lane_bucket(Instant::now())),
                );
            }
        }
        self.finish_one();
        self.pump(myself, &report.lane);
    }

    async fn send(&mut self, myself: &ActorRef<SenderMsg>, out: Box<Outbound>, resent: bool) {
        let channel = P::CHANNEL;
        if !self.shared.ledger(|l| l.admit_reply(&out, resent)) {
            self.finish_one();
            return;
        }
        let key = out.key.clone();
        let conversation = key.opaque();
        let Some(to) = P::address(&out) else {
            count_sent(channel, "rejected");
            tracing::error!(
                channel = channel.as_str(),
                conversation = %conversation,
                "a reply with no valid recipient; dropped"
            );
            if let Some(id) = out.outbox_id {
                jobs::close_outbox(self.shared.store.as_ref(), &id, conversation).await;
                self.shared
                    .ledger(|l| l.finished(id, Finish::Done, 0, Instant::now()));
            }
            self.finish_one();
            return;
        };
        if self.queued_replies >= MAX_QUEUED_REPLIES {
            count_sent(channel, "error");
            tracing::error!(
                channel = channel.as_str(),
                conversation = %conversation,
                queued = self.queued_replies,
                durable = out.outbox_id.is_some(),
                "send queue full; reply dropped (a durable one leaves at the next outbox sweep)"
            );
            if let Some(id) = &out.outbox_id {
                self.shared.ledger(|l| l.dropped(id));
            }
            self.finish_one();
            return;
        }
        self.enqueue(myself, Lane::To(to), Job::Reply { out, resent });
    }

    fn mark_read(&mut self, myself: &ActorRef<SenderMsg>, message_id: String) {
        if self.queued_receipts >= MAX_QUEUED_RECEIPTS {
            count_receipt(P::CHANNEL, "dropped");
            tracing::debug!(
                channel = P::CHANNEL.as_str(),
                "too many read receipts waiting; one dropped"
            );
            self.finish_one();
            return;
        }
        let lane = Lane::Receipts(self.next_receipt_lane);
        self.next_receipt_lane = (self.next_receipt_lane + 1) % RECEIPT_LANES;
        self.enqueue(myself, lane, Job::Receipt(message_id));
    }
}

impl<P: Platform> Actor for Scheduler<P> {
    type Msg = SenderMsg;
    type State = SchedulerState<P>;
    type Arguments = SchedulerArgs<P>;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        args: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(SchedulerState {
            shared: args.shared,
            pending: args.pending,
            cancel: args.cancel,
            lanes: HashMap::new(),
            queued_replies: 0,
            queued_receipts: 0,
            next_receipt_lane: 0,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            SenderMsg::Send { out, resent } => state.send(&myself, out, resent).await,
            SenderMsg::MarkRead(message_id) => state.mark_read(&myself, message_id),
            SenderMsg::Done(report) => state.job_done(&myself, *report),
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
