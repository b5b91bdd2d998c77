//! The supervisors.
//!
//! [`ConversationSupervisor`] owns one [`ConversationActor`] per live conversation. It routes
//! each inbound message to its conversation (spawning it on the first message), numbers the
//! messages so that a crashed conversation's unanswered ones are redelivered to its
//! replacement, restarts a failed conversation from its last snapshot within a restart budget
//! (OTP style: at most N restarts in T seconds; past it the poison message is dropped with an
//! apology and the conversation starts clean), and passivates idle conversations.
//!
//! [`crate::root::RootSupervisor`] sits above it.

use crate::conversation::{ConversationActor, ConversationArgs, ConversationMsg, Progress};
use crate::engine::Engine;
use crate::model::{Channel, ConversationKey, Inbound, Outbound, ReplySink};
use crate::notify::Notifier;
use ractor::{Actor, ActorId, ActorProcessingErr, ActorRef, RpcReplyPort, SupervisionEvent};

pub use crate::root::{start, RootMsg, RootSupervisor, Supervised};

mod inbound;
mod recovery;
mod router;
mod shared;
pub use inbound::{accept, accept_all, replay_journal, AcceptError, Accepted};
pub use router::{RouteError, Router};
pub use shared::follow;
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Messages of the conversation supervisor.
pub enum SupervisorMsg {
    /// A user message for its conversation (shared with it: the supervisor keeps it until
    /// it is answered, for redelivery, without a copy), with the token of the conversation's
    /// lease when replicas share the conversations.
    Route(Arc<Inbound>, Option<u64>),
    /// Passivate the conversations idle for longer than the timeout.
    Sweep,
    /// Return silent handoffs to the bot, post cards queued out of hours.
    HandoffSweep,
    /// How many conversations are live.
    Active(RpcReplyPort<usize>),
    /// Stop taking messages, let every conversation finish what it has, then answer.
    Drain(RpcReplyPort<()>),
}

/// How often handoffs are checked for silence and for the opening hour.
const HANDOFF_SWEEP: Duration = Duration::from_secs(60);

/// The replies' way out, per channel.
pub type Sinks = HashMap<Channel, Arc<dyn ReplySink>>;

pub struct SupervisorArgs {
    pub engine: Engine,
    pub sinks: Sinks,
}

struct Child {
    actor: ActorRef<ConversationMsg>,
    progress: Arc<Progress>,
    /// Messages routed and maybe not yet answered, with their sequence numbers and leases.
    unacked: VecDeque<(u64, Arc<Inbound>, Option<u64>)>,
    next_seq: u64,
    last_routed: Instant,
}

impl Child {
    fn prune(&mut self) {
        let done = self.progress.processed();
        while self.unacked.front().is_some_and(|(seq, ..)| *seq <= done) {
            self.unacked.pop_front();
        }
    }

    fn idle_since(&self, now: Instant) -> Duration {
        now.duration_since(self.last_routed)
    }
}

pub struct SupervisorState {
    engine: Engine,
    sinks: Arc<Sinks>,
    /// Whether a handoff sweep is running.
    sweeping: Arc<std::sync::atomic::AtomicBool>,
    children: HashMap<ConversationKey, Child>,
    by_id: HashMap<ActorId, ConversationKey>,
    restarts: HashMap<ConversationKey, VecDeque<Instant>>,
    active: HashMap<Channel, usize>,
    draining: Option<RpcReplyPort<()>>,
}

pub struct ConversationSupervisor;

impl SupervisorState {
    /// Starts a conversation without waiting for it: routing never waits on a spawn, and the
    /// messages cast meanwhile wait in its mailbox. Its `pre_start` cannot fail (it only
    /// builds the state; the snapshot loads on the first message), so it is always linked
    /// to this supervisor before it handles anything.
    fn spawn(
        &mut self,
        myself: &ActorRef<SupervisorMsg>,
        key: &ConversationKey,
        clean: bool,
    ) -> Result<(), ActorProcessingErr> {
        if !self.sinks.contains_key(&key.channel) {
            return Err(format!("no reply sink for channel {}", key.channel).into());
        }
        let progress = Arc::new(Progress::default());
        let (actor, _started) = ractor::ActorRuntime::spawn_linked_instant(
            None,
            ConversationActor,
            ConversationArgs {
                key: key.clone(),
                engine: self.engine.clone(),
                sinks: self.sinks.clone(),
                progress: progress.clone(),
                clean,
            },
            myself.get_cell(),
        )?;
        self.by_id.insert(actor.get_id(), key.clone());
        self.children.insert(
            key.clone(),
            Child {
                actor,
                progress,
                unacked: VecDeque::new(),
                next_seq: 1,
                last_routed: Instant::now(),
            },
        );
        *self.active.entry(key.channel).or_default() += 1;
        self.publish_active(key.channel);
        Ok(())
    }

    fn forget(&mut self, id: &ActorId) -> Option<(ConversationKey, Child)> {
        let key = self.by_id.remove(id)?;
        let child = self.children.remove(&key)?;
        if let Some(n) = self.active.get_mut(&key.channel) {
            *n = n.saturating_sub(1);
        }
        self.publish_active(key.channel);
        Some((key, child))
    }

