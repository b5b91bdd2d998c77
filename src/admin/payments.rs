//! `POST /admin/payments/{id}`: settles a payment a customer reported ("Por confirmar"), as
//! staff's `/pago` does, and tells the customer. Body: `{"verdict": "ok"}` or
//! `{"verdict": "rechazar", "reason": "no aparece el depósito"}`.

use super::{refuse, refused, AdminState};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use redsol_actors::store::payments::Verdict;
use serde::Deserialize;
use serde_json::json;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SettleBody {
    /// `ok` / `confirmar`, or `rechazar`.
    verdict: String,
    #[serde(default)]
    reason: String,
}

/// A payment id as redsol makes them: `PAG-` and digits.
fn payment_id(id: &str) -> Option<String> {
    let id = id.trim().to_uppercase();
    let digits = id.strip_prefix("PAG-")?;
    (!digits.is_empty() && digits.len() <= 12 && digits.bytes().all(|b| b.is_ascii_digit()))
        .then_some(id)
}

pub(super) async fn settle(
    State(state): State<AdminState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Option<Json<SettleBody>>,
) -> Response {
    if let Some(refusal) = refused(&state, &headers) {
        return refusal;
    }
    let Some(id) = payment_id(&id) else {
        return refuse(StatusCode::BAD_REQUEST, "the payment id is PAG- and digits");
    };
    let Some(Json(body)) = body else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "a JSON body with a verdict is required",
        );
    };
    let Some(verdict) = Verdict::parse(&body.verdict) else {
        return refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "verdict is ok (confirmar) or rechazar",
        );
    };
    match state
        .engine
        .settle_payment(&id, verdict, &body.reason)
        .await
    {
        Ok(Some((payment, notices))) => {
            let told = !notices.is_empty();
            let event = format!("payment:{}:{}", payment.id, payment.status.as_str());
            if let Err(e) = state.notifier.send(&event, notices).await {
                tracing::error!(error = %e, payment = %payment.id, "a payment was settled but its customer could not be told");
                return refuse(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "settled, but the customer could not be told",
                );
            }
            Json(json!({
                "id": payment.id,
                "status": payment.status.as_str(),
                "customer_told": told,
            }))
            .into_response()
        }
        Ok(None) => refuse(
            StatusCode::CONFLICT,
            "no payment with this id waits for an answer",
        ),
        Err(e) => {
            tracing::error!(error = %e, "the admin API could not settle a payment");
            refuse(StatusCode::SERVICE_UNAVAILABLE, "the store is unavailable")
        }
    }
}
