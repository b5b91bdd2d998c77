//! The WhatsApp Cloud API channel against a fake Graph API (and, later, a signed webhook):
//! one integration-test binary, so it builds once.

mod billing;
mod binary;
mod campaign;
mod fake_graph;
mod notices;
mod outages;
mod outbound;
mod sender_harness;
mod sender_outbox;
#[path = "../support/mod.rs"]
mod support;
mod webhook;
