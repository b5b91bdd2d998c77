//! The HTTP server: health, readiness, Prometheus metrics, and the channels' webhooks. `router()` builds the app without a socket,
//! so tests call it with `oneshot`.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What the handlers share.
#[derive(Clone)]
pub struct HttpState {
    pub metrics: PrometheusHandle,
    /// Set once every channel is up; `/ready` answers 503 until then.
    pub ready: Arc<AtomicBool>,
}

/// Compares two secrets in time that depends only on their lengths (webhook tokens).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The operational routes, plus the channels' webhook routes (`extra`).
pub fn router(state: HttpState, extra: Router) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics_text))
        .with_state(state)
        .merge(extra)
}

async fn health() -> &'static str {
    "ok\n"
}

async fn ready(State(state): State<HttpState>) -> impl IntoResponse {
    if state.ready.load(Ordering::Acquire) {
        (StatusCode::OK, "ready\n")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "starting\n")
    }
}

async fn metrics_text(State(state): State<HttpState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(),
    )
}

/// Serves until `shutdown` completes, then finishes in-flight requests.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: HttpState,
    extra: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state, extra))
        .with_graceful_shutdown(shutdown)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
    }
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;

    async fn get_text(app: Router, path: &str) -> (StatusCode, String) {
        let resp = app
            .oneshot(Request::get(path).body(Body::empty()).expect("request"))
            .await
            .expect("response");
        let status = resp.status();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    #[tokio::test]
    async fn ready_is_503_until_channels_are_up_and_metrics_render() {
        let state = HttpState {
            metrics: crate::telemetry::metrics_handle().expect("recorder"),
            ready: Arc::new(AtomicBool::new(false)),
        };
        assert_eq!(
            get_text(router(state.clone(), Router::new()), "/health")
                .await
                .0,
            StatusCode::OK
        );
        assert_eq!(
            get_text(router(state.clone(), Router::new()), "/ready")
                .await
                .0,
            StatusCode::SERVICE_UNAVAILABLE
        );
        state.ready.store(true, Ordering::Release);
        assert_eq!(
            get_text(router(state.clone(), Router::new()), "/ready")
                .await
                .0,
            StatusCode::OK
        );
        crate::telemetry::register_common();
        let (status, body) = get_text(router(state, Router::new()), "/metrics").await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("redsol_actor_restarts_total"), "{body}");
    }
}
