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
    /// Parts that must run for `/ready` (the channels' senders): each names itself when down.
    pub checks: Arc<Vec<Check>>,
}

/// A readiness check: the name of the part when it is down.
pub type Check = Box<dyn Fn() -> Option<&'static str> + Send + Sync>;

/// Compares two secrets in time that depends only on their lengths (webhook tokens).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    subtle::ConstantTimeEq::ct_eq(a, b).into()
}

/// The operational routes, plus the channels' webhook routes (`extra`).
pub fn router(state: HttpState, extra: Router) -> Router {
    public_router(state.clone(), extra).merge(metrics_router(state))
}

/// `/health`, `/ready` and the channels' webhook routes (`extra`), without `/metrics`.
pub fn public_router(state: HttpState, extra: Router) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .with_state(state)
        .merge(extra)
}

/// `/metrics` alone (for `server.metrics_addr`, a listener of its own).
pub fn metrics_router(state: HttpState) -> Router {
    Router::new()
        .route("/metrics", get(metrics_text))
        .with_state(state)
}

async fn health() -> &'static str {
    "ok\n"
}

async fn ready(State(state): State<HttpState>) -> impl IntoResponse {
    if !state.ready.load(Ordering::Acquire) {
        return (StatusCode::SERVICE_UNAVAILABLE, "starting\n".to_string());
    }
    match state.checks.iter().find_map(|check| check()) {
        Some(down) => (StatusCode::SERVICE_UNAVAILABLE, format!("{down} is down\n")),
        None => (StatusCode::OK, "ready\n".to_string()),
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

/// The HTTP edge's limits (`[server]`).
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Requests handled at once; past it a request gets 503 at once (shed, not queued).
    pub max_concurrent: usize,
    /// The most a request may take, its body read included (a slow sender gets 408).
    pub request_timeout: std::time::Duration,
    /// The most reading a request's headers may take; past it the connection is closed.
    pub header_timeout: std::time::Duration,
}

/// `router` behind the edge's limits.
pub fn limited(app: Router, limits: Limits) -> Router {
    use axum::error_handling::HandleErrorLayer;
    use tower::ServiceBuilder;
    app.layer(
        ServiceBuilder::new()
            .layer(HandleErrorLayer::new(|e: tower::BoxError| async move {
                if e.is::<tower::timeout::error::Elapsed>() {
                    (StatusCode::REQUEST_TIMEOUT, "request took too long\n")
                } else {
                    tracing::warn!(error = %e, "HTTP request shed: too many at once");
                    (StatusCode::SERVICE_UNAVAILABLE, "busy, retry later\n")
                }
            }))
            .load_shed()
            // One budget for the whole server, not one per route.
            .layer(tower::limit::GlobalConcurrencyLimitLayer::new(
                limits.max_concurrent.max(1),
            ))
            .timeout(limits.request_timeout),
    )
}

/// Serves `app` behind the limits until `shutdown` completes, then finishes in-flight
/// requests. HTTP/1.1 only, with a deadline on reading a request's headers (a client that
/// trickles them is cut off).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let app = limited(app, limits);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of file descriptors, say: wait a moment rather than spin.
                    tracing::warn!(error = %e, "could not accept an HTTP connection");
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let service = hyper_util::service::TowerToHyperService::new(app.clone());
        let conn = hyper::server::conn::http1::Builder::new()
            .timer(TokioTimer::new())
            .header_read_timeout(limits.header_timeout)
            .serve_connection(TokioIo::new(stream), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "HTTP connection ended with an error");
            }
        });
    }
    graceful.shutdown().await;
    Ok(())
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
        let sender_up = Arc::new(AtomicBool::new(true));
        let up = sender_up.clone();
        let check: Check = Box::new(move || (!up.load(Ordering::Acquire)).then_some("a sender"));
        let state = HttpState {
            metrics: crate::telemetry::metrics_handle().expect("recorder"),
            ready: Arc::new(AtomicBool::new(false)),
            checks: Arc::new(vec![check]),
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
        // A sender that died makes the process unready, naming it.
        sender_up.store(false, Ordering::Release);
        assert_eq!(
            get_text(router(state.clone(), Router::new()), "/ready").await,
            (StatusCode::SERVICE_UNAVAILABLE, "a sender is down\n".into())
        );
        crate::telemetry::register_common();
        let (status, body) = get_text(router(state, Router::new()), "/metrics").await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.contains("redsol_actor_restarts_total"), "{body}");
    }

    #[tokio::test(start_paused = true)]
    async fn requests_past_the_limit_are_shed_and_slow_ones_time_out() {
        let gate = Arc::new(tokio::sync::Notify::new());
        let held = gate.clone();
        let app = Router::new().route(
            "/slow",
            get(move || {
                let held = held.clone();
                async move {
                    held.notified().await;
                    "done"
                }
            }),
        );
        let app = limited(
            app,
            Limits {
                max_concurrent: 1,
                request_timeout: std::time::Duration::from_secs(30),
                header_timeout: std::time::Duration::from_secs(10),
            },
        );
        let first = tokio::spawn(get_text(app.clone(), "/slow"));
        tokio::task::yield_now().await;
        // One request is running: the next is turned away at once, not queued.
        assert_eq!(
            get_text(app.clone(), "/slow").await,
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "busy, retry later\n".into()
            )
        );
        gate.notify_one();
        assert_eq!(first.await.expect("first").0, StatusCode::OK);
        // A request that never finishes gets 408 at the deadline (virtual time).
        assert_eq!(get_text(app, "/slow").await.0, StatusCode::REQUEST_TIMEOUT);
    }
}
