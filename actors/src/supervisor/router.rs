//! [`Router`]: the cheap handle the channels hand messages to the conversations with.

use super::SupervisorMsg;
use crate::model::Inbound;
use ractor::ActorRef;
use std::sync::Arc;
use std::time::Duration;

/// A cheap handle that channels use to hand messages to the conversations.
#[derive(Clone)]
pub struct Router {
    actor: ActorRef<SupervisorMsg>,
}

/// The conversation tree is not running (shutting down or failed).
#[derive(Debug, thiserror::Error)]
#[error("the conversation supervisor is not running")]
pub struct RouteError;

impl Router {
    pub fn new(actor: ActorRef<SupervisorMsg>) -> Self {
        Self { actor }
    }

    /// Hands a message to its conversation. Counts it in `redsol_messages_received_total`.
    pub fn route(&self, inbound: Inbound) -> Result<(), RouteError> {
        metrics::counter!("redsol_messages_received_total", "channel" => inbound.key.channel.as_str())
            .increment(1);
        self.actor
            .cast(SupervisorMsg::Route(Arc::new(inbound)))
            .map_err(|_| RouteError)
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
