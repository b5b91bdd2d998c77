//! The Telegram channel, end to end in process: the real channel and actor tree against a fake
//! Bot API server that checks the wire protocol (see `fake.rs`).

mod conversations;
mod delivery;
mod fake;
mod harness;
mod metrics;
mod polling;
mod restart;
mod webhook;
