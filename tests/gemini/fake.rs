//! A fake Gemini REST API on 127.0.0.1, spawned in the test's runtime (so it runs on the
//! test's clock: paused time works), or on its own thread for tests of the binary.
//!
//! It checks what it receives and answers like Google:
//! - the path `/v1beta/models/{model}:generateContent` (404 `NOT_FOUND` for another model or
//!   path);
//! - the key in `x-goog-api-key` and never in the URL (400 `INVALID_ARGUMENT`, "API key not
//!   valid", otherwise);
//! - the body: `contents` ending with a user turn, `thinkingConfig.thinkingBudget` 0, and for
//!   a classification (`responseMimeType` `application/json`) a `responseSchema` whose intent
//!   enum is the contract's 16 intents (400 otherwise).
//!
//! Classifications are answered from a table (utterance → model JSON) set by the test, else
//! `out_of_scope` 0.3; wordings with the text set by the test. Tests script the next answers
//! with [`Script`]: an error with Google's error shape (and a `RetryInfo`), a delay, garbage,
//! no candidates, a blocked prompt or a candidate stopped for safety.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{json, Value};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

pub const KEY: &str = "test-gemini-key-7f3a";
pub const MODEL: &str = "gemini-2.5-flash";

const INTENTS: [&str; 16] = [
    "greeting",
    "register",
    "plans",
    "coverage",
    "report_incident",
    "incident_status",
    "billing",
    "human_agent",
    "goodbye",
    "help",
    "stats",
    "client_search",
    "finance",
    "cancel_service",
    "change_plan",
    "out_of_scope",
];

/// One scripted answer.
#[derive(Clone, Debug)]
pub enum Script {
    /// An HTTP error with Google's error body; `retry_delay` adds a `RetryInfo`.
    Error {
        status: u16,
        retry_delay: Option<&'static str>,
    },
    /// Waits this long, then answers normally.
    Delay(Duration),
    /// A 200 whose body is not JSON.
    Garbage,
    /// A 200 whose candidate text is not the schema's JSON.
    NotSchema,
    /// A 200 with no candidates.
    NoCandidates,
    /// A 200 with `promptFeedback.blockReason` SAFETY.
    PromptBlocked,
    /// A 200 whose candidate stopped for SAFETY, without content.
    SafetyStop,
}

/// A request the fake received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub at: Instant,
    pub status: u16,
    /// The last user text.
    pub text: String,
    /// `classify` or `word`.
    pub kind: &'static str,
}

#[derive(Default)]
struct Inner {
    scripts: VecDeque<Script>,
    answers: HashMap<String, Value>,
    wording: Option<String>,
    seen: Vec<Seen>,
    problems: Vec<String>,
}

#[derive(Clone)]
pub struct FakeGemini {
    pub url: String,
    inner: Arc<Mutex<Inner>>,
}

impl FakeGemini {
    /// Starts on 127.0.0.1 in the current runtime.
    pub async fn start() -> FakeGemini {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the fake Gemini");
        let addr: SocketAddr = listener.local_addr().expect("local addr");
        let app = axum::Router::new()
            .route("/v1beta/models/{call}", post(generate))
            .fallback(not_found)
            .with_state(inner.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeGemini {
            url: format!("http://{addr}"),
            inner,
        }
    }

    /// Starts on its own thread and runtime (for tests that run the binary).
    pub fn start_in_thread() -> FakeGemini {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let _ = tx.send(FakeGemini::start().await);
                std::future::pending::<()>().await;
            });
        });
        rx.recv().expect("the fake Gemini starts")
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The model's JSON for an utterance.
    pub fn answer(&self, text: &str, model_json: Value) {
        self.lock().answers.insert(text.to_string(), model_json);
    }

    /// The text of every wording.
    pub fn wording(&self, text: &str) {
        self.lock().wording = Some(text.to_string());
    }

    /// Scripts the next answers, in order.
    pub fn script(&self, scripts: impl IntoIterator<Item = Script>) {
        self.lock().scripts.extend(scripts);
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.lock().seen.clone()
    }

    /// What the fake refused as malformed (a test fails if this is not empty).
    pub fn problems(&self) -> Vec<String> {
        self.lock().problems.clone()
    }
}

