//! The records the store keeps: clients, prospects, incidents, requests for staff.

use super::*;

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
