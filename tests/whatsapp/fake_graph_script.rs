//! The fake Graph's scripted answers: an error status and body, a `Retry-After`, a delay
//! (before or after the message is accepted), for the next N requests that match.

use super::*;

/// A scripted answer for the next `times` requests that match.
#[derive(Clone, Debug)]
pub struct Script {
    pub(super) to: Option<String>,
    pub(super) after: usize,
    pub(super) times: usize,
    /// `None`: answer normally (after the delay).
    pub(super) status: Option<u16>,
    pub(super) body: Value,
    pub(super) retry_after: Option<u64>,
    pub(super) delay: Option<Duration>,
    /// Accepted (recorded, its status queued) before the delay, answered after it.
    pub(super) accepted_first: bool,
}

impl Script {
    /// Answers `status` with `body`.
    pub fn status(status: u16, body: Value) -> Script {
        Script {
            to: None,
            after: 0,
            times: 1,
            status: Some(status),
            body,
            retry_after: None,
            delay: None,
            accepted_first: false,
        }
    }

    /// Answers `status` with Meta's error shape and the given code.
    pub fn graph_error(status: u16, code: i64, message: &str) -> Script {
        Script::status(status, graph_error_body(code, message, false))
    }

    /// A 500 as Graph gives it.
    pub fn server_error() -> Script {
        Script::status(
            500,
            graph_error_body(
                1,
                "An unknown error occurred (test-scripted internal error)",
                true,
            ),
        )
    }

    /// A 429 with the given rate-limit code (130429 throughput, 131056 pair rate limit).
    pub fn rate_limited(code: i64) -> Script {
        Script::status(
            429,
            graph_error_body(code, "(#130429) Rate limit hit", false),
        )
    }

    /// Answers normally, after `delay`.
    pub fn delayed(delay: Duration) -> Script {
        Script {
            status: None,
            body: Value::Null,
            delay: Some(delay),
            ..Script::status(200, Value::Null)
        }
    }

    /// Accepts the message at once (Graph has it, its status goes out) and answers only
    /// after `delay`: a sender that dies meanwhile never learns that it arrived.
    pub fn accepted_first(delay: Duration) -> Script {
        Script {
            accepted_first: true,
            ..Script::delayed(delay)
        }
    }

    /// For this many matching requests (default 1).
    pub fn times(mut self, n: usize) -> Script {
        self.times = n;
        self
    }

    /// Only for requests to this recipient.
    pub fn to(mut self, to: &str) -> Script {
        self.to = Some(to.to_string());
        self
    }

    /// Lets this many matching requests through first.
    pub fn after(mut self, n: usize) -> Script {
        self.after = n;
        self
    }

    /// With a `Retry-After` header.
    pub fn retry_after(mut self, secs: u64) -> Script {
        self.retry_after = Some(secs);
        self
    }
}

/// Meta's error JSON.
pub fn graph_error_body(code: i64, message: &str, transient: bool) -> Value {
    json!({"error": {
        "message": message,
        "type": "OAuthException",
        "code": code,
        "error_subcode": 2494010,
        "fbtrace_id": "AbCdEfGhIjK",
        "is_transient": transient,
    }})
}
