//! WhatsApp as a platform of the shared sender ([`crate::channels`]): replies rendered as
//! Graph API messages, sent by the [`GraphClient`], and Graph's errors classified.
//!
//! Pacing: the business number's bucket (`send_per_second`) and each recipient's
//! (`recipient_burst` refilled at `recipient_per_second`). A rate limit of the whole number
//! (every code but the pair rate limit 131056) holds every recipient for its `Retry-After`. A
//! rejection of the message itself (a bad parameter, a recipient out of reach) closes its
//! outbox entry, since sending it again would be rejected again; a rejection of our
//! credentials (401/403, OAuth or permission codes) leaves it for after the operator's fix. A
//! staff member's photo or document is fetched from Telegram and uploaded at each attempt.

use super::graph::{render, GraphClient, GraphError, GraphMessage, MediaFile};
use crate::channels::media::{FetchError, MediaSource};
use crate::channels::{ChannelSender, Pacing, Platform, Verdict};
use crate::pacing::Retries;
use crate::settings::WhatsAppTuning;
use redsol_actors::model::{Channel, Outbound};
use redsol_actors::store::notices::is_notice;
use redsol_actors::store::Store;
use std::sync::Arc;

/// Rate-limited answers are retried at most this many times `max_retries` (at least 4).
pub use crate::pacing::RATE_LIMITED_RETRY_FACTOR;

/// The Graph API behind the shared sender.
pub struct WhatsApp {
    client: GraphClient,
    /// Where a staff member's photos and documents are fetched from (Telegram), if anywhere.
    staff_files: Option<Arc<dyn MediaSource>>,
}

/// The WhatsApp sender.
pub type WhatsAppOutbound = ChannelSender<WhatsApp>;

/// The longest `biz_opaque_callback_data` Graph takes.
const MAX_CALLBACK_CHARS: usize = 512;

/// One Graph message of a reply, with what Graph hands back in its statuses: a notice's last
/// message carries the notice's id, so that after a crash Graph's status of it tells whether
/// it arrived (`Notices::confirm_notices`).
#[derive(Debug)]
pub struct GraphPart {
    pub message: GraphMessage,
    pub callback: Option<String>,
}

/// The id a reply's statuses carry: a notice's outbox id, when Graph takes it.
fn callback(out: &Outbound) -> Option<String> {
    out.outbox_id
        .as_ref()
        .filter(|id| is_notice(Some(id)) && id.chars().count() <= MAX_CALLBACK_CHARS)
        .cloned()
}

/// Limits and retries, from `[whatsapp]`.
pub fn pacing(tuning: &WhatsAppTuning) -> Pacing {
    let mut pacing = Pacing::new(
        tuning.send_per_second,
        tuning.recipient_burst,
        tuning.recipient_per_second,
        Retries::new(
            tuning.max_retries,
            tuning.backoff_base_ms,
            tuning.backoff_max_secs,
        ),
    );
    pacing.mark_read = tuning.mark_read;
    pacing.memory_queue = tuning.memory_queue;
    pacing
}

/// Starts the WhatsApp sender (within a tokio runtime) for the client's business number.
pub async fn spawn(
    client: GraphClient,
    tuning: &WhatsAppTuning,
    store: Arc<dyn Store>,
    staff_files: Option<Arc<dyn MediaSource>>,
) -> anyhow::Result<WhatsAppOutbound> {
    spawn_paced(client, pacing(tuning), store, staff_files).await
}

/// [`spawn`] with `pacing` (say, [`pacing`] with the number's rate shared by replicas).
pub async fn spawn_paced(
    client: GraphClient,
    pacing: Pacing,
    store: Arc<dyn Store>,
    staff_files: Option<Arc<dyn MediaSource>>,
) -> anyhow::Result<WhatsAppOutbound> {
    ChannelSender::spawn(
        WhatsApp {
            client,
            staff_files,
        },
        pacing,
        store,
    )
    .await
}

impl Platform for WhatsApp {
    type Part = GraphPart;
    type Error = GraphError;
    const CHANNEL: Channel = Channel::WhatsApp;

    fn address(out: &Outbound) -> Option<String> {
        Some(out.key.user.clone())
    }

    /// A template when the reply carries one (outside the 24-hour window), else the reply.
    fn render(to: &str, out: &Outbound) -> Vec<GraphPart> {
        let messages = match &out.template {
            Some(t) => vec![GraphMessage::Template {
                to: to.to_string(),
                name: t.name.clone(),
                language: t.language.clone(),
                params: t.params.clone(),
            }],
            None => render(to, &out.reply),
        };
        let last = messages.len().saturating_sub(1);
        messages
            .into_iter()
            .enumerate()
            .map(|(i, message)| GraphPart {
                message,
                callback: if i == last { callback(out) } else { None },
            })
            .collect()
    }

    fn kind(part: &GraphPart) -> &'static str {
        part.message.kind()
    }

    /// WhatsApp cannot replace a message's text: an edit goes as a new message.
    async fn send(
        &self,
        _to: &str,
        part: &GraphPart,
        _edit: Option<&str>,
    ) -> Result<(), GraphError> {
        let fetched = async {
            let source = self
                .staff_files
                .as_ref()
                .ok_or_else(|| GraphError::Permanent {
                    status: 0,
                    code: None,
                    message: "no Telegram bot to fetch a staff member's file from".into(),
                })?;
            let file = match &part.message {
                GraphMessage::Media {
                    file: MediaFile::Telegram(id),
                    ..
                } => id.as_str(),
                _ => "",
            };
            source.fetch(file).await.map_err(|e| match e {
                FetchError::Transient(detail) => GraphError::Connection { detail },
                FetchError::Refused(message) => GraphError::Permanent {
                    status: 0,
                    code: None,
                    message,
                },
            })
        };
        self.client
            .send_media(&part.message, part.callback.as_deref(), fetched)
            .await
            .map(|_wamid| ())
    }

    async fn mark_read(&self, message_id: &str) -> Result<(), GraphError> {
        let msg = GraphMessage::MarkRead {
            message_id: message_id.to_string(),
        };
        self.client.send(&msg).await.map(|_| ())
    }

    fn classify(error: &GraphError) -> Verdict {
        match error {
            GraphError::RateLimited { retry_after, .. } => Verdict::RateLimited {
                retry_after: *retry_after,
                whole_channel: error.is_global_rate_limit(),
            },
            GraphError::Transient { .. } | GraphError::Timeout | GraphError::Connection { .. } => {
                Verdict::Transient
            }
            GraphError::Permanent { .. } => Verdict::Refused {
                outcome: "rejected",
                close: !error.is_auth(),
            },
        }
    }
}
