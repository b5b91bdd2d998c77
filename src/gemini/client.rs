//! One `generateContent` request to the Gemini REST API, and what its answer means.
//!
//! `POST {api_url}/v1beta/models/{model}:generateContent` with the key in `x-goog-api-key`
//! (never in the URL). Understanding asks for structured output (`responseMimeType`
//! `application/json` and a `responseSchema` whose intent enum is the contract's list);
//! wording asks for plain text. Thinking is off (`thinkingBudget: 0`): latency matters more
//! than depth for a chat turn.

use super::prompt::Prompt;
use crate::settings::GeminiSettings;
use anyhow::Context as _;
use redsol_actors::brain::ModelAnswer;
use serde_json::Value;
use std::time::Duration;

/// Why a request gave no usable answer.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GeminiError {
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("no answer within the {0:?} left in the turn")]
    OutOfTime(Duration),
    #[error("cannot reach Gemini: {0}")]
    Connect(String),
    #[error("rate limited (429): {message}")]
    RateLimited {
        retry_after: Option<Duration>,
        message: String,
    },
    #[error("server error {status}: {message}")]
    Server { status: u16, message: String },
    #[error("request refused {status}: {message}")]
    Rejected { status: u16, message: String },
    #[error("answer blocked: {0}")]
    Blocked(String),
    #[error("no candidates in the answer")]
    Empty,
    #[error("unusable answer: {0}")]
    Invalid(String),
    #[error("circuit breaker open after repeated failures")]
    BreakerOpen,
    #[error("no free request slot, or no time left, within the turn budget")]
    Busy,
}

impl GeminiError {
    /// The `outcome` label of `redsol_llm_request_seconds`.
    pub fn outcome(&self) -> &'static str {
        match self {
            GeminiError::Timeout(_) | GeminiError::OutOfTime(_) => "timeout",
            GeminiError::Connect(_) => "unavailable",
            GeminiError::RateLimited { .. } => "rate_limited",
            GeminiError::Server { .. } => "server_error",
            GeminiError::Rejected { .. } => "rejected",
            GeminiError::Blocked(_) => "blocked",
            GeminiError::Empty => "empty",
            GeminiError::Invalid(_) => "invalid",
            GeminiError::BreakerOpen => "breaker_open",
            GeminiError::Busy => "busy",
        }
    }

    /// Whether another try may succeed: 429, 500, 503, 504 and cut connections.
    pub fn retryable(&self) -> bool {
        match self {
            GeminiError::RateLimited { .. } | GeminiError::Connect(_) => true,
            GeminiError::Server { status, .. } => matches!(status, 500 | 503 | 504),
            _ => false,
        }
    }

    /// What it says of Gemini, for the circuit breaker. An answer that was blocked, empty or
    /// malformed came from a working service; a call that found no free slot, or was past its
    /// deadline before it was sent, never reached it.
    pub fn verdict(&self) -> super::breaker::Verdict {
        use super::breaker::Verdict;
        match self {
            GeminiError::Timeout(_)
            | GeminiError::Connect(_)
            | GeminiError::RateLimited { .. }
            | GeminiError::Server { .. }
            | GeminiError::Rejected { .. } => Verdict::Outage,
            GeminiError::Blocked(_) | GeminiError::Empty | GeminiError::Invalid(_) => {
                Verdict::Answered
            }
            GeminiError::BreakerOpen | GeminiError::Busy | GeminiError::OutOfTime(_) => {
                Verdict::Neutral
            }
        }
    }

    /// The wait Gemini asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            GeminiError::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// What a successful request produced.
#[derive(Clone, Debug, PartialEq)]
pub enum Generated {
    Answer(ModelAnswer),
    Text(String),
}

/// The HTTP side: one request, classified.
pub struct GeminiClient {
    http: reqwest::Client,
    endpoint: String,
    /// The `x-goog-api-key` value, marked sensitive (never printed by the HTTP stack).
    key: reqwest::header::HeaderValue,
}

impl GeminiClient {
    pub fn new(settings: &GeminiSettings, timeout: Duration) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("redsol/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot build the Gemini HTTP client")?;
        let mut key =
            reqwest::header::HeaderValue::from_str(settings.api_key.expose()).map_err(|_| {
                anyhow::anyhow!("GEMINI_API_KEY holds characters a header cannot carry")
            })?;
        key.set_sensitive(true);
        Ok(Self {
            http,
            endpoint: format!(
                "{}/v1beta/models/{}:generateContent",
                settings.api_url.trim_end_matches('/'),
                settings.model
            ),
            key,
        })
    }

    /// Sends one request, answered within `timeout`, and reads its answer.
    pub async fn generate(
        &self,
        prompt: &Prompt,
        timeout: Duration,
    ) -> Result<Generated, GeminiError> {
        let sent = self
            .http
            .post(&self.endpoint)
            .timeout(timeout)
            .header("x-goog-api-key", self.key.clone())
            .json(&prompt.body)
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => return Err(transport(e, timeout)),
        };
        let status = response.status().as_u16();
        let body = match response.bytes().await {
            Ok(b) => b,
            Err(e) => return Err(transport(e, timeout)),
        };
        if status != 200 {
            return Err(http_error(status, &body));
        }
        let text = candidate_text(&body)?;
        if prompt.json {
            let answer: ModelAnswer = serde_json::from_str(strip_fences(&text))
                .map_err(|e| GeminiError::Invalid(format!("not the schema's JSON: {e}")))?;
            Ok(Generated::Answer(answer))
        } else {
            Ok(Generated::Text(text.trim().to_string()))
        }
    }
}

fn transport(e: reqwest::Error, timeout: Duration) -> GeminiError {
    if e.is_timeout() {
        GeminiError::Timeout(timeout)
    } else {
        // reqwest's message names the URL, which holds no secret (the key is a header).
        GeminiError::Connect(without_url(&e))
    }
}

