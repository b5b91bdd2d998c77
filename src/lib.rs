//! The `redsol` binary's library: everything that touches the outside world, around the actor
//! tree and conversation engine of the `redsol-actors` crate.
//!
//! A map:
//! - [`settings`]: typed settings in layers (embedded `config/default.toml`, `REDSOL_CONFIG`,
//!   environment), secrets wrapped.
//! - [`telemetry`]: logs (human or JSON) and the Prometheus recorder.
//! - [`store`]: the embedded SQLite store (the default, and redsol's own state under Sheets).
//! - [`sheets`]: Google Sheets as the system of record (cached reads, one batched writer).
//! - [`console`]: the console channel.
//! - [`http`]: the axum server (`/health`, `/ready`, `/metrics`, the channels' webhooks).
//! - [`admin`]: the admin API (`/admin/*`, bearer token) for staff's tools.
//! - [`whatsapp`]: the WhatsApp Cloud API channel (signed webhook, Graph API sender).
//! - [`telegram`]: the Telegram channel (teloxide: long polling or webhook, sender).
//! - [`gemini`]: the Gemini language model as a shared actor (retries, breaker, limits).
//! - [`pacing`]: token buckets, backoff and bounded memories shared by the senders.
//! - [`app`]: assembling and running it all, with a graceful stop.
//! - [`commands`]: `status` and `classify`.

pub mod admin;
pub mod app;
pub mod channels;
pub mod commands;
pub mod console;
pub mod gemini;
pub mod http;
pub mod outbox;
pub mod pacing;
pub mod settings;
pub mod shared_rate;
pub mod sheets;
pub mod store;
pub mod telegram;
pub mod telemetry;
pub mod whatsapp;
