//! The WhatsApp Cloud API channel: the webhook Meta calls (signed deliveries, journaled and
//! acknowledged before they are processed) and the Graph API sender of the replies (paced
//! within Meta's limits, retried with backoff, each reply sent once).
//!
//! - [`signature`]: `X-Hub-Signature-256` over the raw body.
//! - [`payload`]: Meta's delivery JSON walked into `Inbound` messages and status events.
//! - [`webhook`]: the axum routes `GET`/`POST /webhook`.
//! - [`graph`]: the Graph API client and the rendering of replies into Graph messages.
//! - [`outbound`]: the sender actor: queue, pacing, retries, outbox bookkeeping.

pub mod graph;
pub mod outbound;
pub mod payload;
pub mod signature;
pub mod webhook;
