//! Graph's failures, classified for the retry policy: rate limited, transient, timeout,
//! connection, or permanent.

use super::render::truncate_title;
use serde::Deserialize;
use std::time::Duration;

/// The longest `Retry-After` honoured; longer ones are capped (the message is retried then).
const MAX_RETRY_AFTER: Duration = Duration::from_secs(15 * 60);
/// Error texts from Graph are kept to this many characters in logs.
const MAX_ERROR_MESSAGE: usize = 300;

/// Graph error codes that mean "slow down" whatever the HTTP status.
/// 4: application request limit; 80007: WhatsApp Business Account rate limit;
/// 130429: Cloud API throughput limit; 131056: pair rate limit (too many messages to one
/// user); 613: calls exceeded the rate limit.
const RATE_LIMIT_CODES: [i64; 5] = [4, 613, 80007, 130429, 131056];
/// The pair rate limit: about one recipient, not the whole business number.
pub const PAIR_RATE_LIMIT_CODE: i64 = 131056;
/// Graph error codes that are temporary whatever the HTTP status.
/// 1: unknown API error; 2: service temporarily unavailable; 131016: service unavailable;
/// 133004: server temporarily unavailable.
const TRANSIENT_CODES: [i64; 4] = [1, 2, 131016, 133004];

/// Why a Graph request failed, classified for the retry policy.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    /// HTTP 429 or a rate-limit error code: slow down, then retry.
    #[error("rate limited by the Graph API (code {code:?}, retry after {retry_after:?})")]
    RateLimited {
        retry_after: Option<Duration>,
        code: Option<i64>,
    },
    /// A 5xx, or an error Graph marks `is_transient`: retry with backoff.
    #[error("transient Graph API error (HTTP {status}, code {code:?})")]
    Transient { status: u16, code: Option<i64> },
    /// No answer within the request timeout.
    #[error("the Graph API request timed out")]
    Timeout,
    /// The request could not be made or its answer not read (DNS, TCP, TLS...).
    #[error("cannot reach the Graph API: {detail}")]
    Connection { detail: String },
    /// A 4xx that retrying will not fix (bad parameters, recipient not reachable, expired
    /// token...). `message` is Graph's text (never containing the token).
    #[error("the Graph API rejected the request (HTTP {status}, code {code:?}): {message}")]
    Permanent {
        status: u16,
        code: Option<i64>,
        message: String,
    },
}

impl GraphError {
    /// The Graph error code, when Graph gave one.
    pub fn code(&self) -> Option<i64> {
        match self {
            GraphError::RateLimited { code, .. }
            | GraphError::Transient { code, .. }
            | GraphError::Permanent { code, .. } => *code,
            GraphError::Timeout | GraphError::Connection { .. } => None,
        }
    }

    /// `rate_limited`, `transient`, `timeout`, `connection` or `permanent`: for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            GraphError::RateLimited { .. } => "rate_limited",
            GraphError::Transient { .. } => "transient",
            GraphError::Timeout => "timeout",
            GraphError::Connection { .. } => "connection",
            GraphError::Permanent { .. } => "permanent",
        }
    }

    /// A rate limit of the whole business number or app (every recipient should wait), as
    /// opposed to the pair rate limit of one recipient.
    pub fn is_global_rate_limit(&self) -> bool {
        matches!(self, GraphError::RateLimited { code, .. } if *code != Some(PAIR_RATE_LIMIT_CODE))
    }

    /// A rejection of our credentials or permissions (HTTP 401/403, OAuth code 190, permission
    /// codes 10 and 200-299), which an operator can fix: the message is worth sending again
    /// after a restart, unlike a rejection of the message itself.
    pub fn is_auth(&self) -> bool {
        match self {
            GraphError::Permanent { status, code, .. } => {
                matches!(status, 401 | 403)
                    || matches!(code, Some(10) | Some(190) | Some(200..=299))
            }
            _ => false,
        }
    }
}

/// Meta's error shape: `{"error":{"message","type","code","error_subcode","fbtrace_id",
/// "is_transient"}}`.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct GraphErrorBody {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default)]
    pub code: Option<i64>,
    #[serde(default)]
    pub error_subcode: Option<i64>,
    #[serde(default)]
    pub fbtrace_id: Option<String>,
    #[serde(default)]
    pub is_transient: Option<bool>,
}

#[derive(Deserialize)]
struct ErrorEnvelope {
    error: GraphErrorBody,
}

/// Classifies a non-2xx answer of Graph.
pub fn classify(status: u16, retry_after: Option<Duration>, body: &[u8]) -> GraphError {
    let error = serde_json::from_slice::<ErrorEnvelope>(body)
        .map(|e| e.error)
        .unwrap_or_default();
    let code = error.code;
    if status == 429 || code.is_some_and(|c| RATE_LIMIT_CODES.contains(&c)) {
        return GraphError::RateLimited { retry_after, code };
    }
    if status >= 500
        || status == 408
        || error.is_transient == Some(true)
        || code.is_some_and(|c| TRANSIENT_CODES.contains(&c))
    {
        return GraphError::Transient { status, code };
    }
    if (400..500).contains(&status) {
        let mut message = error
            .message
            .unwrap_or_else(|| "no error message".to_string());
        if let Some(subcode) = error.error_subcode {
            message.push_str(&format!(" (subcode {subcode})"));
        }
        if let Some(trace) = error.fbtrace_id {
            message.push_str(&format!(" [fbtrace_id {trace}]"));
        }
        return GraphError::Permanent {
            status,
            code,
            message: truncate_title(&message, MAX_ERROR_MESSAGE),
        };
    }
    // Anything else (1xx, 3xx) is not Graph speaking: a proxy or a redirect. Try again later.
    GraphError::Transient { status, code }
}

/// A `Retry-After` in seconds (the HTTP-date form is not used by Graph), capped.
pub(super) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(|secs| Duration::from_secs(secs).min(MAX_RETRY_AFTER))
}

/// A transport failure, described without its URL.
pub(super) fn transport_error(e: reqwest::Error) -> GraphError {
    if e.is_timeout() {
        return GraphError::Timeout;
    }
    let e = e.without_url();
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    GraphError::Connection { detail }
}
