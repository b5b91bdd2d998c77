//! A fake WhatsApp Cloud API (Graph API) on 127.0.0.1, spawned in the test's runtime (so it
//! runs on the test's clock: paused time works).
//!
//! It speaks the real wire protocol and checks what it receives, answering like Graph:
//! - the path `/{version}/{phone_number_id}/messages` (400 with Meta's error shape, code 100,
//!   for another object or version);
//! - `Authorization: Bearer <token>` (401, code 190, otherwise);
//! - the JSON body: `messaging_product` whatsapp; a text of at most 4096 characters; reply
//!   buttons 1 to 3 with titles of at most 20 and ids of at most 256; a list of at most 10
//!   rows with titles of at most 24; a read receipt with a message id; an image or document
//!   by the id of a file uploaded to `/{version}/{phone_number_id}/media` (multipart); a
//!   `biz_opaque_callback_data` of at most 512 characters. Anything else, an unknown `type`
//!   included, is a 400 with code 100.
//!
//! Accepted messages are recorded ([`Recorded`], with the tokio instant they arrived) and
//! answered `{"messaging_product":"whatsapp","contacts":[...],"messages":[{"id":"wamid.N"}]}`
//! (read receipts `{"success":true}`). Every request, accepted or not, is logged
//! ([`Request`]). Tests script answers with [`Script`]: an error status and body, a
//! `Retry-After`, a delay (before or after the message is accepted), for the next N requests
//! (optionally to one recipient, after some). Told where the app's webhook is, the fake posts
//! each accepted message's `sent` status to it, signed, until acknowledged (see `status`).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Json;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

#[path = "fake_graph_media.rs"]
mod media;
pub use media::Upload;
#[path = "fake_graph_checks.rs"]
mod checks;
#[path = "fake_graph_script.rs"]
mod script;
pub use script::{graph_error_body, Script};
#[path = "fake_graph_reads.rs"]
mod reads;
#[path = "fake_graph_status.rs"]
mod status;
use checks::{bad_param, chars, check_message, text, Invalid};

/// How long [`FakeGraph::wait_for`] waits before failing the test.
pub const WAIT: Duration = Duration::from_secs(30);

/// A message Graph accepted.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// When it arrived (tokio's clock).
    pub at: Instant,
    /// The recipient (empty for a read receipt).
    pub to: String,
    /// `text`, `button`, `list` or `read`.
    pub kind: String,
    /// The text, or the interactive body, or the message id read.
    pub body: String,
    /// The ids of the buttons or rows.
    pub ids: Vec<String>,
    /// Their titles.
    pub titles: Vec<String>,
    /// The `wamid` it was given.
    pub wamid: String,
    /// The `biz_opaque_callback_data` it carried, handed back in its statuses.
    pub callback: Option<String>,
}

/// Any request, with the status it got.
#[derive(Clone, Debug)]
pub struct Request {
    pub at: Instant,
    pub to: Option<String>,
    pub status: u16,
}

#[derive(Default)]
struct Inner {
    sent: Vec<Recorded>,
    requests: Vec<Request>,
    scripts: Vec<Script>,
    next_id: u64,
    /// Files uploaded to the media endpoint.
    uploads: Vec<Upload>,
    /// Statuses of accepted messages, for the app's webhook.
    statuses: status::Statuses,
    /// The recipients of requests that reached a scripted delay, in order.
    delayed: Vec<String>,
}

struct FakeState {
    token: String,
    version: String,
    phone_id: String,
    inner: Mutex<Inner>,
    changed: Notify,
}

impl FakeState {
    fn with<T>(&self, f: impl FnOnce(&mut Inner) -> T) -> T {
        let mut guard = match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }
}

