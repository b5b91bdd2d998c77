//! The top of the actor tree.
//!
//! [`RootSupervisor`] owns the [`ConversationSupervisor`] and escalates its failure: if it dies,
//! the root stops, and the process exits for its service manager to restart it.
//!
//! It also adopts the other long-lived actors the binary starts, the channels' senders, as
//! [`Supervised`] children. When one fails (or stops for any reason but `"shutdown"`), the root starts a
//! new one through [`Supervised::restart`], counted in `redsol_actor_restarts_total{actor}`, at
//! most [`CHILD_RESTARTS`] times in [`CHILD_RESTART_WINDOW`]; past that, or when a restart
//! fails, it escalates like a conversation supervisor failure.

use crate::supervisor::{ConversationSupervisor, Router, SupervisorArgs};
use ractor::{
    Actor, ActorCell, ActorId, ActorProcessingErr, ActorRef, RpcReplyPort, SupervisionEvent,
};
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Restarts of one child allowed within [`CHILD_RESTART_WINDOW`].
pub const CHILD_RESTARTS: usize = 5;
pub const CHILD_RESTART_WINDOW: Duration = Duration::from_secs(60);
/// The stop reason of a child stopped on purpose: the root forgets it.
pub const SHUTDOWN: &str = "shutdown";

/// A long-lived actor the root supervises besides the conversations (a channel's sender).
pub trait Supervised: Send + Sync + 'static {
    /// For logs and `redsol_actor_restarts_total{actor}`.
    fn name(&self) -> &'static str;

    /// Starts a fresh instance linked under `supervisor`, picking up where the failed one
    /// left (a sender resumes from the outbox). Returns its cell.
    fn restart(
        &self,
        supervisor: ActorCell,
    ) -> Pin<Box<dyn Future<Output = Result<ActorCell, String>> + Send + '_>>;
}

/// Messages of the root supervisor.
pub enum RootMsg {
    /// The router to the conversations.
    Router(RpcReplyPort<Router>),
    /// Supervise this running actor from now on.
    Adopt(ActorCell, Arc<dyn Supervised>),
}

pub struct RootState {
    router: Router,
    conversations: ActorId,
    children: HashMap<ActorId, Arc<dyn Supervised>>,
    /// Recent restarts of each child, by name.
    restarts: HashMap<&'static str, VecDeque<Instant>>,
}

impl RootState {
    /// Records a restart of `name`; `false` when its budget is spent.
    fn within_budget(&mut self, name: &'static str, now: Instant) -> bool {
        let recent = self.restarts.entry(name).or_default();
        while recent
            .front()
            .is_some_and(|t| now.duration_since(*t) > CHILD_RESTART_WINDOW)
        {
            recent.pop_front();
        }
        recent.push_back(now);
        recent.len() <= CHILD_RESTARTS
    }

    /// A child ended: restart it, or escalate when its budget is spent or it cannot start.
    async fn child_ended(
        &mut self,
        myself: &ActorRef<RootMsg>,
        child: Arc<dyn Supervised>,
        why: String,
    ) {
        let name = child.name();
        if !self.within_budget(name, Instant::now()) {
            tracing::error!(
                actor = name,
                why,
                restarts = CHILD_RESTARTS,
                window_secs = CHILD_RESTART_WINDOW.as_secs(),
                "an actor failed too often; escalating (the process stops)"
            );
            myself.stop(Some(format!("{name} failed too often: {why}")));
            return;
        }
        tracing::error!(actor = name, why, "an actor failed; restarting it");
        match child.restart(myself.get_cell()).await {
            Ok(cell) => {
                metrics::counter!("redsol_actor_restarts_total", "actor" => name).increment(1);
                self.children.insert(cell.get_id(), child);
            }
            Err(e) => {
                tracing::error!(actor = name, error = %e, "could not restart an actor; escalating (the process stops)");
                myself.stop(Some(format!("{name} could not restart: {e}")));
            }
        }
    }
}

/// The top of the tree: see the module docs.
pub struct RootSupervisor;

impl Actor for RootSupervisor {
    type Msg = RootMsg;
    type State = RootState;
    type Arguments = SupervisorArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        args: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        let (conversations, _) =
            Actor::spawn_linked(None, ConversationSupervisor, args, myself.get_cell()).await?;
        Ok(RootState {
            conversations: conversations.get_id(),
            router: Router::new(conversations),
            children: HashMap::new(),
            restarts: HashMap::new(),
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            RootMsg::Router(port) => {
                let _ = port.send(state.router.clone());
            }
            RootMsg::Adopt(cell, child) => {
                cell.link(myself.get_cell());
                tracing::debug!(actor = child.name(), "supervised by the root");
                state.children.insert(cell.get_id(), child);
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
            SupervisionEvent::ActorFailed(cell, err) if cell.get_id() != state.conversations => {
                if let Some(child) = state.children.remove(&cell.get_id()) {
                    state.child_ended(&myself, child, err.to_string()).await;
                }
            }
            SupervisionEvent::ActorTerminated(cell, _, reason)
                if cell.get_id() != state.conversations =>
            {
                if let Some(child) = state.children.remove(&cell.get_id()) {
                    if reason.as_deref() != Some(SHUTDOWN) {
                        let why = format!("stopped: {}", reason.as_deref().unwrap_or("no reason"));
                        state.child_ended(&myself, child, why).await;
                    }
                }
            }
            SupervisionEvent::ActorFailed(_, err) => {
                metrics::counter!("redsol_actor_restarts_total", "actor" => "conversation_supervisor")
                    .increment(1);
                tracing::error!(error = %err, "the conversation supervisor failed; escalating (the process stops)");
                myself.stop(Some(format!("conversation supervisor failed: {err}")));
            }
            SupervisionEvent::ActorTerminated(_, _, reason) => {
                tracing::info!(?reason, "the conversation supervisor stopped");
                myself.stop(reason);
            }
            _ => {}
        }
        Ok(())
    }
}

/// Starts the actor tree and returns the router and the root's join handle (it ends when the
/// tree stops; a failure that escalated makes it end early).
pub async fn start(
    args: SupervisorArgs,
) -> Result<(Router, ActorRef<RootMsg>, tokio::task::JoinHandle<()>), ActorProcessingErr> {
    let (root, handle) = Actor::spawn(None, RootSupervisor, args).await?;
    let router = ractor::call!(root, RootMsg::Router)?;
    Ok((router, root, handle))
}
