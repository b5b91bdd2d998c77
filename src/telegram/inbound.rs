//! The inbound path both modes share: an update is parsed, journaled and handed to its
//! conversation through [`accept`] (deduplicated by `tg:<update_id>`), and a tapped button's
//! callback query is answered. The poller commits an update's offset, and the webhook answers
//! 200, only after this returns `Ok`.

use super::api::{Api, CALL_TIMEOUT};
use super::updates::{parse, Identity, Intake};
use crate::settings::GroupMode;
use redsol_actors::store::Store;
use redsol_actors::supervisor::{accept, AcceptError, Accepted, Router};
use std::sync::Arc;
use teloxide::requests::Requester;
use teloxide::types::{CallbackQueryId, Update};

/// What became of one update.
#[derive(Debug, PartialEq, Eq)]
pub enum Received {
    /// Journaled and handed to its conversation.
    New,
    /// Seen before (answered or being answered); dropped.
    Duplicate,
    /// Nothing for a conversation.
    Skipped(&'static str),
}

/// Takes updates in: parse, journal, route, answer the button tap.
#[derive(Clone)]
pub struct Receiver {
    pub api: Api,
    pub store: Arc<dyn Store>,
    pub router: Router,
    pub me: Identity,
    pub groups: GroupMode,
}

impl Receiver {
    /// Takes one update. An error means it was not (durably) taken: it must come again.
    pub async fn receive(&self, update: &Update) -> Result<Received, AcceptError> {
        match parse(update, &self.me, self.groups) {
            Intake::Skip { reason, callback } => {
                tracing::debug!(
                    channel = "telegram",
                    update_id = update.id.0,
                    reason,
                    "update skipped"
                );
                if let Some(id) = callback {
                    self.answer_callback(id);
                }
                Ok(Received::Skipped(reason))
            }
            Intake::Accept {
                mut inbound,
                reply_chat,
                callback,
            } => {
                // The chat to answer in is fixed now, with the message: a reply never lands in
                // a chat the user wrote to in between.
                inbound.reply_to = reply_chat.map(|c| c.to_string());
                let key = inbound.key.clone();
                let result = accept(self.store.as_ref(), &self.router, *inbound).await?;
                if let Some(id) = callback {
                    self.answer_callback(id);
                }
                Ok(match result {
                    Accepted::New => Received::New,
                    Accepted::Duplicate => {
                        tracing::info!(
                            channel = "telegram",
                            conversation = %key.opaque_id(),
                            update_id = update.id.0,
                            "update received again after it was taken; not answered twice"
                        );
                        Received::Duplicate
                    }
                })
            }
        }
    }

    /// Stops the spinner of a tapped button (best effort, in the background, bounded).
    fn answer_callback(&self, id: CallbackQueryId) {
        let api = self.api.clone();
        tokio::spawn(async move {
            let request = api.bot().answer_callback_query(id);
            if let Err(e) = api.call(request, CALL_TIMEOUT).await {
                tracing::debug!(channel = "telegram", error = %e, "callback query not answered (best effort)");
            }
        });
    }
}
