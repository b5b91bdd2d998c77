//! How the fake reads a Bot API request: JSON, form or multipart parameters, as teloxide sends
//! them.

use axum::http::HeaderMap;
use serde_json::{json, Map, Value};

/// The parameters of a request: JSON, multipart form data, or none.
pub(super) fn params(headers: &HeaderMap, body: &[u8]) -> Result<Value, String> {
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

pub(super) fn int(v: &Value) -> Option<i64> {
    v.as_i64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
}
