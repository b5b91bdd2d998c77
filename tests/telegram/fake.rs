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
use serde_json::{json, Map, Value};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

#[path = "fake_media.rs"]
mod media;

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

/// The parameters of a request: JSON, multipart form data, or none.
fn params(headers: &HeaderMap, body: &[u8]) -> Result<Value, String> {
    let ctype = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if body.is_empty() {
        return Ok(json!({}));
    }
    if ctype.starts_with("application/json") {
        return serde_json::from_slice(body).map_err(|e| format!("bad JSON: {e}"));
    }
    if ctype.starts_with("multipart/form-data") {
        let boundary = ctype
            .split(';')
            .filter_map(|p| p.trim().strip_prefix("boundary="))
            .next()
            .ok_or("multipart without boundary")?
            .trim_matches('"');
        return multipart(body, boundary);
    }
    Err(format!("unexpected content type {ctype:?}"))
}

/// Text fields of a multipart body; fields that hold JSON (arrays, objects) are parsed.
fn multipart(body: &[u8], boundary: &str) -> Result<Value, String> {
    let text = String::from_utf8_lossy(body);
    let delimiter = format!("--{boundary}");
    let mut fields = Map::new();
    for part in text.split(delimiter.as_str()).skip(1) {
        if part.starts_with("--") {
            break;
        }
        let part = part.strip_prefix("\r\n").unwrap_or(part);
        let (head, value) = part.split_once("\r\n\r\n").ok_or("part without headers")?;
        let value = value.strip_suffix("\r\n").unwrap_or(value);
        let name = head
            .split(';')
            .filter_map(|p| p.trim().strip_prefix("name="))
            .next()
            .ok_or("part without name")?
            .trim_matches('"')
            .to_string();
        let v = match serde_json::from_str::<Value>(value) {
            Ok(v @ (Value::Array(_) | Value::Object(_) | Value::Bool(_))) => v,
            _ => Value::String(value.to_string()),
        };
        fields.insert(name, v);
    }
    Ok(Value::Object(fields))
}

