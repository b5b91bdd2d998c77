//! Telegram as a platform of the shared sender ([`crate::channels`]): replies rendered as Bot
//! API messages (split at 4096, inline keyboards), sent through teloxide, and its errors
//! classified.
//!
//! A reply goes to the chat fixed when the message came in (a group), else to the user's own
//! chat. Pacing: the bot's bucket (`send_per_second`) and each chat's (`chat_burst` refilled at
//! `chat_per_second`). A 429 waits its `retry_after`. A 403 "bot was blocked by the user" (or a
//! deactivated user, a chat the bot was removed from) is counted with outcome `blocked` and
//! closes the reply's outbox entry; any other refusal is `rejected` and closes it too; a
//! refused token leaves it for after the operator's fix. A photo or document a staff member
//! relays is sent again by its `file_id`, with the text as its caption. An edit (a staff card turned into
//! "Atendido por Ana") replaces the message's text and removes its buttons.

use super::api::{Api, TelegramError, CALL_TIMEOUT};
use super::render::{render, Part};
use crate::channels::{ChannelSender, Pacing, Platform, Verdict};
use crate::pacing::Retries;
use crate::settings::TelegramTuning;
use redsol_actors::model::{AttachmentKind, Channel, Outbound};
use redsol_actors::store::Store;
use std::sync::Arc;
use teloxide::payloads::{EditMessageTextSetters, SendMessageSetters};
use teloxide::requests::Requester;
use teloxide::types::{ChatId, FileId, InlineKeyboardMarkup, InputFile, MessageId};

/// The Bot API behind the shared sender.
pub struct Telegram {
    api: Api,
}

/// The Telegram sender.
pub type TelegramOutbound = ChannelSender<Telegram>;

/// Limits and retries, from `[telegram]`.
pub fn pacing(tuning: &TelegramTuning) -> Pacing {
    let mut pacing = Pacing::new(
        tuning.send_per_second,
        tuning.chat_burst,
        tuning.chat_per_second,
        Retries::new(
            tuning.max_retries,
            tuning.backoff_base_ms,
            tuning.backoff_max_secs,
        ),
    );
    pacing.memory_queue = tuning.memory_queue;
    pacing
}

/// Starts the Telegram sender (within a tokio runtime).
pub async fn spawn(
    api: Api,
    tuning: &TelegramTuning,
    store: Arc<dyn Store>,
) -> anyhow::Result<TelegramOutbound> {
    spawn_paced(api, pacing(tuning), store).await
}

/// [`spawn`] with `pacing` (say, [`pacing`] with the bot's rate shared by replicas).
pub async fn spawn_paced(
    api: Api,
    pacing: Pacing,
    store: Arc<dyn Store>,
) -> anyhow::Result<TelegramOutbound> {
    ChannelSender::spawn(Telegram { api }, pacing, store).await
}

impl Platform for Telegram {
    type Part = Part;
    type Error = TelegramError;
    const CHANNEL: Channel = Channel::Telegram;

    /// The chat fixed when the message came in, else the user's own; a chat id is a number.
    fn address(out: &Outbound) -> Option<String> {
        let chat = out.reply_to.as_deref().unwrap_or(&out.key.user);
        chat.parse::<i64>().is_ok().then(|| chat.to_string())
    }

    fn render(_to: &str, out: &Outbound) -> Vec<Part> {
        render(&out.reply)
    }

    fn kind(part: &Part) -> &'static str {
        if let Some(a) = &part.attachment {
            match a.kind {
                AttachmentKind::Photo => "photo",
                AttachmentKind::Document => "document",
            }
        } else if part.markup.is_some() {
            "buttons"
        } else {
            "text"
        }
    }

    async fn send(&self, to: &str, part: &Part, edit: Option<&str>) -> Result<(), TelegramError> {
        let chat = ChatId(
            to.parse::<i64>()
                .map_err(|_| TelegramError::Rejected("the chat id is not a number".into()))?,
        );
        let bot = self.api.bot();
        if let Some(a) = &part.attachment {
            let file = InputFile::file_id(FileId(a.telegram_file.clone()));
            let caption = (!part.text.is_empty()).then(|| part.text.clone());
            return match a.kind {
                AttachmentKind::Photo => {
                    let mut request = bot.send_photo(chat, file);
                    request.caption = caption;
                    self.api.call(request, CALL_TIMEOUT).await.map(|_| ())
                }
                AttachmentKind::Document => {
                    let mut request = bot.send_document(chat, file);
                    request.caption = caption;
                    self.api.call(request, CALL_TIMEOUT).await.map(|_| ())
                }
            };
        }
        match edit.and_then(|m| m.parse::<i32>().ok()).map(MessageId) {
            Some(message) => {
                let request = bot
                    .edit_message_text(chat, message, part.text.clone())
                    .reply_markup(InlineKeyboardMarkup::default());
                match self.api.call(request, CALL_TIMEOUT).await {
                    // Edited before (a replay): the message already says it.
                    Err(TelegramError::Rejected(e)) if e.contains("message is not modified") => {
                        Ok(())
                    }
                    other => other.map(|_| ()),
                }
            }
            None => {
                let mut request = bot.send_message(chat, part.text.clone());
                if let Some(markup) = &part.markup {
                    request = request.reply_markup(markup.clone());
                }
                self.api.call(request, CALL_TIMEOUT).await.map(|_| ())
            }
        }
    }

    /// Telegram has no read receipts for bots.
    async fn mark_read(&self, _message_id: &str) -> Result<(), TelegramError> {
        Ok(())
    }

    fn classify(error: &TelegramError) -> Verdict {
        match error {
            TelegramError::RetryAfter(after) => Verdict::RateLimited {
                retry_after: Some(*after),
                whole_channel: false,
            },
            TelegramError::Transient(_) | TelegramError::Timeout(_) => Verdict::Transient,
            TelegramError::Unauthorized => Verdict::GiveUp,
            TelegramError::Blocked(_) => Verdict::Refused {
                outcome: "blocked",
                close: true,
            },
            TelegramError::Conflict(_) | TelegramError::Rejected(_) => Verdict::Refused {
                outcome: "rejected",
                close: true,
            },
        }
    }
}
