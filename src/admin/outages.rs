//! Outages from staff's tools and from network monitoring:
//! - `POST /admin/outages` with `{"zone", "cause", "eta"}` declares one (201, or 200 when the
//!   zone's outage was open already: its cause and ETA updated);
//! - `POST /admin/outages/{id}/resolve` ends one;
//! - `POST /alertmanager` takes Prometheus Alertmanager's webhook (version 4): a firing alert
//!   with a `zone` label (and `cause`, `eta` annotations) declares the zone's outage, keyed by
//!   the alert's fingerprint, and its resolved alert ends it. Grouped alerts and repeats change
//!   nothing twice.

use super::{refuse, refused, AdminState};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use redsol_actors::store::outages::Outage;
use serde::Deserialize;
use serde_json::json;
use std::collections::HashMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DeclareBody {
    zone: String,
    #[serde(default)]
    cause: String,
    #[serde(default)]
    eta: String,
}

fn outage_json(o: &Outage) -> serde_json::Value {
    json!({
        "id": o.id,
        "zone": o.zone,
        "cause": o.cause,
        "eta": o.eta,
        "reports": o.reports,
        "resolved": o.resolved_at.is_some(),
    })
}

fn or_default(value: &str, default: &str) -> String {
    if value.trim().is_empty() {
        default.to_string()
    } else {
        value.trim().to_string()
    }
}

/// `POST /admin/outages`.
pub(super) async fn declare(
    State(state): State<AdminState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refusal) = refused(&state, &headers) {
        return refusal;
    }
    let body: DeclareBody = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                &format!("expected {{\"zone\", \"cause\", \"eta\"}}: {e}"),
            )
        }
    };
    let cause = or_default(&body.cause, "en revisión");
    let eta = or_default(&body.eta, "por confirmar");
    match state
        .engine
        .declare_outage(&body.zone, &cause, &eta, None)
        .await
    {
        Ok(Some((o, new))) => {
            let status = if new {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            (status, Json(outage_json(&o))).into_response()
        }
        Ok(None) => refuse(StatusCode::UNPROCESSABLE_ENTITY, "unknown zone"),
        Err(e) => {
            tracing::error!(error = %e, "the admin API could not declare an outage");
            refuse(StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable")
        }
    }
}

/// `POST /admin/outages/{id}/resolve`.
pub(super) async fn resolve(
    State(state): State<AdminState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(refusal) = refused(&state, &headers) {
        return refusal;
    }
    let id = id.trim().to_uppercase();
    let Some(zone) = state.engine.open_outage(&id).map(|o| o.zone) else {
        return refuse(StatusCode::CONFLICT, "no open outage with this id");
    };
    match state.engine.resolve_outage(Some(&zone), None).await {
        Ok(Some(o)) => Json(outage_json(&o)).into_response(),
        Ok(None) => refuse(StatusCode::CONFLICT, "no open outage with this id"),
        Err(e) => {
            tracing::error!(error = %e, "the admin API could not end an outage");
            refuse(StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable")
        }
    }
}

/// Alertmanager's webhook payload (version 4), the fields redsol reads.
#[derive(Debug, Deserialize)]
struct Notification {
    version: String,
    alerts: Vec<Alert>,
}

#[derive(Debug, Deserialize)]
struct Alert {
    status: String,
    #[serde(default)]
    labels: HashMap<String, String>,
    #[serde(default)]
    annotations: HashMap<String, String>,
    fingerprint: String,
}

/// `POST /alertmanager`.
pub(super) async fn alertmanager(
    State(state): State<AdminState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refusal) = refused(&state, &headers) {
        return refusal;
    }
    let note: Notification = match serde_json::from_slice(&body) {
        Ok(n) => n,
        Err(e) => {
            return refuse(
                StatusCode::BAD_REQUEST,
                &format!("not an Alertmanager webhook payload: {e}"),
            )
        }
    };
    if note.version != "4" {
        return refuse(
            StatusCode::BAD_REQUEST,
            "only version 4 of the Alertmanager webhook payload is understood",
        );
    }
    let (mut declared, mut resolved, mut ignored) = (0, 0, 0);
    for alert in &note.alerts {
        let source = format!("alertmanager:{}", alert.fingerprint);
        let Some(zone) = alert.labels.get("zone").filter(|z| !z.trim().is_empty()) else {
            ignored += 1;
            continue;
        };
        let outcome = match alert.status.as_str() {
            "firing" => {
                let cause = alert
                    .annotations
                    .get("cause")
                    .or_else(|| alert.annotations.get("summary"))
                    .or_else(|| alert.labels.get("alertname"))
                    .map_or("en revisión", String::as_str);
                let eta = alert
                    .annotations
                    .get("eta")
                    .map_or("por confirmar", String::as_str);
                state
                    .engine
                    .declare_outage(zone, cause, eta, Some(source))
                    .await
                    .map(|d| match d {
                        Some(_) => declared += 1,
                        None => ignored += 1,
                    })
            }
            "resolved" => state
                .engine
                .resolve_outage(None, Some(&source))
                .await
                .map(|r| {
                    if r.is_some() {
                        resolved += 1
                    }
                }),
            _ => {
                ignored += 1;
                Ok(())
            }
        };
        if let Err(e) = outcome {
            tracing::error!(error = %e, "an Alertmanager notification could not be applied; Alertmanager sends it again");
            return refuse(StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable");
        }
    }
    tracing::info!(
        event = "alertmanager",
        alerts = note.alerts.len(),
        declared,
        resolved,
        ignored,
        "Alertmanager notification applied"
    );
    Json(json!({ "declared": declared, "resolved": resolved, "ignored": ignored })).into_response()
}
