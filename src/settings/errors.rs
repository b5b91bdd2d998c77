//! Configuration errors that name the key, the value given (never a secret's) and what is
//! expected, once.

use super::*;

/// The error for a setting with a wrong value: the key (a config key path or an environment
/// variable), the value given, and what is expected. Never for a secret: see [`is_secret_key`].
pub(super) fn invalid(key: &str, given: &dyn fmt::Debug, expected: &str) -> anyhow::Error {
    anyhow::anyhow!("invalid configuration: {key} = {given:?}: {expected}")
}

/// The error for a URL setting that is not one. The value is not shown: a URL may carry a
/// key (`?key=`) or a password (`user:pass@`).
pub(super) fn invalid_url(key: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "invalid configuration: {key}: expected an http:// or https:// URL (the value given is not shown)"
    )
}

/// Whether a config key names a secret (a token, a secret, a password, a key): its value is
/// never shown in an error.
pub(super) fn is_secret_key(key: &str) -> bool {
    let last = key.rsplit('.').next().unwrap_or(key).to_ascii_lowercase();
    last.split(['_', '-']).any(|word| {
        matches!(
            word,
            "token" | "secret" | "password" | "passwd" | "key" | "apikey" | "credentials"
        )
    })
}

/// The value at `path` in the merged config, if the path leads to one.
pub(super) fn value_at<'a>(
    root: &'a toml::Value,
    path: &serde_path_to_error::Path,
) -> Option<&'a toml::Value> {
    use serde_path_to_error::Segment;
    path.iter().try_fold(root, |v, segment| match segment {
        Segment::Map { key } => v.as_table()?.get(key),
        Segment::Seq { index } => v.as_array()?.get(*index),
        Segment::Enum { .. } | Segment::Unknown => None,
    })
}

/// A scalar value as TOML writes it; `None` for a table or an array.
pub(super) fn show_scalar(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::String(s) => Some(format!("{s:?}")),
        toml::Value::Integer(i) => Some(i.to_string()),
        toml::Value::Float(f) => Some(f.to_string()),
        toml::Value::Boolean(b) => Some(b.to_string()),
        toml::Value::Datetime(d) => Some(d.to_string()),
        toml::Value::Array(_) | toml::Value::Table(_) => None,
    }
}

/// The message for a config value that does not fit its type: the key path, the value given
/// (never a secret's), what is expected, and the layer that set it. `file` is the
/// `REDSOL_CONFIG` layer: its path and its table.
pub(super) fn type_error(
    error: &serde_path_to_error::Error<toml::de::Error>,
    merged: &toml::Value,
    file: Option<(&str, &toml::Value)>,
) -> String {
    let path = error.path();
    let message = error.inner().message();
    let from = match file {
        Some((name, table)) if value_at(table, path).is_some() => {
            format!("in {name}, named by REDSOL_CONFIG")
        }
        _ => "in the embedded config/default.toml".to_string(),
    };
    // The path ends at the struct (a missing field) or at the field itself (an unknown one).
    let at = |field: &str| match path.iter().next_back() {
        None => field.to_string(),
        Some(serde_path_to_error::Segment::Map { key }) if key == field => path.to_string(),
        Some(_) => format!("{path}.{field}"),
    };
    // serde's messages for a struct: `missing field `x``, `unknown field `x`, expected ...`.
    if let Some(field) = message
        .strip_prefix("missing field `")
        .and_then(|m| m.strip_suffix('`'))
    {
        return format!(
            "invalid configuration: {}: required but missing ({from})",
            at(field)
        );
    }
    if let Some((field, rest)) = message
        .strip_prefix("unknown field `")
        .and_then(|m| m.split_once('`'))
    {
        let known = rest.trim_start_matches([',', ' ']);
        return format!(
            "invalid configuration: {}: not a known key ({known}; {from})",
            at(field)
        );
    }
    let key = match path.iter().len() {
        0 => "the configuration".to_string(),
        _ => path.to_string(),
    };
    // `invalid type: string "x", expected u16`: the value is shown below, from the config
    // itself (never a secret's), so only what is expected is kept.
    let expected = ["invalid type: ", "invalid value: ", "invalid length "]
        .iter()
        .any(|p| message.starts_with(p))
        .then(|| message.rfind(", expected ").map(|i| &message[i + 2..]))
        .flatten();
    let given = value_at(merged, path);
    if is_secret_key(&key) {
        let expected = expected.unwrap_or("an invalid value");
        return format!(
            "invalid configuration: {key}: {expected} (the value given is a secret and is not shown; {from})"
        );
    }
    let expected = expected.unwrap_or(message);
    match given {
        Some(v) => match show_scalar(v) {
            Some(shown) => format!("invalid configuration: {key} = {shown}: {expected} ({from})"),
            None => {
                let kind = if v.is_array() { "an array" } else { "a table" };
                format!("invalid configuration: {key} ({kind}): {expected} ({from})")
            }
        },
        None => format!("invalid configuration: {key}: {message} ({from})"),
    }
}

/// The message for a `REDSOL_CONFIG` file that is not TOML: where (line and column) and what,
/// without the offending line itself (it may hold a secret).
pub(super) fn syntax_error(path: &str, text: &str, error: &toml::de::Error) -> String {
    let mut message = error.message().trim().replace('\n', "; ");
    let Some(span) = error.span() else {
        return format!(
            "invalid configuration: {path} (REDSOL_CONFIG) is not valid TOML: {message}"
        );
    };
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    // Name the key when the line is a plain `key = value` under a `[table]` header.
    let lines_before = &before[..before.rfind('\n').unwrap_or(0)];
    let table = lines_before
        .lines()
        .rev()
        .map(str::trim)
        .find(|l| l.starts_with('['))
        .and_then(|h| h.trim_start_matches('[').split(']').next())
        .map(|t| t.trim().to_string());
    let this_line = text.lines().nth(line - 1).unwrap_or_default();
    let key = this_line
        .split_once('=')
        .map(|(k, _)| k.trim())
        .filter(|k| {
            !k.is_empty()
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
        });
    if let Some(key) = key {
        let key = match table {
            Some(t) if !t.is_empty() => format!("{t}.{key}"),
            _ => key.to_string(),
        };
        message = format!("{key}: {message}");
    }
    format!(
        "invalid configuration: {path} (REDSOL_CONFIG), line {line}, column {column}: {message}"
    )
}
