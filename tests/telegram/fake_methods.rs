//! The Bot API methods the fake answers beyond the simple ones: `getUpdates` with Telegram's
//! offset and long-polling semantics, `sendMessage` and `editMessageText`, checked and refused
//! as Telegram refuses them.

use super::*;

pub(super) async fn get_updates(shared: &Shared, params: &Value) -> Response {
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

pub(super) fn utf16_len(s: &str) -> usize {
    s.encode_utf16().count()
}

/// `editMessageText` of a message the bot sent: its text and inline keyboard replaced, refused
/// like Telegram refuses an unknown message or an edit that changes nothing.
pub(super) fn edit_message_text(shared: &Shared, params: &Value) -> Response {
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

pub(super) fn send_message(shared: &Shared, params: &Value) -> Response {
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
