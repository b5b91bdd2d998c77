//! Domain types shared by every part of redsol: who is talking, what they said, what we answer,
//! and the records the store keeps. Parsed once at the edge (a channel adapter), used everywhere.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::hash::{Hash, Hasher};

/// The platform a conversation happens on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Console,
    Telegram,
    #[serde(rename = "whatsapp")]
    WhatsApp,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Console, Channel::Telegram, Channel::WhatsApp];

    /// The name used in metrics labels, logs and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Console => "console",
            Channel::Telegram => "telegram",
            Channel::WhatsApp => "whatsapp",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One conversation: a user on a channel. The user id is the platform's (Telegram user id,
/// WhatsApp `wa_id`, or the console session name).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub struct ConversationKey {
    pub channel: Channel,
    pub user: String,
}

impl ConversationKey {
    pub fn new(channel: Channel, user: impl Into<String>) -> Self {
        Self {
            channel,
            user: user.into(),
        }
    }

    /// The key as stored (`channel:user`).
    pub fn storage_key(&self) -> String {
        format!("{}:{}", self.channel, self.user)
    }

    /// An opaque id for logs and traces: a hash, never the phone number or user id itself.
    pub fn opaque_id(&self) -> String {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        "redsol-conversation".hash(&mut h);
        self.hash(&mut h);
        format!("c{:016x}", h.finish())
    }
}

/// What the platform tells us about the sender, when it tells anything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub name: Option<String>,
    pub phone: Option<String>,
}

/// The content of one inbound message, already parsed from the platform's format.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Content {
    /// Typed text (or a command such as `/start`).
    Text(String),
    /// The id of a quick reply the user tapped; continues the dialogue as if typed.
    Choice(String),
    /// A shared location, used as a hint for the zone.
    Location {
        latitude: f64,
        longitude: f64,
        name: Option<String>,
        address: Option<String>,
    },
    /// A shared contact card (the user's phone).
    Contact { phone: String },
    /// Anything we do not understand (photo, sticker, voice...), with the platform's kind.
    Unsupported(String),
}

/// One message from a user, as every channel hands it to the conversation actors.
#[derive(Clone, Debug)]
pub struct Inbound {
    pub key: ConversationKey,
    /// The platform's message id (`wamid`, Telegram `update_id`), when there is one.
    pub message_id: Option<String>,
    pub content: Content,
    pub profile: Profile,
    /// When the channel accepted the message; the response latency is measured from here.
    pub accepted_at: tokio::time::Instant,
}

impl Inbound {
    pub fn text(key: ConversationKey, text: impl Into<String>) -> Self {
        Self {
            key,
            message_id: None,
            content: Content::Text(text.into()),
            profile: Profile::default(),
            accepted_at: tokio::time::Instant::now(),
        }
    }
}

/// A button the user can tap instead of typing: `id` comes back as [`Content::Choice`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuickReply {
    pub id: String,
    pub title: String,
}

impl QuickReply {
    pub fn new(id: impl Into<String>, title: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            title: title.into(),
        }
    }
}

/// One answer of the bot, platform-neutral; the channel renders the quick replies as it can.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub text: String,
    pub quick_replies: Vec<QuickReply>,
}

/// A reply on its way to a channel.
#[derive(Clone, Debug)]
pub struct Outbound {
    pub key: ConversationKey,
    pub reply: Reply,
    /// The inbound message this answers, when it had an id (for idempotent sends, read receipts).
    pub in_reply_to: Option<String>,
    /// The reply's row in the store's outbox, when it is durable: the channel marks it sent
    /// once the platform accepted it, and unsent ones are sent again after a restart.
    pub outbox_id: Option<String>,
    pub accepted_at: tokio::time::Instant,
}

/// Where a channel takes replies. Implemented by every channel (an actor ref, a queue...).
pub trait ReplySink: Send + Sync + 'static {
    fn deliver(&self, out: Outbound);
}

