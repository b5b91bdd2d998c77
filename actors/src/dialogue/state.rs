//! The state of one conversation, snapshotted after every turn: where the dialogue is (the
//! running flow and what it collected), the flow the customer backed out of, the last turns.

use crate::brain::UnderstandContext;
pub use crate::flows::incident::IncidentDraft;
pub use crate::flows::register::RegisterDraft;
use crate::model::Profile;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Where the dialogue is.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Dialogue {
    #[default]
    Idle,
    /// Signing up; asks for what is missing of name, zone and plan.
    Registering(RegisterDraft),
    /// Reporting a fault; asks for what is missing of description, since when, modem restart.
    Reporting(IncidentDraft),
    /// Asked which zone to check coverage for.
    AskingCoverageZone,
    /// A staff member asked to search without saying for whom.
    AskingSearchQuery,
    /// A client asked to change plan; the new plan, once known, waits for a yes.
    ChangingPlan { plan_mbps: Option<u32> },
    /// A place we do not reach: the offer to be called when we do.
    Lead(crate::flows::lead::LeadDraft),
    /// A client asked to cancel the service; waits for a yes before it is recorded.
    CancellingService { reason: String },
    /// Billing: checking who asks, or waiting for a receipt.
    Billing(crate::flows::billing::BillingStep),
}

/// A flow the customer backed out of, kept for a day so "siempre sí" resumes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paused {
    pub dialogue: Dialogue,
    /// Unix seconds after which it is forgotten.
    pub until: u64,
}

/// How long a flow the customer backed out of is kept.
pub(crate) const PAUSED_SECS: u64 = 24 * 3600;

pub(crate) use crate::store::unix_now;

/// One remembered exchange.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Turn {
    pub user: String,
    pub bot: String,
}

/// The state of one conversation: snapshotted after every turn.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConversationState {
    pub dialogue: Dialogue,
    pub history: VecDeque<Turn>,
    /// What we learned of the user (platform profile, shared contact, given name).
    pub profile: Profile,
    /// Tokens left in the inbound rate-limit bucket.
    pub rate_tokens: Option<f64>,
    /// Whether the user was told they are rate limited (one notice per exhaustion).
    pub rate_notified: bool,
    /// The flow the user backed out of, if any (see [`Paused`]).
    #[serde(default)]
    pub paused: Option<Paused>,
    /// Messages in a row the bot could not handle; at two it offers a person.
    #[serde(default)]
    pub misses: u8,
    /// The plan and zone the user mentioned last (a price asked, a coverage checked), so
    /// "contrátamelo" knows which.
    #[serde(default)]
    pub last_plan: Option<u32>,
    #[serde(default)]
    pub last_zone: Option<String>,
    /// Requests made in the same message as another, answered once the running flow ends
    /// ("no me jala el internet… además quiero cambiarme de plan").
    #[serde(default)]
    pub followups: Vec<FollowUp>,
    /// The registration just saved, so a correction right after it reaches staff.
    #[serde(default)]
    pub last_registration: Option<LastRegistration>,
    /// When the rate-limit bucket was last refilled (Unix milliseconds): a conversation woken
    /// from its snapshot refills for the time it slept.
    #[serde(default)]
    pub rate_refilled_ms: Option<u64>,
    /// When the store last recorded that this customer wrote (Unix seconds), and the phone it
    /// recorded: recorded again after an hour, or when a phone is shared.
    #[serde(default)]
    pub contact_touched: u64,
    #[serde(default)]
    pub contact_phone: Option<String>,
    /// The client whose account this customer proved theirs (billing), and until when
    /// billing lookups are locked after three wrong answers (Unix seconds).
    #[serde(default)]
    pub billing_client: Option<String>,
    #[serde(default)]
    pub billing_locked_until: u64,
    /// The inbound message this turn answers (`channel:user:message id`), the source of any
    /// record the turn writes. Not snapshotted.
    #[serde(skip)]
    pub turn_source: Option<String>,
    /// This turn's answer holds staff data: asked in a group, it goes to the user's private
    /// chat, and the group is told so. Not snapshotted.
    #[serde(skip)]
    pub private_reply: bool,
    /// The last request understood (what a handoff's card says it is about).
    #[serde(default)]
    pub last_intent: Option<crate::model::Intent>,
    /// A customer's open handoff to a person (its id): while a person holds it, what the
    /// customer writes goes to them.
    #[serde(default)]
    pub handoff: Option<String>,
    /// A staff member's: the customer their messages go to.
    #[serde(default)]
    pub relay: Option<crate::flows::handoff::Relay>,
    /// This turn answers nothing to the user (a message relayed to a person). Not snapshotted.
    #[serde(skip)]
    pub silent: bool,
    /// The open outage of the customer's zone (their client record's), when there is one.
    /// Not snapshotted: looked up each turn.
    #[serde(skip)]
    pub zone_outage: Option<crate::store::outages::Outage>,
    /// What this turn sends to other conversations (a card, a relayed message). Not
    /// snapshotted: the turn's commit queues it in the outbox.
    #[serde(skip)]
    pub outgoing: Vec<crate::flows::handoff::Addressed>,
}

impl ConversationState {
    /// Keeps what a message said in passing for the flows that need it: a phone, the plan
    /// and the zone last mentioned ("contrátamelo" knows which).
    pub(crate) fn remember(&mut self, u: &crate::model::Understanding) {
        if let Some(phone) = &u.entities.phone {
            self.profile.phone = Some(phone.clone());
        }
        if u.entities.plan_mbps.is_some() {
            self.last_plan = u.entities.plan_mbps;
        }
        if u.entities.zone.is_some() {
            self.last_zone = u.entities.zone.clone();
        }
        if crate::flows::handoff::is_topic(u.intent) {
            self.last_intent = Some(u.intent);
        }
    }
}

/// A registration just saved: what a correction right after it would change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastRegistration {
    pub id: String,
    pub zone: String,
    pub plan_mbps: u32,
    /// Unix seconds after which a zone or plan said is a new message, not a correction.
    pub until: u64,
}

/// A request kept for later: its intent and the words it was said in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FollowUp {
    pub intent: crate::model::Intent,
    pub text: String,
}

/// What the brain is told of the conversation: its last turns, and when this turn began
/// (the brain's calls within one turn share one budget).
pub(crate) fn context_of(state: &ConversationState) -> UnderstandContext {
    UnderstandContext {
        history: state
            .history
            .iter()
            .map(|t| (t.user.clone(), t.bot.clone()))
            .collect(),
        started: Some(tokio::time::Instant::now()),
    }
}
