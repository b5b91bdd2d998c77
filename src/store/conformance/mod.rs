//! The behaviour every store backend owes the engine, written once and run against each
//! backend by its own tests (SQLite always; PostgreSQL with `REDSOL_TEST_DATABASE_URL`): one
//! suite, two backends.

pub mod handoffs;
pub mod notices;
pub mod outages;
pub mod payments;
pub mod records;
pub mod tickets;
pub mod turns;

use redsol_actors::model::{
    Channel, ConversationKey, IncidentKind, NewIncident, NewProspect, Priority,
};
use redsol_actors::store::{BoxFuture, JournalEntry, Store};
use std::sync::Arc;

/// Opens the same database again (a restart, or another replica).
pub type Reopen = Box<dyn Fn() -> BoxFuture<'static, Arc<dyn Store>> + Send + Sync>;

pub fn key(user: &str) -> ConversationKey {
    ConversationKey::new(Channel::Telegram, user)
}

pub fn prospect(user: &str, name: &str) -> NewProspect {
    NewProspect {
        name: name.into(),
        phone: Some("4641234567".into()),
        zone: "Valtierrilla".into(),
        plan_mbps: 50,
        price: 600,
        key: key(user),
        outside_coverage: false,
        source: None,
    }
}

pub fn incident(key: ConversationKey, priority: Priority, description: &str) -> NewIncident {
    NewIncident {
        client_id: Some("CLI-0001".into()),
        client_name: "José Hernández".into(),
        kind: IncidentKind::Slow,
        description: description.into(),
        priority,
        zone: None,
        phone: Some("4641234567".into()),
        key,
        source: None,
    }
}

/// A WhatsApp message of `user` as the journal keeps it.
pub fn entry(user: &str, message_id: &str) -> JournalEntry {
    JournalEntry {
        key: ConversationKey::new(Channel::WhatsApp, user),
        message_id: message_id.into(),
        payload: format!("{{\"text\":\"{message_id}\"}}"),
    }
}