/// The intents of the contract (`architecture.md` §3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Intent {
    Greeting,
    Register,
    Plans,
    Coverage,
    ReportIncident,
    IncidentStatus,
    Billing,
    HumanAgent,
    Goodbye,
    Help,
    Stats,
    ClientSearch,
    Finance,
    CancelService,
    ChangePlan,
    OutOfScope,
}

impl Intent {
    pub const ALL: [Intent; 16] = [
        Intent::Greeting,
        Intent::Register,
        Intent::Plans,
        Intent::Coverage,
        Intent::ReportIncident,
        Intent::IncidentStatus,
        Intent::Billing,
        Intent::HumanAgent,
        Intent::Goodbye,
        Intent::Help,
        Intent::Stats,
        Intent::ClientSearch,
        Intent::Finance,
        Intent::CancelService,
        Intent::ChangePlan,
        Intent::OutOfScope,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Intent::Greeting => "greeting",
            Intent::Register => "register",
            Intent::Plans => "plans",
            Intent::Coverage => "coverage",
            Intent::ReportIncident => "report_incident",
            Intent::IncidentStatus => "incident_status",
            Intent::Billing => "billing",
            Intent::HumanAgent => "human_agent",
            Intent::Goodbye => "goodbye",
            Intent::Help => "help",
            Intent::Stats => "stats",
            Intent::ClientSearch => "client_search",
            Intent::Finance => "finance",
            Intent::CancelService => "cancel_service",
            Intent::ChangePlan => "change_plan",
            Intent::OutOfScope => "out_of_scope",
        }
    }

    pub fn parse(s: &str) -> Option<Intent> {
        Intent::ALL.into_iter().find(|i| i.as_str() == s)
    }

    /// The intent's position in [`Intent::ALL`] (the order of score and probability arrays).
    pub fn index(self) -> usize {
        self as usize
    }

    /// Intents answered only to staff.
    pub fn staff_only(self) -> bool {
        matches!(self, Intent::Stats | Intent::ClientSearch | Intent::Finance)
    }
}

impl fmt::Display for Intent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What kind of trouble an incident report describes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    NoService,
    Slow,
    Intermittent,
    Other,
}

impl IncidentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            IncidentKind::NoService => "no_service",
            IncidentKind::Slow => "slow",
            IncidentKind::Intermittent => "intermittent",
            IncidentKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<IncidentKind> {
        [
            IncidentKind::NoService,
            IncidentKind::Slow,
            IncidentKind::Intermittent,
            IncidentKind::Other,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// The Spanish label written to the store's `Tipo` column.
    pub fn label_es(self) -> &'static str {
        match self {
            IncidentKind::NoService => "Sin servicio",
            IncidentKind::Slow => "Lentitud",
            IncidentKind::Intermittent => "Intermitencia",
            IncidentKind::Other => "Otro",
        }
    }
}

/// Incident priority, as the business rules name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub enum Priority {
    Alta,
    Media,
    Baja,
}

impl Priority {
    pub const ALL: [Priority; 3] = [Priority::Alta, Priority::Media, Priority::Baja];

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Alta => "Alta",
            Priority::Media => "Media",
            Priority::Baja => "Baja",
        }
    }

    pub fn parse(s: &str) -> Option<Priority> {
        Priority::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The entities of the contract that the NLU extracts from one utterance.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Entities {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_mbps: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub incident_kind: Option<IncidentKind>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub modem_restarted: Option<bool>,
    /// A place named that is not one of our zones ("Irapuato", "Col. Las Flores").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    /// A phone number said in passing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// A ticket id typed by the user, as stored (`INC-000123`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
}

/// Where an understanding came from (the `source` label of `redsol_intents_total`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Rules,
    Llm,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Rules => "rules",
            Source::Llm => "llm",
        }
    }
}

/// The result of understanding one utterance.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Understanding {
    pub intent: Intent,
    pub confidence: f32,
    pub entities: Entities,
    pub source: Source,
    /// The next most probable intent and its probability, when the offline model gives one:
    /// two close candidates get a question, not a guess.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runner_up: Option<(Intent, f32)>,
}

