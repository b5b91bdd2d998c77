//! `POST /admin/incidents/{id}/close`: closes a ticket and tells its customer, who is asked to
//! rate it.

use super::{refuse, refused, AdminState};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CloseBody {
    #[serde(default)]
    note: String,
    /// `Resuelto` (the default) or `Cerrado`.
    #[serde(default)]
    status: Option<String>,
}

/// A ticket id as redsol makes them: `INC-` and digits.
pub(super) fn ticket_id(id: &str) -> Option<String> {
    let id = id.trim().to_uppercase();
    let digits = id.strip_prefix("INC-")?;
    (!digits.is_empty() && digits.len() <= 12 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then_some(id)
}

pub(super) async fn close(
    State(state): State<AdminState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Option<Json<CloseBody>>,
) -> Response {
    if let Some(refusal) = refused(&state, &headers) {
        return refusal;
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
