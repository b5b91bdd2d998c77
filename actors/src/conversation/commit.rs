//! A turn's end: its commit (snapshot, journal entry answered, durable replies, at once, under
//! the conversation's lease) and its replies handed to the channels.

use super::{ConversationActorState, Going};
use crate::model::{Inbound, Outbound};
use crate::store::{OutboxEntry, StoreError, TurnCommit};

/// How many times a turn's commit is tried before the conversation gives up on it.
const COMMIT_TRIES: u32 = 3;
/// The wait before the second try of a commit; it grows four times per try.
const COMMIT_BACKOFF: std::time::Duration = std::time::Duration::from_millis(100);

impl ConversationActorState {
    /// Commits the turn (snapshot, journal entry answered, durable replies) and hands the
    /// replies to the channel. Replies to journaled messages go through the outbox, so a crash
    /// between here and the platform never loses them. A turn that cannot be committed (after
    /// [`COMMIT_TRIES`]) sends nothing and fails: the supervisor restarts the conversation from
    /// its last snapshot and redelivers the message, and the records the turn wrote are found
    /// again by their source, not written twice.
    ///
    /// Each reply comes with its conversation (the user's own, or another one's: a handoff's
    /// relay) and where it goes when not to that user's own chat (`reply_to`). A reply for a
    /// channel that is not running is dropped with an error log.
    ///
    /// `Ok(false)`: the store fenced the turn (the conversation is another replica's now, or
    /// the message was answered already); nothing was written or sent.
    pub(super) async fn commit_and_send(
        &self,
        inbound: &Inbound,
        replies: Vec<Going>,
    ) -> Result<bool, String> {
        let replies: Vec<_> = replies
            .into_iter()
            .filter(|(key, ..)| {
                let running = self.sinks.contains_key(&key.channel);
                if !running {
                    tracing::error!(
                        channel = key.channel.as_str(),
                        conversation = %self.key.opaque_id(),
                        "a reply for a channel that is not running was dropped"
                    );
                }
                running
            })
            .collect();
        let durable: Vec<OutboxEntry> = match &inbound.message_id {
            Some(id) => replies
                .iter()
                .enumerate()
                .map(|(n, (key, reply, reply_to, edit))| OutboxEntry {
                    id: OutboxEntry::id_for(&self.key, id, n),
                    edit: edit.clone(),
                    template: None,
                    key: key.clone(),
                    reply: reply.clone(),
                    in_reply_to: Some(id.clone()),
                    queued_at: crate::store::unix_now(),
                    reply_to: reply_to.clone(),
                    attempted: false,
                })
                .collect(),
            None => Vec::new(),
        };
        let snapshot = serde_json::to_string(&self.conversation)
            .map_err(|e| format!("snapshot not serializable: {e}"))?;
        let commit = TurnCommit {
            key: self.key.clone(),
            message_id: inbound.message_id.clone(),
            snapshot,
            replies: durable.clone(),
            lease: self.lease,
        };
        let mut tries = 0;
        while let Err(e) = self.engine.store().commit_turn(commit.clone()).await {
            if let StoreError::Fenced(why) = e {
                metrics::counter!("redsol_turns_fenced_total", "channel" => self.key.channel.as_str())
                    .increment(1);
                tracing::info!(
                    conversation = %self.key.opaque_id(),
                    why,
                    "turn fenced: nothing written or sent; the state is reloaded for the next message"
                );
                return Ok(false);
            }
            tries += 1;
            if tries >= COMMIT_TRIES {
                tracing::error!(
                    error = %e,
                    conversation = %self.key.opaque_id(),
                    "could not commit a turn; no reply sent: the message is tried again from the last snapshot"
                );
                return Err(e.to_string());
            }
            tokio::time::sleep(COMMIT_BACKOFF * 4u32.pow(tries - 1)).await;
        }
        for (n, (key, reply, reply_to, edit)) in replies.into_iter().enumerate() {
            let Some(sink) = self.sinks.get(&key.channel) else {
                continue;
            };
            sink.deliver(Outbound {
                key,
                reply,
                in_reply_to: inbound.message_id.clone(),
                outbox_id: durable.get(n).map(|e| e.id.clone()),
                accepted_at: inbound.accepted_at,
                reply_to,
                edit,
                template: None,
            });
        }
        Ok(true)
    }
}