/// A client of the ISP (the `Clientes` tab).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Client {
    pub id: String,
    pub name: String,
    pub email: String,
    pub zone: String,
    pub phone: String,
    pub plan_mbps: u32,
    pub price: u32,
    /// `Activo`, `Suspendido` or `Cancelado`.
    pub status: String,
    /// `YYYY-MM-DD`.
    pub signup_date: String,
}

/// A would-be client collected by the registration flow (the `Prospectos` tab).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewProspect {
    pub name: String,
    pub phone: Option<String>,
    pub zone: String,
    pub plan_mbps: u32,
    pub price: u32,
    pub key: ConversationKey,
    /// A would-be client where we do not reach yet: saved with Estado "Sin cobertura", the
    /// place in the zone, no plan.
    #[serde(default)]
    pub outside_coverage: bool,
    /// The inbound message that made this record (`channel:user:message id`): a replay of
    /// the message finds the record instead of writing it twice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl NewProspect {
    /// The Estado a new prospect is saved with.
    pub fn initial_status(&self) -> &'static str {
        if self.outside_coverage {
            "Sin cobertura"
        } else {
            "Nuevo"
        }
    }
}

/// A stored prospect, with its id (`PRO-000001`) and creation time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prospect {
    pub id: String,
    pub created_at: String,
    pub status: String,
    #[serde(flatten)]
    pub data: NewProspect,
}

/// An incident reported by a user (the `Incidentes` tab).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewIncident {
    pub client_id: Option<String>,
    pub client_name: String,
    pub kind: IncidentKind,
    pub description: String,
    pub priority: Priority,
    pub zone: Option<String>,
    pub phone: Option<String>,
    pub key: ConversationKey,
    /// The inbound message that made this record (`channel:user:message id`): a replay of
    /// the message finds the record instead of writing it twice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A stored incident with its ticket id (`INC-000123`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    pub id: String,
    /// `Nuevo`, `En proceso`, `Resuelto`...
    pub status: String,
    pub created_at: String,
    pub technician: String,
    #[serde(flatten)]
    pub data: NewIncident,
}

impl Incident {
    pub fn is_open(&self) -> bool {
        !matches!(self.status.as_str(), "Resuelto" | "Cerrado" | "Cancelado")
    }
}

/// A request the bot cannot serve yet and records for staff (human handoff, billing).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRequest {
    pub kind: String,
    pub text: String,
    pub key: ConversationKey,
    /// The inbound message that made this record (`channel:user:message id`): a replay of
    /// the message finds the request (of that kind) instead of writing it twice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// How an inbound message is kept in the journal: what is needed to process it again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JournalPayload {
    pub content: Content,
    pub profile: Profile,
}

impl Inbound {
    /// The journal form of this message (`None` when it has no platform id to dedupe by).
    pub fn journal_entry(&self) -> Option<crate::store::JournalEntry> {
        let message_id = self.message_id.clone()?;
        let payload = serde_json::to_string(&JournalPayload {
            content: self.content.clone(),
            profile: self.profile.clone(),
        })
        .ok()?;
        Some(crate::store::JournalEntry {
            key: self.key.clone(),
            message_id,
            payload,
        })
    }

    /// Rebuilds a journaled message (after a restart), accepted now.
    pub fn from_journal(entry: &crate::store::JournalEntry) -> Result<Inbound, serde_json::Error> {
        let payload: JournalPayload = serde_json::from_str(&entry.payload)?;
        Ok(Inbound {
            key: entry.key.clone(),
            message_id: Some(entry.message_id.clone()),
            content: payload.content,
            profile: payload.profile,
            accepted_at: tokio::time::Instant::now(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Intent;

    #[test]
    fn an_intents_index_is_its_place_in_all() {
        for (i, intent) in Intent::ALL.iter().enumerate() {
            assert_eq!(intent.index(), i, "{intent}");
        }
    }
}
