//! The WhatsApp Cloud API (Graph API) client, and the rendering of a platform-neutral
//! [`Reply`] into the messages Graph accepts.
//!
//! - [`render`] turns a reply into one or more [`GraphMessage`]s within Meta's limits: text over
//!   4096 characters is split on line or word boundaries, quick replies become reply buttons
//!   (up to 3) or a one-section list (4 to 10), titles are shortened with "…".
//! - [`GraphClient::send`] posts one message to `{base}/{version}/{phone_number_id}/messages`
//!   and classifies failures into [`GraphError`]: rate limited, transient, timeout,
//!   connection, or permanent (a 4xx Meta will not accept on retry).
//!
//! Lengths are measured in UTF-16 code units (what an emoji costs in Meta's counters, two),
//! which is never less than the number of characters: a message within our count is within
//! Meta's whichever way it counts.
//!
//! The access token only ever goes into the `Authorization` header: it is not in the URL, in
//! errors or in logs, and an error message from Graph that happens to quote it is scrubbed.

use crate::settings::{Secret, WhatsAppSettings, WhatsAppTuning};
use anyhow::{bail, Context as _};
use redsol_actors::model::AttachmentKind;

pub mod media;
mod render;

pub use media::MediaFile;
pub use render::*;
use render::{render_text, LIST_SECTION_TITLE};
use serde::Deserialize;
use serde_json::{json, Value};
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

/// One message to the Graph API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GraphMessage {
    /// A text message (`body` at most 4096 characters; links are not previewed).
    Text { to: String, body: String },
    /// An interactive message with up to 3 reply buttons, as `(id, title)`.
    Buttons {
        to: String,
        body: String,
        buttons: Vec<(String, String)>,
    },
    /// An interactive list with one section of up to 10 rows, as `(id, title)`; `button` is
    /// the label of the button that opens it.
    List {
        to: String,
        body: String,
        button: String,
        rows: Vec<(String, String)>,
    },
    /// An approved template with its body parameters (what may open a conversation
    /// outside the 24-hour window).
    Template {
        to: String,
        name: String,
        language: String,
        params: Vec<String>,
    },
    /// Marks an inbound message as read (blue ticks).
    MarkRead { message_id: String },
    /// A photo or document with its caption (see [`media`]): a staff member's file, fetched
    /// from Telegram and uploaded before it is sent.
    Media {
        to: String,
        kind: AttachmentKind,
        file: MediaFile,
        caption: String,
    },
}