/// The running fake. Stops when dropped.
pub struct FakeGraph {
    addr: SocketAddr,
    state: Arc<FakeState>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeGraph {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeGraph {
    /// Starts the fake on a random port, expecting this token, version and phone number id.
    pub async fn start(token: &str, version: &str, phone_id: &str) -> FakeGraph {
        let state = Arc::new(FakeState {
            token: token.to_string(),
            version: version.to_string(),
            phone_id: phone_id.to_string(),
            inner: Mutex::new(Inner::default()),
            changed: Notify::new(),
        });
        let app = axum::Router::new()
            .route("/{version}/{phone_id}/messages", post(messages))
            .route("/{version}/{phone_id}/media", post(media::upload))
            .route("/{version}/{phone_id}", get(phone_number))
            .fallback(|| async {
                graph_error(
                    StatusCode::NOT_FOUND,
                    100,
                    "Unknown path components (fake Graph)",
                )
            })
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("the fake Graph API binds a port");
        let addr = listener.local_addr().expect("local address");
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeGraph {
            addr,
            state,
            server,
        }
    }
}

fn graph_error(status: StatusCode, code: i64, message: &str) -> Response {
    (status, Json(graph_error_body(code, message, false))).into_response()
}

/// The scripted answer for a request to `to`, if a script matches (counting it).
fn take_script(inner: &mut Inner, to: &str) -> Option<Script> {
    for s in inner.scripts.iter_mut() {
        if s.times == 0 || s.to.as_deref().is_some_and(|t| t != to) {
            continue;
        }
        if s.after > 0 {
            s.after -= 1;
            return None;
        }
        s.times -= 1;
        return Some(s.clone());
    }
    None
}

/// Graph's answer to another version or phone number (400, code 100) or a wrong token (401,
/// code 190); `None` when the request may go on.
fn refuse(
    state: &FakeState,
    version: &str,
    phone_id: &str,
    headers: &HeaderMap,
    verb: &str,
) -> Option<Response> {
    if version != state.version || phone_id != state.phone_id {
        return Some(graph_error(
            StatusCode::BAD_REQUEST,
            100,
            &format!("Unsupported {verb} request. Object does not exist (fake Graph)"),
        ));
    }
    let expected = format!("Bearer {}", state.token);
    if headers.get("authorization").and_then(|h| h.to_str().ok()) != Some(expected.as_str()) {
        return Some(graph_error(
            StatusCode::UNAUTHORIZED,
            190,
            "Invalid OAuth access token - Cannot parse access token",
        ));
    }
    None
}

/// `GET /{version}/{phone_id}`: the business phone number's node, as Graph answers it.
async fn phone_number(
    State(state): State<Arc<FakeState>>,
    Path((version, phone_id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = refuse(&state, &version, &phone_id, &headers, "get") {
        return refused;
    }
    Json(json!({
        "display_phone_number": "+52 442 555 0100",
        "verified_name": "Red Soluciones",
        "id": phone_id,
    }))
    .into_response()
}

async fn messages(
    State(state): State<Arc<FakeState>>,
    Path((version, phone_id)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let at = Instant::now();
    let parsed: Option<Value> = serde_json::from_slice(&body).ok();
    let to = parsed
        .as_ref()
        .and_then(|v| v["to"].as_str())
        .map(str::to_string);
    let response = answer(&state, &version, &phone_id, &headers, parsed, at).await;
    state.with(|i| {
        i.requests.push(Request {
            at,
            to,
            status: response.status().as_u16(),
        })
    });
    state.changed.notify_waiters();
    response
}

async fn answer(
    state: &FakeState,
    version: &str,
    phone_id: &str,
    headers: &HeaderMap,
    parsed: Option<Value>,
    at: Instant,
) -> Response {
    if let Some(refused) = refuse(state, version, phone_id, headers, "post") {
        return refused;
    }
    let Some(v) = parsed else {
        return graph_error(
            StatusCode::BAD_REQUEST,
            100,
            "(#100) Invalid JSON for postcard",
        );
    };
    let rec = match check_message(&v, at) {
        Ok(rec) => rec,
        Err(Invalid(message)) => return graph_error(StatusCode::BAD_REQUEST, 100, &message),
    };
    if let Err(Invalid(message)) = media::check_uploaded(state, &rec) {
        return graph_error(StatusCode::BAD_REQUEST, 100, &message);
    }
    let script = state.with(|i| take_script(i, &rec.to));
    if let Some(script) = &script {
        if let Some(delay) = script.delay {
            let accepted = script.accepted_first.then(|| accept(state, rec.clone()));
            state.with(|i| i.delayed.push(rec.to.clone()));
            state.changed.notify_waiters();
            tokio::time::sleep(delay).await;
            if let Some(reply) = accepted {
                return (StatusCode::OK, Json(reply)).into_response();
            }
        }
        if let Some(status) = script.status {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let mut response = (status, Json(script.body.clone())).into_response();
            if let Some(secs) = script.retry_after {
                response
                    .headers_mut()
                    .insert("retry-after", HeaderValue::from(secs));
            }
            return response;
        }
    }
    let reply = accept(state, rec);
    (StatusCode::OK, Json(reply)).into_response()
}

/// Records an accepted message (its status queued) and gives Graph's answer to it.
fn accept(state: &FakeState, mut rec: Recorded) -> Value {
    state.with(|i| {
        i.next_id += 1;
        rec.wamid = format!("wamid.{}", i.next_id);
        let reply = if rec.kind == "read" {
            json!({"success": true})
        } else {
            json!({
                "messaging_product": "whatsapp",
                "contacts": [{"input": rec.to, "wa_id": rec.to}],
                "messages": [{"id": rec.wamid}],
            })
        };
        status::queue(i, &rec);
        i.sent.push(rec);
        reply
    })
}
