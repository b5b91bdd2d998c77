//! `POST /telegram/webhook`: the updates Telegram pushes in webhook mode.
//!
//! A request is taken only with the secret given to `setWebhook` in the
//! `X-Telegram-Bot-Api-Secret-Token` header (compared in constant time; 401 otherwise). Its
//! update is parsed (400 when it is not an update), journaled and handed to its conversation
//! before the 200, so nothing waits on the model or the store's slow paths, nothing is lost if
//! the process stops, and a redelivery is answered once. Until the channel's inbound side has
//! started, and after it stopped, the answer is 503 and Telegram delivers again later.

use super::inbound::Receiver;
use crate::settings::Secret;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use teloxide::types::Update;

/// The path of the contract.
pub const WEBHOOK_PATH: &str = "/telegram/webhook";
/// The header Telegram puts the secret in.
pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";
/// The largest update taken (Telegram's are a few kilobytes).
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// What the webhook needs; the receiver is set when the inbound side starts.
pub struct WebhookState {
    secret: Secret,
    receiver: OnceLock<Receiver>,
    open: AtomicBool,
}

impl WebhookState {
    pub fn new(secret: Secret) -> Self {
        Self {
            secret,
            receiver: OnceLock::new(),
            open: AtomicBool::new(false),
        }
    }

    /// The secret Telegram must present.
    pub fn secret(&self) -> &Secret {
        &self.secret
    }

    /// Starts taking updates.
    pub fn open(&self, receiver: Receiver) {
        let _ = self.receiver.set(receiver);
        self.open.store(true, Ordering::Release);
    }

    /// Stops taking updates (503: Telegram delivers them again later).
    pub fn close(&self) {
        self.open.store(false, Ordering::Release);
    }
}

/// The webhook route.
pub fn routes(state: Arc<WebhookState>) -> Router {
    Router::new()
        .route(WEBHOOK_PATH, post(deliver))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

fn rejected(reason: &'static str, status: StatusCode, message: &'static str) -> Response {
    metrics::counter!("redsol_webhook_rejected_total", "channel" => "telegram", "reason" => reason)
        .increment(1);
    (status, message).into_response()
}

async fn deliver(
    State(state): State<Arc<WebhookState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let given = headers.get(SECRET_HEADER).map(|v| v.as_bytes());
    let reason = match given {
        None => Some("missing_secret"),
        Some(g) if !crate::http::constant_time_eq(state.secret.expose().as_bytes(), g) => {
            Some("bad_secret")
        }
        Some(_) => None,
    };
    if let Some(reason) = reason {
        tracing::warn!(
            event = "bad_webhook_secret",
            channel = "telegram",
            reason,
            bytes = body.len(),
            "Telegram webhook request refused: secret token missing or wrong"
        );
        return rejected(reason, StatusCode::UNAUTHORIZED, "unauthorized\n");
    }
    let receiver = match (state.open.load(Ordering::Acquire), state.receiver.get()) {
        (true, Some(r)) => r,
        _ => return (StatusCode::SERVICE_UNAVAILABLE, "not ready\n").into_response(),
    };
    let update: Update = match serde_json::from_slice(&body) {
        Ok(u) => u,
        Err(e) => {
            tracing::warn!(channel = "telegram", error = %e, bytes = body.len(), "Telegram webhook body is not an update");
            return rejected("malformed", StatusCode::BAD_REQUEST, "malformed update\n");
        }
    };
    match receiver.receive(&update).await {
        Ok(_) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => {
            // Not journaled or not routed: Telegram delivers it again; a journaled one is
            // deduplicated then.
            tracing::error!(channel = "telegram", update_id = update.id.0, error = %e, "could not take a Telegram update; asking Telegram to deliver it again");
            (StatusCode::SERVICE_UNAVAILABLE, "retry later\n").into_response()
        }
    }
}
