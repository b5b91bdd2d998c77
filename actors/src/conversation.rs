//! The conversation actor: one per (channel, user). It holds the dialogue state, the short
//! history and the inbound rate limit, answers its messages in order, and snapshots its state
//! to the store after every turn so that a restart or a reactivation resumes where it was.

use crate::engine::{ConversationState, Engine};
use crate::model::{Channel, ConversationKey, Inbound, Outbound, Reply, ReplySink};
use crate::store::{OutboxEntry, TurnCommit};
use ractor::{Actor, ActorProcessingErr, ActorRef};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use tokio::time::Instant;
use tracing::Instrument;

/// Progress a conversation shares with its supervisor: the sequence number of the last
/// message it finished. Messages routed with a higher number are redelivered after a crash.
#[derive(Debug, Default)]
pub struct Progress {
    processed: AtomicU64,
}

impl Progress {
    pub fn processed(&self) -> u64 {
        self.processed.load(Ordering::Acquire)
    }

    fn finish(&self, seq: u64) {
        self.processed.store(seq, Ordering::Release);
    }
}

/// Messages a conversation handles.
pub enum ConversationMsg {
    /// A user message, numbered by the supervisor.
    Inbound { seq: u64, inbound: Box<Inbound> },
    /// Finish what is queued, then stop (graceful shutdown).
    Shutdown,
}

pub struct ConversationArgs {
    pub key: ConversationKey,
    pub engine: Engine,
    pub sink: Arc<dyn ReplySink>,
    pub progress: Arc<Progress>,
    /// Start clean, ignoring the snapshot (after a poison message was dropped).
    pub clean: bool,
}

pub struct ConversationActor;

pub struct ConversationActorState {
    key: ConversationKey,
    engine: Engine,
    sink: Arc<dyn ReplySink>,
    progress: Arc<Progress>,
    conversation: ConversationState,
    /// When the rate-limit bucket was last refilled.
    refilled_at: Instant,
    loaded: bool,
    clean: bool,
}

impl ConversationActorState {
    /// Refills the token bucket and takes a token; `false` when the user is over the limit.
    fn take_token(&mut self) -> bool {
        let limits = &self.engine.rules().limits;
        let burst = f64::from(limits.inbound_burst);
        let per_sec = f64::from(limits.inbound_per_minute) / 60.0;
        let now = Instant::now();
        let elapsed = now.duration_since(self.refilled_at).as_secs_f64();
        self.refilled_at = now;
        let tokens =
            (self.conversation.rate_tokens.unwrap_or(burst) + elapsed * per_sec).min(burst);
        if tokens >= 1.0 {
            self.conversation.rate_tokens = Some(tokens - 1.0);
            self.conversation.rate_notified = false;
            true
        } else {
            self.conversation.rate_tokens = Some(tokens);
            false
        }
    }

    async fn load(&mut self) {
        if self.loaded {
            return;
        }
        self.loaded = true;
        let store = self.engine.store().clone();
        if self.clean {
            if let Err(e) = store.delete_snapshot(&self.key).await {
                tracing::error!(error = %e, conversation = %self.key.opaque_id(), "could not delete a snapshot");
            }
            return;
        }
        match store.load_snapshot(&self.key).await {
            Ok(Some(json)) => match serde_json::from_str::<ConversationState>(&json) {
                Ok(state) => self.conversation = state,
                Err(e) => tracing::warn!(
                    error = %e,
                    conversation = %self.key.opaque_id(),
                    "unreadable conversation snapshot; starting clean"
                ),
            },
            Ok(None) => {}
            Err(e) => tracing::error!(
                error = %e,
                conversation = %self.key.opaque_id(),
                "could not load a conversation snapshot; starting clean"
            ),
        }
    }

    /// Commits the turn (snapshot, journal entry answered, durable replies) and hands the
    /// replies to the channel. Replies to journaled messages go through the outbox, so a crash
    /// between here and the platform never loses them.
    async fn commit_and_send(&self, inbound: &Inbound, replies: Vec<Reply>) {
        let durable: Vec<OutboxEntry> = match &inbound.message_id {
            Some(id) => replies
                .iter()
                .enumerate()
                .map(|(n, reply)| OutboxEntry {
                    id: OutboxEntry::id_for(&self.key, id, n),
                    key: self.key.clone(),
                    reply: reply.clone(),
                    in_reply_to: Some(id.clone()),
                    queued_at: crate::store::unix_now(),
                })
                .collect(),
            None => Vec::new(),
        };
        // A turn that cannot be committed is still answered; the message may be answered
        // again after a restart.
        let committed = match serde_json::to_string(&self.conversation) {
            Ok(snapshot) => {
                let commit = TurnCommit {
                    key: self.key.clone(),
                    message_id: inbound.message_id.clone(),
                    snapshot,
                    replies: durable.clone(),
                };
                self.engine
                    .store()
                    .commit_turn(commit)
                    .await
                    .map_err(|e| e.to_string())
            }
            Err(e) => Err(format!("snapshot not serializable: {e}")),
        };
        if let Err(e) = committed {
            tracing::error!(
                error = %e,
                conversation = %self.key.opaque_id(),
                "could not commit a turn; the reply is sent anyway"
            );
        }
        for (n, reply) in replies.into_iter().enumerate() {
            self.sink.deliver(Outbound {
                key: self.key.clone(),
                reply,
                in_reply_to: inbound.message_id.clone(),
                outbox_id: durable.get(n).map(|e| e.id.clone()),
                accepted_at: inbound.accepted_at,
            });
        }
    }

    async fn handle_inbound(&mut self, seq: u64, inbound: Inbound) {
        self.load().await;
        // The console is a local operator's terminal: it is not rate limited.
        if self.key.channel == Channel::Console || self.take_token() {
            let span = tracing::info_span!(
                "turn",
                channel = self.key.channel.as_str(),
                conversation = %self.key.opaque_id()
            );
            let reply = self
                .engine
                .turn(&mut self.conversation, &inbound)
                .instrument(span.clone())
                .await;
            self.commit_and_send(&inbound, vec![reply])
                .instrument(span)
                .await;
        } else {
            metrics::counter!(
                "redsol_rate_limited_total",
                "channel" => self.key.channel.as_str(),
                "direction" => "inbound"
            )
            .increment(1);
            let mut replies = Vec::new();
            if !self.conversation.rate_notified {
                self.conversation.rate_notified = true;
                tracing::warn!(
                    event = "rate_limited",
                    channel = self.key.channel.as_str(),
                    conversation = %self.key.opaque_id(),
                    "user over the inbound rate limit; further messages dropped until the bucket refills"
                );
                replies.push(self.engine.rate_limited_notice());
            }
            self.commit_and_send(&inbound, replies).await;
        }
        self.progress.finish(seq);
    }
}

impl Actor for ConversationActor {
    type Msg = ConversationMsg;
    type State = ConversationActorState;
    type Arguments = ConversationArgs;

    async fn pre_start(
        &self,
        _myself: ActorRef<Self::Msg>,
        args: Self::Arguments,
    ) -> Result<Self::State, ActorProcessingErr> {
        Ok(ConversationActorState {
            key: args.key,
            engine: args.engine,
            sink: args.sink,
            progress: args.progress,
            conversation: ConversationState::default(),
            refilled_at: Instant::now(),
            loaded: false,
            clean: args.clean,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            ConversationMsg::Inbound { seq, inbound } => state.handle_inbound(seq, *inbound).await,
            ConversationMsg::Shutdown => myself.stop(Some("shutdown".into())),
        }
        Ok(())
    }
}
