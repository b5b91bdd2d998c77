//! The sender actor: a scheduler of lanes (see the module docs of [`super`]).
//!
//! Replies take the platform's tokens here, in the order their lanes became ready: a lane's
//! job starts only when a token is there, so while the platform's budget is spent the
//! replies wait in their lanes (and a lane's waiting replies leave as one message, see
//! [`super::coalesce`]), not in tasks of their own.

mod dispatch;
mod receipts;
mod report;
mod runner;
pub(crate) mod spill;

use super::coalesce::MAX_JOINED;
use super::jobs::{self, Shared};
use super::{count_sent, Platform};
use crate::outbox::Finish;
use crate::pacing::{InFlight, TokenBucket};
use ractor::{Actor, ActorProcessingErr, ActorRef};
use redsol_actors::model::Outbound;
use redsol_actors::store::{OutboxPage, StoreResult};
pub(crate) use report::{JobOutcome, JobReport, Reporter};
use spill::Spill;
use std::collections::{HashMap, VecDeque};
use std::marker::PhantomData;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::time::Instant;

/// The most replies without an outbox entry waiting in the queues (they cannot wait on disk);
/// past it one is dropped.
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
    /// A job of this lane runs.
    running: bool,
    /// The recipient's bucket; lent to the running job.
    bucket: Option<TokenBucket>,
    /// In the turn for a token of the platform.
    ready: bool,
}

/// The messages of the sender actor.
pub enum SenderMsg {
    /// A reply to send; `resent` when the outbox offers it (after a restart or by the sweep):
    /// not timed in `redsol_response_seconds`, and held back while it backs off.
    Send { out: Box<Outbound>, resent: bool },
    /// A read receipt for an inbound message id.
    MarkRead(String),
    /// A job finished (or was cut).
    Done(Box<JobReport>),
    /// A token of the platform may be there: start the lanes waiting for one.
    Tick,
    /// A page of the outbox read back (see [`spill`]).
    Page(StoreResult<OutboxPage>),
    /// At start or restart: read back, in order, the replies the outbox holds unsent (about
    /// `waiting` of them), a page at a time.
    Resume { waiting: usize },
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
    /// Where the jobs run.
    runner: runner::Runner,
    lanes: HashMap<Lane, LaneState>,
    /// Recipient lanes whose next reply waits for a token of the platform, in turn.
    ready: VecDeque<Lane>,
    /// A [`SenderMsg::Tick`] is on its way.
    tick_armed: bool,
    /// Replies and receipts waiting in the lanes (not running).
    queued_replies: usize,
    queued_receipts: usize,
    /// The receipt lane the next receipt joins.
    next_receipt_lane: usize,
    /// The backlog waits on disk and is read back (see [`spill`]).
    spill: Option<Spill>,
}

impl<P: Platform> SchedulerState<P> {
    fn finish_one(&self) {
        self.pending.done();
    }

