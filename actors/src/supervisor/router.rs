//! [`Router`]: the cheap handle the channels hand messages to the conversations with.

use super::SupervisorMsg;
use crate::model::{ConversationKey, Inbound};
use ractor::ActorRef;
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, MutexGuard};

/// How many locks the conversations are spread over (see [`Router::hold`]).
const STRIPES: usize = 64;

/// A cheap handle that channels use to hand messages to the conversations.
#[derive(Clone)]
pub struct Router {
    actor: ActorRef<SupervisorMsg>,
    /// Held from a message's admission to its routing when replicas share the conversations,
    /// so that one conversation's messages reach it in the journal's order.
    stripes: Arc<[Mutex<()>]>,
}

/// The conversation tree is not running (shutting down or failed).
#[derive(Debug, thiserror::Error)]
#[error("the conversation supervisor is not running")]
pub struct RouteError;

impl Router {
    pub fn new(actor: ActorRef<SupervisorMsg>) -> Self {
        Self {
            actor,
            stripes: (0..STRIPES).map(|_| Mutex::new(())).collect(),
        }
    }

    /// Hands a message to its conversation. Counts it in `redsol_messages_received_total`.
    pub fn route(&self, inbound: Inbound) -> Result<(), RouteError> {
        self.route_leased(inbound, None)
    }

    /// [`Self::route`] under the token of the conversation's lease (replicas sharing them).
    pub fn route_leased(&self, inbound: Inbound, lease: Option<u64>) -> Result<(), RouteError> {
        metrics::counter!("redsol_messages_received_total", "channel" => inbound.key.channel.as_str())
            .increment(1);
        self.actor
            .cast(SupervisorMsg::Route(Arc::new(inbound), lease))
            .map_err(|_| RouteError)
    }

    /// Holds the locks of these conversations (taken in one order, so two holders never wait
    /// on each other): while held, nothing else routes a message to them from this process.
    pub async fn hold<'a>(
        &self,
        keys: impl IntoIterator<Item = &'a ConversationKey>,
    ) -> Vec<MutexGuard<'_, ()>> {
        let mut stripes: Vec<usize> = keys
            .into_iter()
            .map(|key| {
                let mut hasher = std::collections::hash_map::DefaultHasher::new();
                key.hash(&mut hasher);
                (hasher.finish() % STRIPES as u64) as usize
            })
            .collect();
        stripes.sort_unstable();
        stripes.dedup();
        let mut held = Vec::with_capacity(stripes.len());
        for stripe in stripes {
            held.push(self.stripes[stripe].lock().await);
        }
        held
    }

    /// How many conversations are live.
    pub async fn active(&self) -> Result<usize, RouteError> {
        ractor::call!(self.actor, SupervisorMsg::Active).map_err(|_| RouteError)
    }

    /// Lets every conversation finish its queued messages (graceful shutdown), within `grace`.
    pub async fn drain(&self, grace: Duration) -> Result<(), RouteError> {
        match self.actor.call(SupervisorMsg::Drain, Some(grace)).await {
            Ok(ractor::rpc::CallResult::Success(())) => Ok(()),
            _ => Err(RouteError),
        }
    }

    pub fn actor(&self) -> &ActorRef<SupervisorMsg> {
        &self.actor
    }
}
