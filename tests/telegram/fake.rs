//! A fake Telegram Bot API on 127.0.0.1 that speaks the wire protocol teloxide speaks and
//! checks what it receives: `/bot<TOKEN>/<method>` (methods matched case-insensitively; a wrong
//! token gets 401), `getUpdates` with Telegram's offset and long-polling semantics (409 while a
//! webhook is set), `setWebhook` (multipart, as teloxide sends it), `deleteWebhook`,
//! `setMyCommands`, `sendMessage` (answered with a full Message object, refused like Telegram
//! refuses bad ones), `answerCallbackQuery`, and scripted failures of `sendMessage`.
//!
//! It records what the bot did (messages sent, callback queries answered, every call with its
//! time) and lets the tests wait, bounded, for it.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

#[path = "fake_control.rs"]
mod control;
#[path = "fake_media.rs"]
mod media;
#[path = "fake_methods.rs"]
mod methods;
/// Builders of the updates Telegram sends.
#[path = "fake_update.rs"]
pub mod update;
#[path = "fake_wire.rs"]
mod wire;

use methods::{edit_message_text, get_updates, send_message, utf16_len};
use wire::{int, params};

/// The bot the fake pretends to be.
pub const BOT_ID: i64 = 7_000_000_001;
pub const BOT_USERNAME: &str = "redsol_test_bot";

/// The longest any wait of a test lasts.
pub const WAIT: Duration = Duration::from_secs(20);

/// A failure the next `sendMessage` gets.
#[derive(Clone, Debug)]
pub enum Failure {
    /// 429 with `parameters.retry_after`.
    RetryAfter(u32),
    /// 500 Internal Server Error.
    ServerError,
    /// 403 "Forbidden: bot was blocked by the user".
    Blocked,
}

/// A message the bot sent.
#[derive(Clone, Debug)]
pub struct Sent {
    pub chat_id: i64,
    pub text: String,
    /// The `callback_data` of its inline keyboard, row by row flattened.
    pub buttons: Vec<String>,
    /// Whether it had a reply keyboard button asking for the user's contact.
    pub contact_button: bool,
    pub message_id: i64,
    /// How many times the bot edited it since (`editMessageText`).
    pub edits: usize,
    /// A photo or document sent by its `file_id` (`photo:<id>`, `document:<id>`); then `text`
    /// is its caption.
    pub file: Option<String>,
}

/// One call of the API, as received.
#[derive(Clone, Debug)]
pub struct Call {
    /// The method, lowercased.
    pub method: String,
    pub params: Value,
    pub at: Instant,
    pub status: u16,
}

/// The webhook the bot set.
#[derive(Clone, Debug, PartialEq)]
pub struct Webhook {
    pub url: String,
    pub secret_token: Option<String>,
    pub allowed_updates: Option<Vec<String>>,
}

#[derive(Default)]
struct Inner {
    /// Every update ever pushed, by id.
    history: Vec<Value>,
    /// Updates not confirmed yet.
    queue: Vec<Value>,
    next_update_id: i64,
    webhook: Option<Webhook>,
    sent: Vec<Sent>,
    callback_answers: Vec<String>,
    calls: Vec<Call>,
    failures: VecDeque<Failure>,
    commands: Vec<(String, String)>,
    next_message_id: i64,
    /// Files users sent: `file_id` → (`file_path`, bytes).
    files: std::collections::HashMap<String, (String, Vec<u8>)>,
}

struct Shared {
    token: String,
    inner: Mutex<Inner>,
    /// New updates to hand out.
    updates: Notify,
    /// Anything recorded.
    activity: Notify,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        match self.inner.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }
}

