//! The webhook Meta calls: `GET /webhook` (subscription verification) and `POST /webhook`
//! (deliveries). A delivery is accepted only with a valid signature; its messages are
//! journaled (deduplicated by `wamid`) and handed to their conversations before the 200, so
//! nothing blocks on the model or the store's slow paths, nothing is lost if the process
//! stops, and a redelivery is answered once.

use super::payload::Delivery;
use super::signature;
use crate::settings::Secret;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use redsol_actors::store::Store;
use redsol_actors::supervisor::{accept_all, AcceptError, Accepted, Router as Conversations};
use std::collections::HashMap;
use std::sync::Arc;

/// What the webhook needs.
#[derive(Clone)]
pub struct WebhookState {
    pub verify_token: Option<Secret>,
    pub app_secret: Secret,
    /// Our business number: deliveries for another are logged and dropped.
    pub phone_number_id: String,
    pub store: Arc<dyn Store>,
    pub conversations: Conversations,
    /// Marks an inbound message as read (best effort, queued by the sender).
    pub mark_read: Arc<dyn Fn(String) + Send + Sync>,
}

/// The `/webhook` routes, with the body limit from config: a body announced larger gets 413
/// before it is read, and one that turns out larger while read gets 413 too.
pub fn routes(state: WebhookState, max_body_bytes: usize) -> Router {
    Router::new()
        .route("/webhook", get(verify).post(deliver))
        .layer(DefaultBodyLimit::max(max_body_bytes))
        .layer(middleware::from_fn(move |req: Request, next: Next| {
            refuse_announced_oversize(req, next, max_body_bytes)
        }))
        .with_state(Arc::new(state))
}

async fn refuse_announced_oversize(req: Request, next: Next, max: usize) -> Response {
    let announced = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if announced.is_some_and(|n| n > max) {
        tracing::warn!(
            channel = "whatsapp",
            bytes = announced,
            max,
            "webhook body too large"
        );
        return rejected(
            "too_large",
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload too large\n",
        );
    }
    next.run(req).await
}

fn rejected(reason: &'static str, status: StatusCode, message: &'static str) -> Response {
    metrics::counter!("redsol_webhook_rejected_total", "channel" => "whatsapp", "reason" => reason)
        .increment(1);
    (status, message).into_response()
}

/// `GET /webhook?hub.mode=subscribe&hub.verify_token=...&hub.challenge=...`
async fn verify(
    State(state): State<Arc<WebhookState>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mode = q.get("hub.mode").map(String::as_str);
    let token = q.get("hub.verify_token");
    let challenge = q.get("hub.challenge");
    match (&state.verify_token, mode, token, challenge) {
        (Some(expected), Some("subscribe"), Some(token), Some(challenge))
            if crate::http::constant_time_eq(expected.expose().as_bytes(), token.as_bytes()) =>
        {
            tracing::info!("WhatsApp webhook subscription verified");
            (StatusCode::OK, challenge.clone()).into_response()
        }
        _ => {
            tracing::warn!(
                event = "webhook_verify_refused",
                channel = "whatsapp",
                "webhook verification refused"
            );
            rejected("bad_verify_token", StatusCode::FORBIDDEN, "forbidden\n")
        }
    }
}

/// `POST /webhook`: verify, parse, journal, route, answer.
async fn deliver(
    State(state): State<Arc<WebhookState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let header = headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    if let Err(e) = signature::verify(state.app_secret.expose().as_bytes(), header, &body) {
        tracing::warn!(
            event = "bad_webhook_signature",
            channel = "whatsapp",
            reason = e.reason(),
            bytes = body.len(),
            "WhatsApp delivery refused: signature check failed"
        );
        return rejected(e.reason(), StatusCode::UNAUTHORIZED, "invalid signature\n");
    }
    let delivery: Delivery = match serde_json::from_slice(&body) {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(channel = "whatsapp", error = %e, "WhatsApp delivery is not valid JSON");
            return rejected("malformed", StatusCode::BAD_REQUEST, "malformed JSON\n");
        }
    };
    if delivery.object != "whatsapp_business_account" {
        tracing::warn!(channel = "whatsapp", object = %delivery.object, "unexpected webhook object");
        return rejected(
            "unexpected_object",
            StatusCode::BAD_REQUEST,
            "unexpected object\n",
        );
    }
    let parsed = delivery.parse(Some(state.phone_number_id.as_str()));
    if parsed.skipped > 0 {
        tracing::warn!(
            channel = "whatsapp",
            skipped = parsed.skipped,
            "messages without a valid sender or id skipped"
        );
    }
    if parsed.foreign > 0 {
        tracing::warn!(
            channel = "whatsapp",
            dropped = parsed.foreign,
            "a delivery for another business number (metadata.phone_number_id) dropped; check the app's webhook subscriptions"
        );
    }
    let mut arrived = Vec::new();
    for status in parsed.statuses {
        metrics::counter!("redsol_whatsapp_statuses_total", "status" => status.status).increment(1);
        if status.status == "failed" {
            for (code, title) in &status.errors {
                tracing::warn!(channel = "whatsapp", code, title = %title, "WhatsApp reports a message of ours failed");
            }
        } else if let Some(id) = status.callback {
            arrived.push(id);
        }
    }
    let ids: Vec<Option<String>> = parsed
        .messages
        .iter()
        .map(|m| m.message_id.clone())
        .collect();
    match accept_all(state.store.as_ref(), &state.conversations, parsed.messages).await {
        Ok(accepted) => {
            for (id, accepted) in ids.into_iter().zip(accepted) {
                match (accepted, id) {
                    (Accepted::New, Some(id)) => (state.mark_read)(id),
                    (Accepted::New, None) => {}
                    (Accepted::Duplicate, _) => tracing::info!(
                        channel = "whatsapp",
                        "redelivered message answered once already; skipped"
                    ),
                }
            }
        }
        Err(e @ AcceptError::Journal(_)) | Err(e @ AcceptError::Route(_)) => {
            // Not journaled or not routed: Meta retries the whole delivery; those already
            // journaled are deduplicated then.
            tracing::error!(channel = "whatsapp", error = %e, "could not accept a WhatsApp delivery; asking Meta to retry");
            return (StatusCode::SERVICE_UNAVAILABLE, "retry later\n").into_response();
        }
    }
    if !arrived.is_empty() {
        // Graph confirms notices that arrived: one held since a crash is not sent again.
        match state.store.notices().confirm_notices(arrived).await {
            Ok(0) => {}
            Ok(n) => {
                metrics::counter!("redsol_outage_notices_total", "channel" => "whatsapp", "outcome" => "confirmed")
                    .increment(n);
                tracing::info!(
                    channel = "whatsapp",
                    notices = n,
                    "notices in flight at a stop confirmed by Graph; not sent again"
                );
            }
            Err(e) => {
                // Meta retries the delivery; its messages are deduplicated then.
                tracing::error!(channel = "whatsapp", error = %e, "could not record Graph's confirmation of notices; asking Meta to retry");
                return (StatusCode::SERVICE_UNAVAILABLE, "retry later\n").into_response();
            }
        }
    }
    (StatusCode::OK, "EVENT_RECEIVED\n").into_response()
}
