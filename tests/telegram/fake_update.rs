//! Builders of the updates Telegram sends.

use super::{bot_user, now_unix};
use serde_json::{json, Value};

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