fn int(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
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

async fn get_updates(shared: &Shared, params: &Value) -> Response {
    let offset = params.get("offset").and_then(int).unwrap_or(0);
    let timeout = params.get("timeout").and_then(int).unwrap_or(0).max(0) as u64;
    let limit = params
        .get("limit")
        .and_then(int)
        .unwrap_or(100)
        .clamp(1, 100) as usize;
    let deadline = Instant::now() + Duration::from_secs(timeout);
    loop {
        let notified = shared.updates.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        {
            let mut inner = shared.lock();
            if inner.webhook.is_some() {
                return error(
                    409,
                    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
                    None,
                );
            }
            // An update is confirmed once getUpdates is called with an offset above its id.
            inner
                .queue
                .retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
            let ready: Vec<Value> = inner.queue.iter().take(limit).cloned().collect();
            if !ready.is_empty() || Instant::now() >= deadline {
                return ok(Value::Array(ready));
            }
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            // One last look, then the empty answer of an expired long poll.
            continue;
        }
    }
}

fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// `editMessageText` of a message the bot sent: its text and inline keyboard replaced, refused
/// like Telegram refuses an unknown message or an edit that changes nothing.
fn edit_message_text(shared: &Shared, params: &Value) -> Response {
    let (Some(chat_id), Some(message_id)) = (
        params.get("chat_id").and_then(int),
        params.get("message_id").and_then(int),
    ) else {
        return error(
            400,
            "Bad Request: message identifier is not specified",
            None,
        );
    };
    let text = params.get("text").and_then(Value::as_str).unwrap_or("");
    if text.trim().is_empty() {
        return error(400, "Bad Request: message text is empty", None);
    }
    let buttons: Vec<String> = params
        .get("reply_markup")
        .and_then(|m| m.get("inline_keyboard"))
        .and_then(Value::as_array)
        .map(|rows| {
            rows.iter()
                .filter_map(Value::as_array)
                .flatten()
                .filter_map(|b| b.get("callback_data").and_then(Value::as_str))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let mut inner = shared.lock();
    let Some(sent) = inner
        .sent
        .iter_mut()
        .find(|m| m.chat_id == chat_id && m.message_id == message_id)
    else {
        return error(400, "Bad Request: message to edit not found", None);
    };
    if sent.text == text && sent.buttons == buttons {
        return error(400, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message", None);
    }
    sent.text = text.to_string();
    sent.buttons = buttons;
    sent.edits += 1;
    ok(json!({
        "message_id": message_id,
        "from": bot_user(),
        "chat": chat(chat_id),
        "date": now_unix(),
        "edit_date": now_unix(),
        "text": text,
    }))
}

fn send_message(shared: &Shared, params: &Value) -> Response {
    let Some(chat_id) = params.get("chat_id").and_then(int) else {
        return error(400, "Bad Request: chat not found", None);
    };
    let text = params.get("text").and_then(Value::as_str).unwrap_or("");
    if text.trim().is_empty() {
        return error(400, "Bad Request: message text is empty", None);
    }
    if utf16_len(text) > 4096 {
        return error(400, "Bad Request: message is too long", None);
    }
    let markup = params.get("reply_markup").cloned();
    let mut buttons = Vec::new();
    let mut contact_button = false;
    if let Some(m) = &markup {
        if let Some(rows) = m.get("inline_keyboard").and_then(Value::as_array) {
            for b in rows.iter().filter_map(Value::as_array).flatten() {
                let data = b.get("callback_data").and_then(Value::as_str).unwrap_or("");
                let label = b.get("text").and_then(Value::as_str).unwrap_or("");
                if data.is_empty() || data.len() > 64 || label.is_empty() {
                    return error(400, "Bad Request: BUTTON_DATA_INVALID", None);
                }
                buttons.push(data.to_string());
            }
        } else if let Some(rows) = m.get("keyboard").and_then(Value::as_array) {
            for b in rows.iter().filter_map(Value::as_array).flatten() {
                if b.get("text")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .is_empty()
                {
                    return error(400, "Bad Request: keyboard button text is empty", None);
                }
                if b.get("request_contact") == Some(&json!(true)) {
                    contact_button = true;
                }
            }
        } else {
            return error(
                400,
                "Bad Request: can't parse reply keyboard markup JSON object",
                None,
            );
        }
    }
    let mut inner = shared.lock();
    if let Some(failure) = inner.failures.pop_front() {
        return match failure {
            Failure::RetryAfter(secs) => error(
                429,
                &format!("Too Many Requests: retry after {secs}"),
                Some(json!({"retry_after": secs})),
            ),
            Failure::ServerError => error(500, "Internal Server Error", None),
            Failure::Blocked => error(403, "Forbidden: bot was blocked by the user", None),
        };
    }
    inner.next_message_id += 1;
    let message_id = inner.next_message_id;
    inner.sent.push(Sent {
        chat_id,
        text: text.to_string(),
        buttons,
        contact_button,
        message_id,
        edits: 0,
        file: None,
    });
    let mut message = json!({
        "message_id": message_id,
        "from": bot_user(),
        "chat": chat(chat_id),
        "date": now_unix(),
        "text": text,
    });
    if let Some(m) = markup.filter(|m| m.get("inline_keyboard").is_some()) {
        message["reply_markup"] = m;
    }
    ok(message)
}

impl FakeTelegram {
    /// Starts the fake for `token` on a random port.
    pub async fn start(token: &str) -> FakeTelegram {
        crate::metrics::install();
        let shared = Arc::new(Shared {
            token: token.to_string(),
            inner: Mutex::new(Inner {
                next_update_id: 1000,
                ..Inner::default()
            }),
            updates: Notify::new(),
            activity: Notify::new(),
        });
        let app = Router::new()
            .route("/{bot}/{method}", post(handle).get(handle))
            .route("/file/{bot}/{*path}", axum::routing::get(media::download))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("fake Telegram binds");
        let addr = listener.local_addr().expect("local addr");
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeTelegram {
            url: format!("http://{addr}"),
            shared,
            server,
        }
    }

    /// Queues an update of `kind` (`message`, `callback_query`...) and returns its id.
    pub fn push(&self, kind: &str, body: Value) -> i64 {
        let id = {
            let mut inner = self.shared.lock();
            inner.next_update_id += 1;
            let id = inner.next_update_id;
            let update = json!({ "update_id": id, kind: body });
            inner.history.push(update.clone());
            inner.queue.push(update);
            id
        };
        self.shared.updates.notify_waiters();
        id
    }

    /// Hands out an update again, as Telegram does when the offset past it was never committed.
    pub fn redeliver(&self, update_id: i64) {
        {
            let mut inner = self.shared.lock();
            let Some(update) = inner
                .history
                .iter()
                .find(|u| u["update_id"].as_i64() == Some(update_id))
                .cloned()
            else {
                panic!("no update {update_id} was pushed");
            };
            inner
                .queue
                .retain(|u| u["update_id"].as_i64() != Some(update_id));
            inner.queue.insert(0, update);
            inner
                .queue
                .sort_by_key(|u| u["update_id"].as_i64().unwrap_or(0));
        }
        self.shared.updates.notify_waiters();
    }

    /// Scripts the next `sendMessage` answers.
    pub fn fail_next(&self, failures: impl IntoIterator<Item = Failure>) {
        self.shared.lock().failures.extend(failures);
    }

    /// Sets a webhook behind the bot's back (another deployment did).
    pub fn set_webhook_elsewhere(&self) {
        self.shared.lock().webhook = Some(Webhook {
            url: "https://elsewhere.example/hook".into(),
            secret_token: None,
            allowed_updates: None,
        });
    }

    pub fn clear_webhook(&self) {
        self.shared.lock().webhook = None;
        self.shared.updates.notify_waiters();
    }

    pub fn webhook(&self) -> Option<Webhook> {
        self.shared.lock().webhook.clone()
    }

    pub fn sent(&self) -> Vec<Sent> {
        self.shared.lock().sent.clone()
    }

    pub fn callback_answers(&self) -> Vec<String> {
        self.shared.lock().callback_answers.clone()
    }

    pub fn commands(&self) -> Vec<(String, String)> {
        self.shared.lock().commands.clone()
    }

    /// The calls of a method (lowercase name), in order.
    pub fn calls(&self, method: &str) -> Vec<Call> {
        self.shared
            .lock()
            .calls
            .iter()
            .filter(|c| c.method == method)
            .cloned()
            .collect()
    }

    /// Updates handed out and not yet confirmed.
    pub fn unconfirmed(&self) -> usize {
        self.shared.lock().queue.len()
    }

    /// Waits (bounded) until `done` holds of the fake's records.
    pub async fn wait_until(&self, what: &str, mut done: impl FnMut(&FakeTelegram) -> bool) {
        let deadline = Instant::now() + WAIT;
        loop {
            let notified = self.shared.activity.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if done(self) {
                return;
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                if done(self) {
                    return;
                }
                panic!(
                    "timed out waiting for {what}; sent so far: {:#?}",
                    self.sent()
                );
            }
        }
    }

    /// Waits (bounded) until at least `n` messages were sent, and returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<Sent> {
        self.wait_until(&format!("{n} sent message(s)"), |f| f.sent().len() >= n)
            .await;
        self.sent()
    }
}

/// Builders of the updates Telegram sends.
pub mod update {
    use super::*;

    pub fn user(id: i64, first: &str, last: Option<&str>) -> Value {
        let mut u = json!({"id": id, "is_bot": false, "first_name": first, "language_code": "es"});
        if let Some(l) = last {
            u["last_name"] = json!(l);
        }
        u
    }

    fn private(user_id: i64, first: &str) -> Value {
        json!({"id": user_id, "type": "private", "first_name": first})
    }

    /// A message in the user's private chat with the fields of `content`.
    pub fn message(from: &Value, content: Value) -> Value {
        let id = from["id"].as_i64().unwrap_or(0);
        let first = from["first_name"].as_str().unwrap_or("");
        let mut m = json!({
            "message_id": fastrand::i32(1..1_000_000),
            "date": now_unix(),
            "from": from,
            "chat": private(id, first),
        });
        if let (Some(m), Some(c)) = (m.as_object_mut(), content.as_object()) {
            for (k, v) in c {
                m.insert(k.clone(), v.clone());
            }
        }
        m
    }

    pub fn text(from: &Value, text: &str) -> Value {
        let mut content = json!({ "text": text });
        if text.starts_with('/') {
            let len = text
                .split_whitespace()
                .next()
                .map_or(0, |c| c.encode_utf16().count());
            content["entities"] = json!([{"type": "bot_command", "offset": 0, "length": len}]);
        }
        message(from, content)
    }

    pub fn group_text(from: &Value, group_id: i64, text: &str) -> Value {
        let mut m = text_in(from, text);
        m["chat"] = json!({"id": group_id, "type": "supergroup", "title": "Vecinos"});
        m
    }

    fn text_in(from: &Value, text: &str) -> Value {
        self::text(from, text)
    }

    /// A tap on an inline button of a message (`message_id`) the bot sent to a group.
    pub fn group_callback(
        from: &Value,
        group_id: i64,
        message_id: i64,
        query_id: &str,
        data: &str,
    ) -> Value {
        let mut q = callback(from, query_id, data);
        q["message"]["chat"] = json!({"id": group_id, "type": "supergroup", "title": "Soporte"});
        q["message"]["message_id"] = json!(message_id);
        q
    }

    /// A tap on an inline button of a message the bot sent to the user.
    pub fn callback(from: &Value, query_id: &str, data: &str) -> Value {
        let id = from["id"].as_i64().unwrap_or(0);
        let first = from["first_name"].as_str().unwrap_or("");
        json!({
            "id": query_id,
            "from": from,
            "chat_instance": "-4242",
            "data": data,
            "message": {
                "message_id": 1,
                "date": now_unix(),
                "from": bot_user(),
                "chat": private(id, first),
                "text": "…",
            }
        })
    }
}