    fn publish_active(&self, channel: Channel) {
        let n = self.active.get(&channel).copied().unwrap_or(0);
        metrics::gauge!("redsol_conversations_active", "channel" => channel.as_str()).set(n as f64);
    }

    fn route(
        &mut self,
        myself: &ActorRef<SupervisorMsg>,
        inbound: Arc<Inbound>,
        lease: Option<u64>,
    ) -> Result<(), ActorProcessingErr> {
        let key = &inbound.key;
        if !self.children.contains_key(key) {
            self.spawn(myself, key, false)?;
        }
        let Some(child) = self.children.get_mut(key) else {
            return Ok(());
        };
        child.prune();
        let seq = child.next_seq;
        child.next_seq += 1;
        child.last_routed = Instant::now();
        child.unacked.push_back((seq, inbound.clone(), lease));
        if child
            .actor
            .cast(ConversationMsg::Inbound {
                seq,
                inbound,
                lease,
            })
            .is_err()
        {
            // The conversation is stopping; its supervision event will redeliver what it left.
            tracing::debug!("conversation mailbox closed; message kept for redelivery");
        }
        Ok(())
    }

    fn sweep(&mut self) {
        let now = Instant::now();
        let idle = self.engine.rules().limits.idle_timeout();
        let stale: Vec<ActorId> = self
            .children
            .values_mut()
            .filter_map(|c| {
                c.prune();
                (c.unacked.is_empty() && c.idle_since(now) >= idle).then(|| c.actor.get_id())
            })
            .collect();
        for id in stale {
            if let Some((_, child)) = self.forget(&id) {
                // Its state was snapshotted after its last turn; it comes back on the next message.
                child.actor.stop(Some("passivated".into()));
            }
        }
    }

    fn check_drained(&mut self) {
        if self.children.is_empty() {
            if let Some(port) = self.draining.take() {
                let _ = port.send(());
            }
        }
    }
}

impl Actor for ConversationSupervisor {
    type Msg = SupervisorMsg;
    type State = SupervisorState;
    type Arguments = SupervisorArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        args: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        let idle = args.engine.rules().limits.idle_timeout();
        let period = (idle / 4).clamp(Duration::from_millis(250), Duration::from_secs(60));
        myself.send_interval(period, || SupervisorMsg::Sweep);
        myself.send_interval(HANDOFF_SWEEP, || SupervisorMsg::HandoffSweep);
        Ok(SupervisorState {
            engine: args.engine,
            sinks: Arc::new(args.sinks),
            sweeping: Arc::default(),
            children: HashMap::new(),
            by_id: HashMap::new(),
            restarts: HashMap::new(),
            active: HashMap::new(),
            draining: None,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            SupervisorMsg::Route(inbound, lease) => {
                if state.draining.is_some() {
                    tracing::warn!(
                        "message arrived while draining; it stays in the journal if it has an id"
                    );
                    return Ok(());
                }
                if let Err(e) = state.route(&myself, inbound, lease) {
                    tracing::error!(error = %e, "could not start a conversation");
                }
            }
            SupervisorMsg::Sweep => state.sweep(),
            SupervisorMsg::HandoffSweep => {
                // Off the supervisor: routing never waits for the store. One sweep at a time.
                if state
                    .sweeping
                    .swap(true, std::sync::atomic::Ordering::AcqRel)
                {
                    return Ok(());
                }
                let engine = state.engine.clone();
                let notifier = Notifier::new(engine.store().clone(), state.sinks.clone());
                let sweeping = state.sweeping.clone();
                tokio::spawn(async move {
                    for done in engine.handoff_sweep(engine.now()).await {
                        if let Err(e) = notifier.send(&done.event, done.notices).await {
                            tracing::error!(error = %e, "could not queue a handoff sweep's notices");
                        }
                    }
                    sweeping.store(false, std::sync::atomic::Ordering::Release);
                });
            }
            SupervisorMsg::Active(port) => {
                let _ = port.send(state.children.len());
            }
            SupervisorMsg::Drain(port) => {
                state.draining = Some(port);
                for child in state.children.values() {
                    let _ = child.actor.cast(ConversationMsg::Shutdown);
                }
                state.check_drained();
            }
        }
        Ok(())
    }

    async fn handle_supervisor_evt(
        &self,
        myself: ActorRef<Self::Msg>,
        event: SupervisionEvent,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match event {
            SupervisionEvent::ActorFailed(cell, err) => {
                if let Some((key, child)) = state.forget(&cell.get_id()) {
                    tracing::error!(error = %err, conversation = %key.opaque_id(), "conversation actor failed");
                    if let Err(e) = state.recover(&myself, key, child, true).await {
                        tracing::error!(error = %e, "could not restart a conversation");
                    }
                }
            }
            SupervisionEvent::ActorTerminated(cell, _, _) => {
                if let Some((key, child)) = state.forget(&cell.get_id()) {
                    // Stopped on its own with messages still queued: hand them to a new one.
                    if let Err(e) = state.recover(&myself, key, child, false).await {
                        tracing::error!(error = %e, "could not restart a conversation");
                    }
                }
            }
            _ => {}
        }
        state.check_drained();
        Ok(())
    }
}
