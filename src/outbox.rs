//! What a channel's sender knows of the durable outbox.
//!
//! - [`Ledger`]: per outbox id, whether this process sent (or closed) the reply, how many parts
//!   of a half-sent one were accepted, whether it is in hand (queued or sending), and when a
//!   reply whose retries ran out may be tried again (the sender's backoff with jitter, up to
//!   its cap).
//!
//! The outbox sweep of [`crate::channels::ChannelSender`] offers the unsent rows again while
//! the process runs; the ledger turns away what is in hand, sent or backing off, so a reply
//! dropped on a full queue, or one whose retries ran out while the platform was down, leaves
//! without a restart.

use crate::pacing::{Bounded, Retries};
use redsol_actors::model::Outbound;
use std::collections::HashSet;
use tokio::time::Instant;

/// How many sent outbox ids are remembered, to send a replayed reply once.
const SENT_IDS_REMEMBERED: usize = 100_000;
/// How many half-sent replies are remembered (parts accepted before a failure).
const PARTIAL_REMEMBERED: usize = 10_000;
/// How many replies backing off are remembered.
const BACKOFF_REMEMBERED: usize = 100_000;

/// Whether a reply may be queued now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admit {
    /// Queue it (and it is now in hand).
    Send,
    /// This process sent or closed it already.
    Sent,
    /// It is queued or being sent.
    InHand,
    /// Offered from the outbox, but its retries ran out lately: the next try waits for its
    /// backoff.
    Later,
}

/// How a reply's job ended, for the ledger.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Finish {
    /// Sent, or closed for good: never again.
    Done,
    /// Retries ran out (or the platform refused our credentials): try again after a backoff.
    Failed,
    /// Cut short (the sender stopping): try again at the next sweep or start.
    Interrupted,
}

/// What a sender knows of the outbox ids it has seen.
pub struct Ledger {
    done: Bounded<String, ()>,
    partial: Bounded<String, usize>,
    in_hand: HashSet<String>,
    /// Failed tries so far, and the earliest next one.
    backoff: Bounded<String, (u32, Instant)>,
    retries: Retries,
}

impl Ledger {
    pub fn new(retries: Retries) -> Ledger {
        Ledger {
            done: Bounded::new(SENT_IDS_REMEMBERED),
            partial: Bounded::new(PARTIAL_REMEMBERED),
            in_hand: HashSet::new(),
            backoff: Bounded::new(BACKOFF_REMEMBERED),
            retries,
        }
    }

    /// Whether the reply with this outbox id may be queued now (`from_outbox` when a sweep or
    /// the start offers it, not a conversation); on [`Admit::Send`] it is in hand until
    /// [`Ledger::finished`] or [`Ledger::dropped`].
    pub fn admit(&mut self, id: &str, from_outbox: bool, now: Instant) -> Admit {
        if self.done.contains(id) {
            Admit::Sent
        } else if self.in_hand.contains(id) {
            Admit::InHand
        } else if from_outbox && self.backoff.get(id).is_some_and(|(_, at)| *at > now) {
            Admit::Later
        } else {
            self.in_hand.insert(id.to_string());
            Admit::Send
        }
    }

    /// Whether a reply handed to the sender may be queued ([`Ledger::admit`] by its outbox id;
    /// a reply without one always may). What is turned away is logged.
    pub fn admit_reply(&mut self, out: &Outbound, from_outbox: bool) -> bool {
        let Some(id) = out.outbox_id.as_deref() else {
            return true;
        };
        let admit = self.admit(id, from_outbox, Instant::now());
        if admit != Admit::Send {
            tracing::debug!(
                conversation = %out.key.opaque_id(),
                ?admit,
                "reply sent, in hand or backing off; not queued again"
            );
        }
        admit == Admit::Send
    }

    /// Whether the reply is sent, closed or in hand: an outbox offer of it would be turned away.
    pub fn holds(&self, id: &str) -> bool {
        self.done.contains(id) || self.in_hand.contains(id)
    }

    /// Parts of the reply already accepted by the platform (to skip).
    pub fn accepted(&self, id: &str) -> usize {
        self.partial.get(id).copied().unwrap_or(0)
    }

    /// Forgets what was in hand: the sender that held it is gone (a restart), and the outbox
    /// offers it again.
    pub fn forget_in_hand(&mut self) {
        self.in_hand.clear();
    }