fn without_url(e: &reqwest::Error) -> String {
    let mut message = e.to_string();
    if let Some(url) = e.url() {
        message = message.replace(url.as_str(), "<gemini>");
    }
    truncate(&message)
}

fn truncate(s: &str) -> String {
    s.chars().take(200).collect()
}

/// Google's error JSON: `{"error":{"code","message","status","details":[{"@type",
/// "retryDelay"}]}}`.
fn http_error(status: u16, body: &[u8]) -> GeminiError {
    let json: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let error = &json["error"];
    let message = error["message"]
        .as_str()
        .or_else(|| error["status"].as_str())
        .map(truncate)
        .unwrap_or_else(|| format!("HTTP {status}"));
    match status {
        429 => GeminiError::RateLimited {
            retry_after: retry_delay(error),
            message,
        },
        500..=599 => GeminiError::Server { status, message },
        _ => GeminiError::Rejected { status, message },
    }
}

/// `RetryInfo.retryDelay` ("27s", "1.5s") among the error's details.
fn retry_delay(error: &Value) -> Option<Duration> {
    error["details"].as_array()?.iter().find_map(|d| {
        let kind = d["@type"].as_str()?;
        if !kind.ends_with("google.rpc.RetryInfo") {
            return None;
        }
        let secs: f64 = d["retryDelay"].as_str()?.strip_suffix('s')?.parse().ok()?;
        (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(3600.0)))
    })
}

/// The text of the first candidate, or why there is none.
fn candidate_text(body: &[u8]) -> Result<String, GeminiError> {
    let json: Value = serde_json::from_slice(body)
        .map_err(|e| GeminiError::Invalid(format!("the answer is not JSON: {e}")))?;
    if let Some(reason) = json["promptFeedback"]["blockReason"].as_str() {
        return Err(GeminiError::Blocked(format!("prompt blocked ({reason})")));
    }
    let candidate = match json["candidates"].as_array().and_then(|c| c.first()) {
        Some(c) => c,
        None => return Err(GeminiError::Empty),
    };
    let text: String = candidate["content"]["parts"]
        .as_array()
        .map(|parts| parts.iter().filter_map(|p| p["text"].as_str()).collect())
        .unwrap_or_default();
    let finish = candidate["finishReason"].as_str().unwrap_or("STOP");
    match finish {
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" => {
            Err(GeminiError::Blocked(format!("answer stopped ({finish})")))
        }
        // Thinking counts against maxOutputTokens: an answer cut there may be empty.
        "MAX_TOKENS" => Err(GeminiError::Invalid("answer cut short (MAX_TOKENS)".into())),
        _ if text.trim().is_empty() => Err(GeminiError::Empty),
        "STOP" => Ok(text),
        // The rest (OTHER, LANGUAGE...): not a whole answer either.
        other => Err(GeminiError::Invalid(format!("answer cut short ({other})"))),
    }
}

/// Models sometimes wrap JSON in a Markdown fence even when asked not to.
fn strip_fences(text: &str) -> &str {
    let t = text.trim();
    t.strip_prefix("```json")
        .or_else(|| t.strip_prefix("```"))
        .and_then(|t| t.strip_suffix("```"))
        .map(str::trim)
        .unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_google_error_shapes() {
        let body = json!({"error": {"code": 429, "message": "Resource has been exhausted", "status": "RESOURCE_EXHAUSTED",
            "details": [{"@type": "type.googleapis.com/google.rpc.QuotaFailure"},
                        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "1.5s"}]}});
        let e = http_error(429, body.to_string().as_bytes());
        assert_eq!(e.retry_after(), Some(Duration::from_millis(1500)));
        assert!(e.retryable());
        assert_eq!(e.verdict(), super::super::breaker::Verdict::Outage);
        assert_eq!(e.outcome(), "rate_limited");

        let e = http_error(
            400,
            br#"{"error":{"code":400,"message":"API key not valid","status":"INVALID_ARGUMENT"}}"#,
        );
        assert_eq!(
            e,
            GeminiError::Rejected {
                status: 400,
                message: "API key not valid".into()
            }
        );
        assert!(!e.retryable());
        assert!(!http_error(501, b"").retryable());
        let cut = GeminiError::OutOfTime(Duration::from_millis(700));
        assert_eq!(cut.outcome(), "timeout");
        assert_eq!(cut.verdict(), super::super::breaker::Verdict::Neutral);
        assert!(!cut.retryable());
        assert!(http_error(504, b"<html>").retryable());
    }

    #[test]
    fn reads_candidates_and_their_absence() {
        let ok = json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "{\"intent\":"}, {"text": "\"plans\"}"}]}, "finishReason": "STOP"}]});
        assert_eq!(
            candidate_text(ok.to_string().as_bytes()).as_deref(),
            Ok("{\"intent\":\"plans\"}")
        );
        let blocked = json!({"promptFeedback": {"blockReason": "SAFETY"}});
        assert!(matches!(
            candidate_text(blocked.to_string().as_bytes()),
            Err(GeminiError::Blocked(_))
        ));
        let stopped = json!({"candidates": [{"finishReason": "SAFETY", "safetyRatings": []}]});
        assert!(matches!(
            candidate_text(stopped.to_string().as_bytes()),
            Err(GeminiError::Blocked(_))
        ));
        assert_eq!(
            candidate_text(br#"{"candidates": []}"#),
            Err(GeminiError::Empty)
        );
        assert!(matches!(
            candidate_text(b"<html>"),
            Err(GeminiError::Invalid(_))
        ));
        assert_eq!(strip_fences("```json\n{\"a\":1}\n```"), "{\"a\":1}");
    }
}