    fn enqueue(&mut self, myself: &ActorRef<SenderMsg>, lane: Lane, job: Job) {
        if self.lanes.len() >= LANES_SWEEP_AT && !self.lanes.contains_key(&lane) {
            let now = Instant::now();
            self.lanes.retain(|_, l| {
                l.running
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
            running: false,
            bucket: match &lane {
                Lane::To(_) => Some(shared.lane_bucket(Instant::now())),
                Lane::Receipts(_) => None,
            },
            ready: false,
        });
        state.queue.push_back(job);
        match lane {
            Lane::To(_) => {
                if !state.running && !state.ready {
                    state.ready = true;
                    self.ready.push_back(lane);
                }
                self.dispatch(myself);
            }
            Lane::Receipts(_) => self.pump_receipts(myself, &lane),
        }
    }

    fn job_done(&mut self, myself: &ActorRef<SenderMsg>, report: JobReport) {
        let finish = match report.outcome {
            JobOutcome::Sent | JobOutcome::Closed => Finish::Done,
            JobOutcome::Failed => Finish::Failed,
            JobOutcome::Interrupted => Finish::Interrupted,
        };
        let now = Instant::now();
        self.shared.ledger(|l| {
            for id in report.outbox_ids {
                l.finished(id, finish, report.accepted, now);
            }
        });
        for _ in 0..report.replies {
            self.finish_one();
        }
        match &report.lane {
            Lane::Receipts(_) => {
                if let Some(lane) = self.lanes.get_mut(&report.lane) {
                    lane.running = false;
                }
                self.pump_receipts(myself, &report.lane);
            }
            Lane::To(_) => {
                if let Some(lane) = self.lanes.get_mut(&report.lane) {
                    lane.running = false;
                    lane.bucket = Some(
                        report
                            .bucket
                            .unwrap_or_else(|| self.shared.lane_bucket(now)),
                    );
                    if !lane.queue.is_empty() {
                        if !lane.ready {
                            lane.ready = true;
                            self.ready.push_back(report.lane);
                        }
                    } else if lane.bucket.as_mut().is_none_or(|b| b.is_full(now)) {
                        self.lanes.remove(&report.lane);
                    }
                }
                self.dispatch(myself);
                self.read_back(myself);
            }
        }
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
        // Held in memory: `memory_queue`, and never past the hard cap.
        let memory = self.shared.pacing.memory_queue.min(MAX_QUEUED_REPLIES);
        let durable = out.outbox_id.is_some();
        if durable && (self.spill.is_some() || self.queued_replies >= memory) {
            // A reply to someone whose replies wait in memory, none on disk, joins them: it
            // keeps its order and leaves in the same message (bounded: twice the memory).
            let lane = Lane::To(to.clone());
            let joins_waiting = self.queued_replies < (2 * memory).min(MAX_QUEUED_REPLIES)
                && self.spill.as_ref().is_some_and(|s| !s.has_on_disk(&to))
                && self
                    .lanes
                    .get(&lane)
                    .is_some_and(|l| (1..MAX_JOINED).contains(&l.queue.len()));
            if !joins_waiting {
                self.leave_on_disk(myself, &out, &to);
                return;
            }
        }
        if self.queued_replies >= MAX_QUEUED_REPLIES {
            count_sent(channel, "error");
            tracing::error!(
                channel = channel.as_str(),
                conversation = %conversation,
                queued = self.queued_replies,
                "send queue full; a reply with no outbox entry dropped"
            );
            self.finish_one();
            return;
        }
        self.enqueue(myself, Lane::To(to), Job::Reply { out, resent });
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
        // An instance starts by reading back what the outbox holds unsent (left by the last
        // run or the instance it replaces): until then every new reply waits behind it.
        args.shared.on_disk.begin(0);
        Ok(SchedulerState {
            shared: args.shared,
            pending: args.pending,
            runner: runner::Runner::start(args.cancel),
            lanes: HashMap::new(),
            ready: VecDeque::new(),
            tick_armed: false,
            queued_replies: 0,
            queued_receipts: 0,
            next_receipt_lane: 0,
            spill: Some(Spill::from_start()),
        })
    }

    async fn post_start(
        &self,
        myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        state.read_back(&myself);
        Ok(())
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
            SenderMsg::Tick => {
                state.tick_armed = false;
                state.dispatch(&myself);
            }
            SenderMsg::Page(page) => state.page_read(&myself, page),
            SenderMsg::Resume { waiting } => {
                // Counted as pending by the handle's cast.
                state.finish_one();
                if state.spill.is_none() {
                    state.spill = Some(Spill::from_start());
                }
                state
                    .shared
                    .on_disk
                    .begin(waiting.max(state.shared.on_disk.count()));
                state.read_back(&myself);
            }
        }
        Ok(())
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        // Jobs cut here leave their outbox entries unsent, for the next start.
        state.runner.stop();
        Ok(())
    }
}