    /// The reply was admitted but not queued (a full queue): the outbox keeps it.
    pub fn dropped(&mut self, id: &str) {
        self.in_hand.remove(id);
    }

    /// The reply's job ended with `accepted` parts accepted in all.
    pub fn finished(&mut self, id: String, finish: Finish, accepted: usize, now: Instant) {
        self.in_hand.remove(&id);
        match finish {
            Finish::Done => {
                self.partial.remove(&id);
                self.backoff.remove(&id);
                self.done.insert(id, ());
            }
            Finish::Failed | Finish::Interrupted => {
                if accepted > 0 {
                    self.partial.insert(id.clone(), accepted);
                }
                if finish == Finish::Failed {
                    let tries = self.backoff.get(&id).map_or(0, |(n, _)| *n);
                    let at = now + self.retries.backoff(tries);
                    self.backoff.insert(id, (tries.saturating_add(1), at));
                }
            }
        }
    }
}

/// Marks a durable reply as handed to the platform, before its first request (see
/// `Store::outbox_attempted`); whether this process may send it. When the store cannot say,
/// a process alone sends it anyway; one of several replicas does not (another may have taken
/// it over), and the outbox sweep offers it again.
pub async fn mark_attempted(
    store: &dyn redsol_actors::store::Store,
    id: &str,
    conversation: redsol_actors::model::Opaque<'_>,
) -> bool {
    match store.outbox_attempted(id).await {
        Ok(true) => true,
        Ok(false) => {
            tracing::info!(conversation = %conversation, "a reply was sent already or another replica took it over; not sent here");
            false
        }
        Err(e) => {
            let alone = store.ownership().is_none();
            tracing::warn!(conversation = %conversation, error = %e, sent_anyway = alone, "could not mark a reply as attempted");
            alone
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn ledger() -> Ledger {
        // Backoff from 1 s, capped at 8 s.
        Ledger::new(Retries::new(3, 1000, 8))
    }

    #[test]
    fn a_reply_in_hand_or_sent_is_turned_away() {
        let (mut l, now) = (ledger(), Instant::now());
        assert_eq!(l.admit("wa:m1:0", true, now), Admit::Send);
        assert_eq!(l.admit("wa:m1:0", true, now), Admit::InHand);
        l.finished("wa:m1:0".into(), Finish::Done, 1, now);
        assert_eq!(l.admit("wa:m1:0", true, now), Admit::Sent);
    }

    #[test]
    fn a_failed_reply_waits_its_backoff_and_keeps_its_accepted_parts() {
        let (mut l, now) = (ledger(), Instant::now());
        assert_eq!(l.admit("wa:m1:0", true, now), Admit::Send);
        l.finished("wa:m1:0".into(), Finish::Failed, 2, now);
        assert_eq!(l.admit("wa:m1:0", true, now), Admit::Later);
        assert_eq!(l.accepted("wa:m1:0"), 2);
        // The first backoff is at most its base (1 s, jittered).
        let later = now + Duration::from_millis(1001);
        assert_eq!(l.admit("wa:m1:0", true, later), Admit::Send);
        // A second failure waits longer: at least half of 2 s.
        l.finished("wa:m1:0".into(), Finish::Failed, 2, later);
        assert_eq!(
            l.admit("wa:m1:0", true, later + Duration::from_millis(999)),
            Admit::Later
        );
        assert_eq!(
            l.admit("wa:m1:0", true, later + Duration::from_millis(2001)),
            Admit::Send
        );
    }

    #[test]
    fn a_conversation_replaying_its_turn_is_not_held_back_by_the_backoff() {
        let (mut l, now) = (ledger(), Instant::now());
        assert_eq!(l.admit("wa:m1:0", false, now), Admit::Send);
        l.finished("wa:m1:0".into(), Finish::Failed, 0, now);
        assert_eq!(l.admit("wa:m1:0", true, now), Admit::Later);
        assert_eq!(l.admit("wa:m1:0", false, now), Admit::Send);
    }

    #[test]
    fn a_dropped_or_interrupted_reply_may_come_back_at_once() {
        let (mut l, now) = (ledger(), Instant::now());
        assert_eq!(l.admit("tg:1:0", true, now), Admit::Send);
        l.dropped("tg:1:0");
        assert_eq!(l.admit("tg:1:0", true, now), Admit::Send);
        l.finished("tg:1:0".into(), Finish::Interrupted, 0, now);
        assert_eq!(l.admit("tg:1:0", true, now), Admit::Send);
    }
}
