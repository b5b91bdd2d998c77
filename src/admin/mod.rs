//! The admin API, for staff's tools, scripts and network monitoring. Off unless
//! `REDSOL_ADMIN_TOKEN` is set; every request carries `Authorization: Bearer <token>`, compared
//! in constant time and never logged.
//! - [`incidents`]: `POST /admin/incidents/{id}/close` closes a ticket and tells its customer.
//! - [`outages`]: `POST /admin/outages`, `POST /admin/outages/{id}/resolve`, and
//!   `POST /alertmanager`, Prometheus Alertmanager's webhook (version 4).

mod incidents;
mod outages;
mod payments;

use crate::settings::Secret;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use redsol_actors::engine::Engine;
use redsol_actors::notify::Notifier;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::Arc;

/// What the admin routes need.
#[derive(Clone)]
pub struct AdminState {
    pub engine: Engine,
    pub notifier: Notifier,
    token: Arc<Token>,
}

/// The token, kept as its SHA-256: a presented token's digest is compared to it in constant
/// time, so neither the time taken nor the length tells anything of the token.
struct Token([u8; 32]);

fn digest(value: &[u8]) -> [u8; 32] {
    Sha256::digest(value).into()
}

impl Token {
    fn new(secret: &Secret) -> Self {
        Self(digest(secret.expose().as_bytes()))
    }

    pub(super) fn admits(&self, headers: &HeaderMap) -> bool {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        let given = digest(presented.trim().as_bytes());
        crate::http::constant_time_eq(&self.0, &given) && !presented.trim().is_empty()
    }
}

/// An error answer: the status and `{"error": message}`.
pub(super) fn refuse(status: StatusCode, message: &str) -> Response {
    (status, Json(json!({ "error": message }))).into_response()
}

fn unauthorized() -> Response {
    let mut r = refuse(StatusCode::UNAUTHORIZED, "a valid bearer token is required");
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    r
}

/// The answer to a request without the token (401, and a log line without it), if it is one.
fn refused(state: &AdminState, headers: &HeaderMap) -> Option<Response> {
    if state.token.admits(headers) {
        return None;
    }
    tracing::warn!(
        event = "admin_refused",
        "an admin request without a valid token"
    );
    Some(unauthorized())
}

impl AdminState {
    pub fn new(engine: Engine, notifier: Notifier, token: &Secret) -> Self {
        Self {
            engine,
            notifier,
            token: Arc::new(Token::new(token)),
        }
    }
}

pub fn routes(state: AdminState) -> Router {
    Router::new()
        .route("/admin/incidents/{id}/close", post(incidents::close))
        .route("/admin/payments/{id}", post(payments::settle))
        .route("/admin/outages", post(outages::declare))
        .route("/admin/outages/{id}/resolve", post(outages::resolve))
        .route("/alertmanager", post(outages::alertmanager))
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_token_itself_is_admitted() {
        let token = Token::new(&Secret::new("s3cret-token"));
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, v.parse().expect("header"));
            h
        };
        assert!(token.admits(&with("Bearer s3cret-token")));
        assert!(!token.admits(&with("Bearer s3cret-toke")));
        assert!(!token.admits(&with("Bearer s3cret-token2")));
        assert!(!token.admits(&with("Basic s3cret-token")));
        assert!(!token.admits(&HeaderMap::new()));
        assert_eq!(
            incidents::ticket_id("inc-000123").as_deref(),
            Some("INC-000123")
        );
        assert_eq!(incidents::ticket_id("INC-"), None);
        assert_eq!(incidents::ticket_id("PRO-000001"), None);
    }
}
