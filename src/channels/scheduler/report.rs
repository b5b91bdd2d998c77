//! What a finished job tells the sender actor, sent even when it is cut short.

use super::{Lane, SenderMsg};
use crate::pacing::TokenBucket;
use ractor::ActorRef;

/// How a job ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum JobOutcome {
    /// Every part accepted.
    Sent,
    /// Retries ran out, or a refusal left the outbox entry for later.
    Failed,
    /// Refused for good and the outbox entry closed.
    Closed,
    /// The task ended early (the sender stopping or restarting, or a bug).
    Interrupted,
}

/// What a finished job tells the actor.
pub struct JobReport {
    pub(super) lane: Lane,
    pub(super) bucket: Option<TokenBucket>,
    /// The outbox entries of the replies the job carried.
    pub(super) outbox_ids: Vec<String>,
    /// Replies the job carried (several when joined).
    pub(super) replies: usize,
    /// Parts of the reply accepted so far (the next part to send).
    pub(super) accepted: usize,
    pub(super) outcome: JobOutcome,
}

/// Sends the job's report when dropped: when the job ends, and also if it is cancelled
/// or panics, so that its lane never stays busy.
pub(crate) struct Reporter {
    pub(super) actor: ActorRef<SenderMsg>,
    pub(super) report: Option<JobReport>,
}

impl Reporter {
    pub fn accepted(&mut self, parts: usize) {
        if let Some(r) = self.report.as_mut() {
            r.accepted = parts;
        }
    }

    pub fn finish(&mut self, outcome: JobOutcome, bucket: TokenBucket) {
        if let Some(r) = self.report.as_mut() {
            r.outcome = outcome;
            r.bucket = Some(bucket);
        }
    }
}

impl Drop for Reporter {
    fn drop(&mut self) {
        if let Some(report) = self.report.take() {
            // Fails only when this instance of the sender has stopped, and then nobody waits
            // for the report.
            let _ = self.actor.cast(SenderMsg::Done(Box::new(report)));
        }
    }
}