/// The running fake; stops when dropped.
pub struct FakeTelegram {
    pub url: String,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeTelegram {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn ok(result: Value) -> Response {
    (
        StatusCode::OK,
        axum::Json(json!({"ok": true, "result": result})),
    )
        .into_response()
}

fn error(code: u16, description: &str, parameters: Option<Value>) -> Response {
    let mut body = json!({"ok": false, "error_code": code, "description": description});
    if let Some(p) = parameters {
        body["parameters"] = p;
    }
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(body)).into_response()
}

fn bot_user() -> Value {
    json!({"id": BOT_ID, "is_bot": true, "first_name": "Red Soluciones", "username": BOT_USERNAME})
}

fn chat(id: i64) -> Value {
    if id > 0 {
        json!({"id": id, "type": "private", "first_name": "Cliente"})
    } else {
        json!({"id": id, "type": "supergroup", "title": "Vecinos"})
    }
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    Path((bot, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let method = method.to_ascii_lowercase();
    let params = match params(&headers, &body) {
        Ok(p) => p,
        Err(e) => return error(400, &format!("Bad Request: {e}"), None),
    };
    let response = if bot.strip_prefix("bot") != Some(shared.token.as_str()) {
        error(401, "Unauthorized", None)
    } else {
        dispatch(&shared, &method, &params).await
    };
    shared.lock().calls.push(Call {
        method,
        params,
        at: Instant::now(),
        status: response.status().as_u16(),
    });
    shared.activity.notify_waiters();
    response
}

async fn dispatch(shared: &Shared, method: &str, params: &Value) -> Response {
    match method {
        "getme" => {
            let mut me = bot_user();
            me["can_join_groups"] = json!(true);
            me["can_read_all_group_messages"] = json!(false);
            me["supports_inline_queries"] = json!(false);
            me["can_connect_to_business"] = json!(false);
            me["has_main_web_app"] = json!(false);
            ok(me)
        }
        "getupdates" => get_updates(shared, params).await,
        "setwebhook" => {
            let Some(url) = params.get("url").and_then(Value::as_str) else {
                return error(400, "Bad Request: bad webhook: URL is empty", None);
            };
            if !url.starts_with("https://") {
                return error(
                    400,
                    "Bad Request: bad webhook: An HTTPS URL must be provided for webhook",
                    None,
                );
            }
            let secret_token = params
                .get("secret_token")
                .and_then(Value::as_str)
                .map(str::to_string);
            if let Some(s) = &secret_token {
                let valid = !s.is_empty()
                    && s.len() <= 256
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
                if !valid {
                    return error(
                        400,
                        "Bad Request: secret token contains unallowed characters",
                        None,
                    );
                }
            }
            let allowed_updates = params.get("allowed_updates").and_then(|v| {
                v.as_array().map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(str::to_string))
                        .collect()
                })
            });
            shared.lock().webhook = Some(Webhook {
                url: url.to_string(),
                secret_token,
                allowed_updates,
            });
            ok(json!(true))
        }
        "deletewebhook" => {
            shared.lock().webhook = None;
            shared.updates.notify_waiters();
            ok(json!(true))
        }
        "setmycommands" => {
            let Some(list) = params.get("commands").and_then(Value::as_array) else {
                return error(400, "Bad Request: parameter \"commands\" is required", None);
            };
            let mut commands = Vec::new();
            for c in list {
                let command = c.get("command").and_then(Value::as_str).unwrap_or("");
                let description = c.get("description").and_then(Value::as_str).unwrap_or("");
                let valid = !command.is_empty()
                    && command.len() <= 32
                    && command
                        .chars()
                        .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
                    && !description.is_empty()
                    && description.chars().count() <= 256;
                if !valid {
                    return error(400, "Bad Request: BOT_COMMAND_INVALID", None);
                }
                commands.push((command.to_string(), description.to_string()));
            }
            shared.lock().commands = commands;
            ok(json!(true))
        }
        "answercallbackquery" => {
            let Some(id) = params.get("callback_query_id").and_then(Value::as_str) else {
                return error(400, "Bad Request: query is too old and response timeout expired or query id is invalid", None);
            };
            shared.lock().callback_answers.push(id.to_string());
            ok(json!(true))
        }
        "sendmessage" => send_message(shared, params),
        "sendphoto" => media::send_media(shared, params, "photo"),
        "senddocument" => media::send_media(shared, params, "document"),
        "getfile" => media::get_file(shared, params),
        "editmessagetext" => edit_message_text(shared, params),
        _ => error(404, "Not Found", None),
    }
}
