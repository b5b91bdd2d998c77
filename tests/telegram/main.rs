//! The Telegram channel, end to end in process: the real channel and actor tree against a fake
//! Bot API server that checks the wire protocol (see `fake.rs`).

mod binary;
mod conversations;
mod delivery;
mod failover;
mod fake;
#[path = "../sheets/fake.rs"]
mod fake_google;
#[allow(dead_code)]
#[path = "../whatsapp/fake_graph.rs"]
mod fake_graph;
mod followup;
mod handoff;
mod harness;
mod metrics;
mod polling;
mod restart;
#[path = "../support/mod.rs"]
mod support;
mod webhook;
