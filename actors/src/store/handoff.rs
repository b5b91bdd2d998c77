//! Handoffs to a person: who asked, who took the conversation, until when. The store decides
//! who owns a conversation, once, even when two staff members tap "Atender" together.

use super::{BoxFuture, StoreResult};
use crate::model::ConversationKey;
use serde::{Deserialize, Serialize};

/// A customer's request for a person, as the conversation makes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewHandoff {
    pub customer: ConversationKey,
    /// The customer's name as the bot knows it.
    pub name: String,
    /// One line on what it is about (the last request understood), never the customer's words.
    pub topic: String,
    /// The inbound message that asked (`channel:user:message id`): a replayed message finds
    /// its handoff instead of opening a second one.
    pub source: Option<String>,
    /// Unix seconds.
    pub at: u64,
    /// Whether its card is posted with the request (in business hours).
    pub carded: bool,
}

/// The staff member who holds a conversation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    /// The staff member's own conversation (their private chat with the bot).
    pub key: ConversationKey,
    pub name: String,
}

/// A handoff that has not ended: waiting for someone, or held by someone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handoff {
    /// `H-000001`.
    pub id: String,
    pub customer: ConversationKey,
    pub name: String,
    pub topic: String,
    /// Unix seconds.
    pub requested_at: u64,
    pub owner: Option<Owner>,
    pub taken_at: Option<u64>,
    /// When it was taken or its staff member last wrote (Unix seconds): silence past the
    /// idle limit returns the conversation to the bot.
    pub last_activity: u64,
    /// Whether staff were shown its card (a request out of hours waits for the opening).
    pub carded: bool,
    /// The inbound message that opened it.
    pub source: Option<String>,
}

/// What a tap on "Atender" got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// This staff member holds it; `fresh` when this tap took it (or a replay of that tap),
    /// not when they held it already (a tap to switch to it).
    Taken { handoff: Handoff, fresh: bool },
    /// Somebody else took it first.
    HeldBy(Handoff),
    /// It ended (released, abandoned), never was, or is the staff member's own request.
    Gone,
}

/// How a handoff ended, as stored and counted (`redsol_handoffs_total{outcome}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// Staff gave it back (`/soltar`).
    Released,
    /// Nobody wrote for the idle limit.
    Idle,
    /// The customer backed out before anyone took it.
    Abandoned,
    /// Nobody took it within a day.
    Expired,
}

impl Ended {
    pub fn as_str(self) -> &'static str {
        match self {
            Ended::Released => "released",
            Ended::Idle => "idle",
            Ended::Abandoned => "abandoned",
            Ended::Expired => "expired",
        }
    }
}

pub fn handoff_id(seq: u64) -> String {
    format!("H-{seq:06}")
}

/// The handoff records. Every method is atomic on its own.
pub trait Handoffs: Send + Sync + 'static {
    /// Opens a handoff for the customer, or returns the one already open for them (or the one
    /// `source` opened); with whether it was opened now.
    fn open_handoff(&self, new: NewHandoff) -> BoxFuture<'_, StoreResult<(Handoff, bool)>>;

    /// Gives a waiting handoff to `owner`, unless someone else has it. `source` is the message
    /// that taps (a replay of it is the same tap).
    fn claim_handoff(
        &self,
        id: &str,
        owner: Owner,
        at: u64,
        source: Option<String>,
    ) -> BoxFuture<'_, StoreResult<Claim>>;

    /// The customer's open handoff, if any.
    fn handoff_for(
        &self,
        customer: &ConversationKey,
    ) -> BoxFuture<'_, StoreResult<Option<Handoff>>>;

    /// The handoffs a staff member holds, oldest first.
    fn handoffs_held(&self, owner: &ConversationKey) -> BoxFuture<'_, StoreResult<Vec<Handoff>>>;

    /// Notes a staff member's message relayed at `at` (the idle limit counts from it).
    fn touch_handoff(&self, id: &str, at: u64) -> BoxFuture<'_, StoreResult<()>>;

    /// Ends an open handoff; the handoff as it was, or `None` when it had already ended
    /// (unless `source`, the message that ends it, ended it: a replay gets it again).
    fn end_handoff(
        &self,
        id: &str,
        ended: Ended,
        at: u64,
        source: Option<String>,
    ) -> BoxFuture<'_, StoreResult<Option<Handoff>>>;

    /// Every open handoff, oldest first.
    fn open_handoffs(&self) -> BoxFuture<'_, StoreResult<Vec<Handoff>>>;

    /// Notes that staff were shown the handoff's card; `false` when they had been already.
    fn mark_carded(&self, id: &str) -> BoxFuture<'_, StoreResult<bool>>;
}
