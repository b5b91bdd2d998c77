//! The dialogue layer shared by every flow.
//! - [`state`]: the conversation's state, snapshotted after every turn.
//! - [`signals`]: the repair patterns' triggers (back out, resume, yes, no, emoji, a date).
//! - [`repair`]: the repair patterns applied before any flow sees a message.
//! - [`digression`]: what a running flow did not ask for: questions, other requests, two
//!   close readings, a phone in passing.
//! - [`followups`]: several requests in one message, served one after another.
//! - [`replies`]: the replies every flow shares (templates, buttons, the pending question).

pub mod digression;
pub mod followups;
pub mod repair;
pub mod replies;
mod signal_words;
pub mod signals;
pub mod state;