impl GraphMessage {
    /// `text`, `button`, `list` or `read`: for logs (never the recipient or the text).
    pub fn kind(&self) -> &'static str {
        match self {
            GraphMessage::Text { .. } => "text",
            GraphMessage::Buttons { .. } => "button",
            GraphMessage::List { .. } => "list",
            GraphMessage::Template { .. } => "template",
            GraphMessage::MarkRead { .. } => "read",
            GraphMessage::Media {
                kind: AttachmentKind::Photo,
                ..
            } => "image",
            GraphMessage::Media {
                kind: AttachmentKind::Document,
                ..
            } => "document",
        }
    }

    /// The recipient, for the messages that have one.
    pub fn to(&self) -> Option<&str> {
        match self {
            GraphMessage::Text { to, .. }
            | GraphMessage::Buttons { to, .. }
            | GraphMessage::List { to, .. }
            | GraphMessage::Template { to, .. }
            | GraphMessage::Media { to, .. } => Some(to),
            GraphMessage::MarkRead { .. } => None,
        }
    }

    /// The JSON body Graph expects for this message.
    pub fn to_json(&self) -> Value {
        match self {
            GraphMessage::Text { to, body } => json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": to,
                "type": "text",
                "text": { "preview_url": false, "body": body },
            }),
            GraphMessage::Buttons { to, body, buttons } => {
                let buttons: Vec<Value> = buttons
                    .iter()
                    .map(|(id, title)| json!({ "type": "reply", "reply": { "id": id, "title": title } }))
                    .collect();
                json!({
                    "messaging_product": "whatsapp",
                    "recipient_type": "individual",
                    "to": to,
                    "type": "interactive",
                    "interactive": {
                        "type": "button",
                        "body": { "text": body },
                        "action": { "buttons": buttons },
                    },
                })
            }
            GraphMessage::List {
                to,
                body,
                button,
                rows,
            } => {
                let rows: Vec<Value> = rows
                    .iter()
                    .map(|(id, title)| json!({ "id": id, "title": title }))
                    .collect();
                json!({
                    "messaging_product": "whatsapp",
                    "recipient_type": "individual",
                    "to": to,
                    "type": "interactive",
                    "interactive": {
                        "type": "list",
                        "body": { "text": body },
                        "action": {
                            "button": button,
                            "sections": [{ "title": LIST_SECTION_TITLE, "rows": rows }],
                        },
                    },
                })
            }
            GraphMessage::Template {
                to,
                name,
                language,
                params,
            } => {
                let params: Vec<Value> = params
                    .iter()
                    .map(|p| json!({ "type": "text", "text": p }))
                    .collect();
                json!({
                    "messaging_product": "whatsapp",
                    "recipient_type": "individual",
                    "to": to,
                    "type": "template",
                    "template": {
                        "name": name,
                        "language": { "code": language },
                        "components": [{ "type": "body", "parameters": params }],
                    },
                })
            }
            GraphMessage::MarkRead { message_id } => json!({
                "messaging_product": "whatsapp",
                "status": "read",
                "message_id": message_id,
            }),
            GraphMessage::Media { .. } => media::to_json(self),
        }
    }
}

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

#[derive(Deserialize)]
struct SendResponse {
    #[serde(default)]
    messages: Vec<SentMessage>,
}

