//! The inbound path both modes share: an update is parsed, journaled and handed to its
//! conversation through [`accept`] (deduplicated by `tg:<update_id>`), and a tapped button's
//! callback query is answered. The poller commits an update's offset, and the webhook answers
//! 200, only after this returns `Ok`.

use super::api::{Api, CALL_TIMEOUT};
use super::pacing::Bounded;
use super::updates::{parse, Identity, Intake};
use crate::settings::GroupMode;
use redsol_actors::store::Store;
use redsol_actors::supervisor::{accept, AcceptError, Accepted, Router};
use std::sync::{Arc, Mutex};
use teloxide::requests::Requester;
use teloxide::types::{CallbackQueryId, ChatId, Update};

/// How many users' group reply routes are remembered.
const ROUTES_REMEMBERED: usize = 10_000;

/// Where the replies of a conversation go when it is not the user's private chat: a group
/// the user wrote to the bot from. In memory (a reply resent after a restart goes to the
/// user's private chat).
#[derive(Clone)]
pub struct ChatRoutes(Arc<Mutex<Bounded<String, i64>>>);

impl Default for ChatRoutes {
    fn default() -> Self {
        ChatRoutes(Arc::new(Mutex::new(Bounded::new(ROUTES_REMEMBERED))))
    }
}

impl ChatRoutes {
    fn with<T>(&self, f: impl FnOnce(&mut Bounded<String, i64>) -> T) -> T {
        let mut guard = match self.0.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }

    /// Answers to `user` go to `chat` (a group), or to their private chat (`None`).
    pub fn set(&self, user: &str, chat: Option<i64>) {
        self.with(|m| match chat {
            Some(c) => m.insert(user.to_string(), c),
            None => {
                m.remove(&user.to_string());
            }
        });
    }

    /// The chat a conversation's replies go to; `None` for a user id that is not a number.
    pub fn chat_for(&self, user: &str) -> Option<ChatId> {
        if let Some(c) = self.with(|m| m.get(&user.to_string()).copied()) {
            return Some(ChatId(c));
        }
        user.parse::<i64>().ok().map(ChatId)
    }
}

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
    pub routes: ChatRoutes,
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
                inbound,
                reply_chat,
                callback,
            } => {
                let key = inbound.key.clone();
                // Before routing: the reply may be ready before `accept` returns.
                self.routes.set(&key.user, reply_chat);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_go_to_the_group_while_it_is_remembered() {
        let routes = ChatRoutes::default();
        assert_eq!(routes.chat_for("42"), Some(ChatId(42)));
        routes.set("42", Some(-100));
        assert_eq!(routes.chat_for("42"), Some(ChatId(-100)));
        routes.set("42", None);
        assert_eq!(routes.chat_for("42"), Some(ChatId(42)));
        assert_eq!(routes.chat_for("not-a-number"), None);
    }
}
