//! Files in the fake Bot API: those users sent (a test registers them), sent again by their
//! `file_id` (`sendPhoto`, `sendDocument`), and fetched (`getFile`, then
//! `/file/bot<token>/<file_path>`), refused as Telegram refuses an unknown id or a long caption.

use super::*;

impl FakeTelegram {
    /// A file a user sent, as Telegram keeps it: its id works in `sendPhoto`, `sendDocument`
    /// and `getFile`.
    pub fn add_file(&self, file_id: &str, bytes: &[u8]) {
        let mut inner = self.shared.lock();
        let path = format!("photos/file_{}.jpg", inner.files.len());
        inner
            .files
            .insert(file_id.to_string(), (path, bytes.to_vec()));
    }
}

/// `sendPhoto` / `sendDocument` of a known `file_id`, with an optional caption.
pub(super) fn send_media(shared: &Shared, params: &Value, kind: &str) -> Response {
    let Some(chat_id) = params.get("chat_id").and_then(int) else {
        return error(400, "Bad Request: chat not found", None);
    };
    let file = params.get(kind).and_then(Value::as_str).unwrap_or("");
    let caption = params.get("caption").and_then(Value::as_str).unwrap_or("");
    if utf16_len(caption) > 1024 {
        return error(400, "Bad Request: message caption is too long", None);
    }
    let mut inner = shared.lock();
    if !inner.files.contains_key(file) {
        return error(
            400,
            "Bad Request: wrong file identifier/HTTP URL specified",
            None,
        );
    }
    inner.next_message_id += 1;
    let message_id = inner.next_message_id;
    inner.sent.push(Sent {
        chat_id,
        text: caption.to_string(),
        buttons: Vec::new(),
        contact_button: false,
        message_id,
        edits: 0,
        file: Some(format!("{kind}:{file}")),
    });
    let mut message = json!({
        "message_id": message_id,
        "from": bot_user(),
        "chat": chat(chat_id),
        "date": now_unix(),
    });
    let unique = format!("u-{file}");
    message[kind] = if kind == "photo" {
        json!([{"file_id": file, "file_unique_id": unique, "width": 800, "height": 600}])
    } else {
        json!({"file_id": file, "file_unique_id": unique})
    };
    if !caption.is_empty() {
        message["caption"] = json!(caption);
    }
    ok(message)
}

/// `getFile`: where a known file can be downloaded.
pub(super) fn get_file(shared: &Shared, params: &Value) -> Response {
    let id = params.get("file_id").and_then(Value::as_str).unwrap_or("");
    match shared.lock().files.get(id) {
        Some((path, bytes)) => ok(json!({
            "file_id": id,
            "file_unique_id": format!("u-{id}"),
            "file_size": bytes.len(),
            "file_path": path,
        })),
        None => error(400, "Bad Request: invalid file_id", None),
    }
}

/// `GET /file/bot<token>/<file_path>`: the file's bytes.
pub(super) async fn download(
    State(shared): State<Arc<Shared>>,
    Path((bot, path)): Path<(String, String)>,
) -> Response {
    if bot.strip_prefix("bot") != Some(shared.token.as_str()) {
        return error(401, "Unauthorized", None);
    }
    let inner = shared.lock();
    match inner.files.values().find(|(p, _)| *p == path) {
        Some((_, bytes)) => (StatusCode::OK, bytes.clone()).into_response(),
        None => error(404, "Not Found", None),
    }
}
