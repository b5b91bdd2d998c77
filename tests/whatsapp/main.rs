//! The WhatsApp Cloud API channel against a fake Graph API (and, later, a signed webhook):
//! one integration-test binary, so it builds once.

mod fake_graph;
mod outages;
mod outbound;
#[path = "../support/mod.rs"]
mod support;
mod webhook;
