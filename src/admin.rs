//! The admin API, for staff's tools and scripts: `POST /admin/incidents/{id}/close` closes a
//! ticket and tells its customer (who is asked to rate it). Off unless `REDSOL_ADMIN_TOKEN` is
//! set; every request carries `Authorization: Bearer <token>`, compared in constant time and
//! never logged.

use crate::settings::Secret;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use redsol_actors::engine::Engine;
use redsol_actors::notify::Notifier;
use serde::Deserialize;
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

    fn admits(&self, headers: &HeaderMap) -> bool {
        let presented = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .unwrap_or_default();
        let given = digest(presented.trim().as_bytes());
        let differ = self
            .0
            .iter()
            .zip(given)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b));
        differ == 0 && !presented.trim().is_empty()
    }
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
        .route("/admin/incidents/{id}/close", post(close_incident))
        .with_state(state)
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CloseBody {
    #[serde(default)]
    note: String,
    /// `Resuelto` (the default) or `Cerrado`.
    #[serde(default)]
    status: Option<String>,
}

fn refuse(status: StatusCode, message: &str) -> Response {
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

/// A ticket id as redsol makes them: `INC-` and digits.
fn ticket_id(id: &str) -> Option<String> {
    let id = id.trim().to_uppercase();
    let digits = id.strip_prefix("INC-")?;
    (!digits.is_empty() && digits.len() <= 12 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then_some(id)
}

async fn close_incident(
    State(state): State<AdminState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Option<Json<CloseBody>>,
) -> Response {
    if !state.token.admits(&headers) {
        tracing::warn!(
            event = "admin_refused",
            "an admin request without a valid token"
        );
        return unauthorized();
    }
    let Some(id) = ticket_id(&id) else {
        return refuse(StatusCode::BAD_REQUEST, "the ticket id is INC- and digits");
    };
    let body = body.map(|Json(b)| b).unwrap_or_default();
    let status = match body.status.as_deref().map(str::trim) {
        None | Some("") | Some("Resuelto") => "Resuelto",
        Some("Cerrado") => "Cerrado",
        Some(_) => {
            return refuse(
                StatusCode::UNPROCESSABLE_ENTITY,
                "status is Resuelto or Cerrado",
            )
        }
    };
    match state
        .engine
        .close_ticket(&id, status, &body.note, None)
        .await
    {
        Ok(Some((incident, notices))) => {
            let event = format!("close:{}:{}", incident.id, state.engine.now());
            if let Err(e) = state.notifier.send(&event, notices).await {
                tracing::error!(error = %e, ticket = %incident.id, "a ticket was closed but its customer could not be told");
                return refuse(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "closed, but the customer could not be told",
                );
            }
            tracing::info!(event = "admin_close", ticket = %incident.id, "ticket closed through the admin API");
            Json(json!({ "id": incident.id, "status": incident.status, "customer_told": true }))
                .into_response()
        }
        Ok(None) => refuse(StatusCode::CONFLICT, "no open ticket with this id"),
        Err(e) => {
            tracing::error!(error = %e, "the admin API could not close a ticket");
            refuse(StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable")
        }
    }
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
        assert_eq!(ticket_id("inc-000123").as_deref(), Some("INC-000123"));
        assert_eq!(ticket_id("INC-"), None);
        assert_eq!(ticket_id("PRO-000001"), None);
    }
}
