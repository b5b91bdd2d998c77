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

mod error;
pub mod media;
mod message;
mod render;

pub use error::{classify, GraphError, GraphErrorBody, PAIR_RATE_LIMIT_CODE};
use error::{retry_after, transport_error};
pub use media::MediaFile;
pub use message::GraphMessage;
use render::render_text;
pub use render::*;
use serde::Deserialize;
use std::time::Duration;

#[derive(Deserialize)]
struct SendResponse {
    #[serde(default)]
    messages: Vec<SentMessage>,
}

#[derive(Deserialize)]
struct SentMessage {
    id: String,
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