#[derive(Deserialize)]
struct SentMessage {
    id: String,
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
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
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
fn transport_error(e: reqwest::Error) -> GraphError {
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

/// The Graph API client of one business phone number. Cheap to clone.
#[derive(Clone, Debug)]
pub struct GraphClient {
    http: reqwest::Client,
    /// The business phone number's node: `{base}/{version}/{phone_number_id}`.
    node: String,
    /// The messages endpoint, parsed once (not per message).
    endpoint: reqwest::Url,
    token: Secret,
}

impl GraphClient {
    /// A client posting to `{base_url}/{api_version}/{phone_number_id}/messages`, each
    /// request bounded by `timeout`.
    pub fn new(
        base_url: impl AsRef<str>,
        api_version: impl AsRef<str>,
        phone_number_id: impl AsRef<str>,
        access_token: Secret,
        timeout: Duration,
    ) -> anyhow::Result<GraphClient> {
        let (base_url, api_version, phone_number_id) = (
            base_url.as_ref(),
            api_version.as_ref(),
            phone_number_id.as_ref(),
        );
        let base = base_url.trim().trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            bail!("the Graph API URL must be an http:// or https:// URL");
        }
        let version = api_version.trim().trim_matches('/');
        if version.is_empty()
            || !version
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '.')
        {
            bail!("the Graph API version must look like v23.0");
        }
        let phone = phone_number_id.trim();
        if phone.is_empty() || !phone.chars().all(|c| c.is_ascii_alphanumeric()) {
            bail!("WHATSAPP_PHONE_NUMBER_ID must be the numeric id of the business phone number");
        }
        if access_token.expose().trim().is_empty() {
            bail!("WHATSAPP_ACCESS_TOKEN is empty");
        }
        if timeout.is_zero() {
            bail!("the Graph API request timeout must be positive");
        }
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("redsol/", env!("CARGO_PKG_VERSION")))
            .build()
            .context("cannot build the Graph API HTTP client")?;
        let node = format!("{base}/{version}/{phone}");
        let endpoint = reqwest::Url::parse(&format!("{node}/messages"))
            .context("the Graph API base URL is not a URL")?;
        Ok(GraphClient {
            http,
            endpoint,
            node,
            token: access_token,
        })
    }

    /// The client for the configured business number, with the tuning's version and timeout.
    pub fn from_settings(
        settings: &WhatsAppSettings,
        tuning: &WhatsAppTuning,
    ) -> anyhow::Result<GraphClient> {
        GraphClient::new(
            &settings.api_url,
            &tuning.api_version,
            &settings.phone_number_id,
            settings.access_token.clone(),
            Duration::from_secs(tuning.request_timeout_secs),
        )
    }

    /// The messages endpoint (no secret in it).
    pub fn endpoint(&self) -> &str {
        self.endpoint.as_str()
    }

    /// Asks Graph about the business phone number (sends nothing): whether the token is
    /// accepted for it. Returns its display number and verified name.
    pub async fn check(&self) -> Result<String, GraphError> {
        let response = self
            .http
            .get(&self.node)
            .query(&[("fields", "display_phone_number,verified_name")])
            .bearer_auth(self.token.expose())
            .send()
            .await
            .map_err(transport_error)?;
        let body = self.body_of(response).await?;
        let node: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        let field = |name: &str| node[name].as_str().unwrap_or("?").to_string();
        Ok(format!(
            "{} ({})",
            field("display_phone_number"),
            field("verified_name")
        ))
    }

    /// Posts one message. Returns the `wamid` Graph gave it, when it gave one (a read receipt
    /// gets `{"success":true}`, so `None`).
    pub async fn send(&self, msg: &GraphMessage) -> Result<Option<String>, GraphError> {
        self.send_tagged(msg, None).await
    }

    /// [`GraphClient::send`], the message carrying `callback` as its
    /// `biz_opaque_callback_data` (at most 512 characters): Graph hands it back in the
    /// message's statuses (sent, delivered, read), so a status says which of ours it is about.
    pub async fn send_tagged(
        &self,
        msg: &GraphMessage,
        callback: Option<&str>,
    ) -> Result<Option<String>, GraphError> {
        let mut body = msg.to_json();
        if let (Some(tag), Some(fields)) = (callback, body.as_object_mut()) {
            fields.insert("biz_opaque_callback_data".into(), tag.into());
        }
        let response = self
            .http
            .post(self.endpoint.clone())
            .bearer_auth(self.token.expose())
            .json(&body)
            .send()
            .await
            .map_err(transport_error)?;
        let status = response.status();
        let wait = retry_after(response.headers());
        if status.is_success() {
            // Accepted: whatever happens reading the body, the message must not be sent again.
            let id = match response.bytes().await {
                Ok(body) => serde_json::from_slice::<SendResponse>(&body)
                    .ok()
                    .and_then(|r| r.messages.into_iter().next())
                    .map(|m| m.id),
                Err(_) => None,
            };
            return Ok(id);
        }
        let body = response.bytes().await.unwrap_or_default();
        Err(self.scrub(classify(status.as_u16(), wait, &body)))
    }

    /// The body of a successful answer, or Graph's error classified (the token scrubbed).
    async fn body_of(&self, response: reqwest::Response) -> Result<Vec<u8>, GraphError> {
        let status = response.status();
        let wait = retry_after(response.headers());
        let body = response.bytes().await.unwrap_or_default();
        if !status.is_success() {
            return Err(self.scrub(classify(status.as_u16(), wait, &body)));
        }
        Ok(body.to_vec())
    }

    /// Removes the token from an error Graph may have echoed it in.
    fn scrub(&self, error: GraphError) -> GraphError {
        match error {
            GraphError::Permanent {
                status,
                code,
                message,
            } => {
                let token = self.token.expose();
                let message = if token.len() >= 8 && message.contains(token) {
                    message.replace(token, "[redacted]")
                } else {
                    message
                };
                GraphError::Permanent {
                    status,
                    code,
                    message,
                }
            }
            other => other,
        }
    }
}

#[cfg(test)]
mod tests;