fn google_error(status: u16, message: &str, retry_delay: Option<&str>) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let name = match status {
        400 => "INVALID_ARGUMENT",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    };
    let mut details = Vec::new();
    if let Some(delay) = retry_delay {
        details.push(
            json!({"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []}),
        );
        details.push(
            json!({"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay}),
        );
    }
    let body =
        json!({"error": {"code": status, "message": message, "status": name, "details": details}});
    (
        code,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn not_found(uri: Uri) -> Response {
    google_error(404, &format!("{} is not found", uri.path()), None)
}

fn candidate(text: &str) -> Value {
    json!({
        "candidates": [{"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 120, "candidatesTokenCount": 20, "totalTokenCount": 140},
        "modelVersion": MODEL
    })
}

/// Why a body is not what redsol should send, if it is not.
fn check_body(body: &Value) -> Result<(&'static str, String), String> {
    let contents = body["contents"].as_array().ok_or("no contents")?;
    let last = contents.last().ok_or("empty contents")?;
    if last["role"] != "user" {
        return Err("the last content is not the user's".into());
    }
    let text = last["parts"][0]["text"]
        .as_str()
        .ok_or("the last content has no text")?
        .to_string();
    for c in contents {
        if !matches!(c["role"].as_str(), Some("user" | "model")) {
            return Err(format!("bad role in {c}"));
        }
    }
    let config = &body["generationConfig"];
    if config["thinkingConfig"]["thinkingBudget"] != 0 {
        return Err("thinkingBudget is not 0".into());
    }
    if body["systemInstruction"]["parts"][0]["text"]
        .as_str()
        .is_none_or(str::is_empty)
    {
        return Err("no system instruction".into());
    }
    if config["responseMimeType"] == "application/json" {
        let schema = &config["responseSchema"];
        let intents: Vec<&str> = schema["properties"]["intent"]["enum"]
            .as_array()
            .ok_or("no responseSchema with an intent enum")?
            .iter()
            .filter_map(Value::as_str)
            .collect();
        if intents != INTENTS {
            return Err(format!(
                "the intent enum is not the contract's: {intents:?}"
            ));
        }
        Ok(("classify", text))
    } else if config.get("responseSchema").is_some() {
        Err("a responseSchema without responseMimeType application/json".into())
    } else {
        Ok(("word", text))
    }
}

async fn generate(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(call): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let at = Instant::now();
    let lock = || inner.lock().unwrap_or_else(|p| p.into_inner());
    let record = |status: u16, text: &str, kind: &'static str| {
        lock().seen.push(Seen {
            at,
            status,
            text: text.to_string(),
            kind,
        });
    };
    if call != format!("{MODEL}:generateContent") {
        record(404, "", "other");
        return google_error(
            404,
            &format!("models/{call} is not found for API version v1beta"),
            None,
        );
    }
    let key_in_url = uri.query().is_some_and(|q| q.contains("key="));
    if key_in_url || headers.get("x-goog-api-key").and_then(|v| v.to_str().ok()) != Some(KEY) {
        if key_in_url {
            lock().problems.push("the key was sent in the URL".into());
        }
        record(400, "", "other");
        return google_error(400, "API key not valid. Please pass a valid API key.", None);
    }
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            lock().problems.push(format!("body not JSON: {e}"));
            record(400, "", "other");
            return google_error(400, "Invalid JSON payload received.", None);
        }
    };
    let (kind, text) = match check_body(&parsed) {
        Ok(k) => k,
        Err(problem) => {
            lock().problems.push(problem.clone());
            record(400, "", "other");
            return google_error(400, &problem, None);
        }
    };
    let script = lock().scripts.pop_front();
    let response = match script {
        Some(Script::Error {
            status,
            retry_delay,
        }) => {
            record(status, &text, kind);
            return google_error(status, "scripted failure", retry_delay);
        }
        Some(Script::Delay(d)) => {
            tokio::time::sleep(d).await;
            None
        }
        Some(Script::Garbage) => Some("<html>502 Bad Gateway</html>".to_string()),
        Some(Script::NotSchema) => Some(candidate("Claro, con gusto te ayudo 😊").to_string()),
        Some(Script::NoCandidates) => Some(json!({"candidates": [], "modelVersion": MODEL}).to_string()),
        Some(Script::PromptBlocked) => Some(
            json!({"promptFeedback": {"blockReason": "SAFETY", "safetyRatings": []}}).to_string(),
        ),
        Some(Script::SafetyStop) => Some(
            json!({"candidates": [{"finishReason": "SAFETY", "index": 0, "safetyRatings": [{"category": "HARM_CATEGORY_HARASSMENT", "probability": "HIGH"}]}]})
                .to_string(),
        ),
        None => None,
    };
    let body = response.unwrap_or_else(|| {
        let inner = lock();
        match kind {
            "classify" => {
                let answer = inner.answers.get(&text).cloned().unwrap_or_else(
                    || json!({"intent": "out_of_scope", "confidence": 0.3, "entities": {}}),
                );
                candidate(&answer.to_string()).to_string()
            }
            _ => candidate(inner.wording.as_deref().unwrap_or("No tengo ese dato.")).to_string(),
        }
    });
    record(200, &text, kind);
    (StatusCode::OK, [("content-type", "application/json")], body).into_response()
}
