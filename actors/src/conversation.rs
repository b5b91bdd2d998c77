//! The conversation actor: one per (channel, user). It holds the dialogue state, the short
//! history and the inbound rate limit, answers its messages in order, and snapshots its state
//! to the store after every turn so that a restart or a reactivation resumes where it was.

use crate::engine::{ConversationState, Engine};
use crate::model::{Channel, ConversationKey, Inbound, Reply};
mod commit;
use crate::supervisor::Sinks;
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

/// A reply on its way: its conversation, the reply, the chat when not the user's own, and the
/// message it replaces, if any.
type Going = (ConversationKey, Reply, Option<String>, Option<String>);

/// Milliseconds since the Unix epoch.
fn unix_now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// The instant a snapshot's bucket was last refilled (`refilled_ms`, wall clock), on this
/// process's clock: `now` less the time since, or `now` when unknown or in the future.
fn refilled_at(refilled_ms: Option<u64>, now_ms: u64, now: Instant) -> Instant {
    refilled_ms
        .map(|ms| std::time::Duration::from_millis(now_ms.saturating_sub(ms)))
        .and_then(|slept| now.checked_sub(slept))
        .unwrap_or(now)
}

/// Messages a conversation handles.
pub enum ConversationMsg {
    /// A user message, numbered by the supervisor, with the token of the conversation's lease
    /// when replicas share the conversations.
    Inbound {
        seq: u64,
        inbound: Arc<Inbound>,
        lease: Option<u64>,
    },
    /// Finish what is queued, then stop (graceful shutdown).
    Shutdown,
}

pub struct ConversationArgs {
    pub key: ConversationKey,
    pub engine: Engine,
    /// Every channel's sink: a turn may answer on another channel (a handoff's relay).
    pub sinks: Arc<Sinks>,
    pub progress: Arc<Progress>,
    /// Start clean, ignoring the snapshot (after a poison message was dropped).
    pub clean: bool,
}

pub struct ConversationActor;

pub struct ConversationActorState {
    key: ConversationKey,
    engine: Engine,
    sinks: Arc<Sinks>,
    progress: Arc<Progress>,
    conversation: ConversationState,
    /// When the rate-limit bucket was last refilled.
    refilled_at: Instant,
    loaded: bool,
    clean: bool,
    /// The token of the lease this state was loaded under (replicas sharing conversations).
    lease: Option<u64>,
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
        self.conversation.rate_refilled_ms = Some(unix_now_ms());
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
        self.conversation = ConversationState::default();
        self.refilled_at = Instant::now();
        let store = self.engine.store().clone();
        if std::mem::take(&mut self.clean) {
            if let Err(e) = store.delete_snapshot(&self.key).await {
                tracing::error!(error = %e, conversation = %self.key.opaque_id(), "could not delete a snapshot");
            }
            return;
        }
        match store.load_snapshot(&self.key).await {
            Ok(Some(json)) => match serde_json::from_str::<ConversationState>(&json) {
                Ok(state) => {
                    // The bucket refills for the time the conversation slept.
                    self.refilled_at =
                        refilled_at(state.rate_refilled_ms, unix_now_ms(), Instant::now());
                    self.conversation = state;
                }
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

    async fn handle_inbound(
        &mut self,
        seq: u64,
        inbound: Arc<Inbound>,
        lease: Option<u64>,
    ) -> Result<(), String> {
        let inbound = &*inbound;
        if lease.is_some() && lease != self.lease {
            // A new lease (this replica took the conversation over): another replica may have
            // answered for it meanwhile, so the state is read again.
            if self.lease.is_some() {
                self.loaded = false;
            }
            self.lease = lease;
        }
        self.load().await;
        // The console is a local operator's terminal, and staff answer customers through the
        // bot: neither is rate limited.
        let trusted =
            self.key.channel == Channel::Console || self.engine.rules().is_staff(&self.key);
        let committed;
        if trusted || self.take_token() {
            let span = tracing::info_span!(
                "turn",
                channel = self.key.channel.as_str(),
                conversation = %self.key.opaque_id()
            );
            let reply = self
                .engine
                .turn(&mut self.conversation, inbound)
                .instrument(span.clone())
                .await;
            // Staff data asked in a group goes to the private chat; the group is told so.
            let own = self.key.clone();
            let mut replies = match &inbound.reply_to {
                _ if self.conversation.silent => Vec::new(),
                Some(group) if self.conversation.private_reply => vec![
                    (
                        own.clone(),
                        self.engine.private_notice(),
                        Some(group.clone()),
                        None,
                    ),
                    (own, reply, None, None),
                ],
                _ => vec![(own, reply, inbound.reply_to.clone(), None)],
            };
            replies.extend(
                std::mem::take(&mut self.conversation.outgoing)
                    .into_iter()
                    .map(|a| (a.key, a.reply, None, a.edit)),
            );
            committed = self
                .commit_and_send(inbound, replies)
                .instrument(span)
                .await?;
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
                replies.push((
                    self.key.clone(),
                    self.engine.rate_limited_notice(),
                    inbound.reply_to.clone(),
                    None,
                ));
            }
            committed = self.commit_and_send(inbound, replies).await?;
        }
        if !committed {
            // What the fenced turn changed is forgotten: the next message reads the snapshot.
            self.loaded = false;
        }
        self.progress.finish(seq);
        Ok(())
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
            sinks: args.sinks,
            progress: args.progress,
            conversation: ConversationState::default(),
            refilled_at: Instant::now(),
            loaded: false,
            clean: args.clean,
            lease: None,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        message: Self::Msg,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match message {
            ConversationMsg::Inbound {
                seq,
                inbound,
                lease,
            } => {
                #[cfg(feature = "fault-injection")]
                crate::fault::before_turn();
                // Boxed: the turn's future is large, and an actor's task is as large as the
                // largest future it awaits inline, for as long as the actor lives. Boxed, an
                // idle conversation holds a pointer, and the turn's state exists only during
                // the turn (`redsol-bench-conversations` measures the difference).
                Box::pin(state.handle_inbound(seq, inbound, lease)).await?;
            }
            ConversationMsg::Shutdown => myself.stop(Some("shutdown".into())),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_woken_bucket_refills_for_the_time_it_slept() {
        let now = Instant::now();
        let slept = refilled_at(Some(1_000_000), 1_060_000, now);
        assert_eq!(now.duration_since(slept), Duration::from_secs(60));
        assert_eq!(refilled_at(None, 1_060_000, now), now, "unknown: from now");
        assert_eq!(
            refilled_at(Some(2_000_000), 1_060_000, now),
            now,
            "a clock that went back: from now"
        );
    }
}
