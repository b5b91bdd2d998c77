//! redsol's actor tree and conversation engine. No network code lives here: channels and
//! outside services are reached through the [`model::ReplySink`], [`brain::Brain`] and
//! [`store::Store`] seams, implemented in the `redsol` binary crate.
//!
//! A map of the crate:
//! - [`model`]: the domain types every part shares (`Inbound`, `Reply`, `Intent`, records).
//! - [`rules`]: business rules and limits loaded from `config/` (plans, zones, templates).
//! - [`text`] and [`nlu`]: normalization of phone-typed Spanish and the offline NLU.
//! - [`brain`]: the understanding seam (offline now, Gemini later).
//! - [`dialogue`]: the repair patterns' triggers shared by every flow (back out, resume, yes/no).
//! - [`engine`]: one turn of dialogue: repair first, then the flows (registration, incidents,
//!   staff reports); [`flows`] holds the flows that live in their own file.
//! - [`reports`]: statistics, finance and client search for staff.
//! - [`store`]: the store seam, plus an in-memory implementation; [`demo`] seeds demo clients.
//! - [`conversation`]: the actor holding one conversation's state, history and rate limit.
//! - [`supervisor`]: the supervisor that routes inbound messages to conversations, restarts
//!   failed ones within a budget, and passivates idle ones.
//! - [`testing`]: the default rules for tests and benchmarks.

pub mod brain;
pub mod campaign;
pub mod clock;
pub mod conversation;
pub mod demo;
pub mod dialogue;
pub mod engine;
#[cfg(feature = "fault-injection")]
pub mod fault;
pub mod flows;
pub mod model;
pub mod nlu;
pub mod notify;
pub mod reports;
pub mod root;
pub mod rules;
pub mod store;
pub mod supervisor;
pub mod testing;
pub mod text;
