//! The WhatsApp Cloud API channel against a fake Graph API (and, later, a signed webhook):
//! one integration-test binary, so it builds once.

mod backlog;
mod billing;
mod billing_sheets;
mod binary;
mod campaign;
#[path = "../sheets/fake.rs"]
mod fake;
mod fake_graph;
mod in_flight;
mod media;
mod notices;
mod outages;
mod outbound;
mod pacing;
#[allow(dead_code)]
#[path = "../sheets/seed.rs"]
mod seed;
mod sender_harness;
mod sender_outbox;
mod shared_rate;
#[path = "../support/mod.rs"]
mod support;
mod webhook;
