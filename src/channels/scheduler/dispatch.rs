//! Replies take the platform's tokens in the order their lanes became ready; a lane's job
//! starts when a token is there, carrying the replies waiting in the lane that may ride in the
//! same message (see [`crate::channels::coalesce`]).

use super::{Job, JobOutcome, JobReport, Lane, Reporter, SchedulerState, SenderMsg};
use crate::channels::coalesce::Batch;
use crate::channels::{jobs, Platform};
use ractor::ActorRef;
use std::time::Duration;
use tokio::time::Instant;

impl<P: Platform> SchedulerState<P> {
    /// Starts the ready lanes' next replies while the platform has tokens, each lane when its
    /// recipient's bucket has one too (a lane still waiting for its own goes round to the back,
    /// holding no token of the platform); else asks for a tick when the next token is due.
    pub(super) fn dispatch(&mut self, myself: &ActorRef<SenderMsg>) {
        let mut resting: Option<Duration> = None;
        let mut skipped = 0;
        while let Some(key) = self.ready.front() {
            let now = Instant::now();
            let Some(lane) = self
                .lanes
                .get_mut(key)
                .filter(|l| !l.running && !l.queue.is_empty())
            else {
                if let Some(lane) = self.lanes.get_mut(key) {
                    lane.ready = false;
                }
                self.ready.pop_front();
                continue;
            };
            let own = lane
                .bucket
                .as_mut()
                .map_or(Duration::ZERO, |b| b.ready_in(now));
            if !own.is_zero() {
                resting = Some(resting.map_or(own, |r| r.min(own)));
                skipped += 1;
                if skipped >= self.ready.len() {
                    break;
                }
                self.ready.rotate_left(1);
                continue;
            }
            if let Err(wait) = self.shared.try_token(now) {
                self.arm_tick(myself, wait);
                return;
            }
            if let Some(bucket) = lane.bucket.as_mut() {
                // There now (checked above): both tokens are the job's first message's.
                let _ = bucket.try_take(now);
            }
            let Some(key) = self.ready.pop_front() else {
                return;
            };
            skipped = 0;
            self.start_reply(myself, key);
        }
        if let Some(wait) = resting {
            self.arm_tick(myself, wait);
        }
    }

    /// Asks for a [`SenderMsg::Tick`] in `wait`, unless one is on its way.
    fn arm_tick(&mut self, myself: &ActorRef<SenderMsg>, wait: Duration) {
        if self.tick_armed {
            return;
        }
        self.tick_armed = true;
        let actor = myself.clone();
        tokio::spawn(async move {
            tokio::time::sleep(wait).await;
            // Fails only when this instance stopped; nobody waits then.
            let _ = actor.cast(SenderMsg::Tick);
        });
    }

    /// Starts the job of a ready lane's next reply, joined with the replies queued behind it
    /// that may ride in the same message; the tokens of its first message are taken already.
    pub(super) fn start_reply(&mut self, myself: &ActorRef<SenderMsg>, key: Lane) {
        let Lane::To(to) = &key else {
            return;
        };
        let Some(lane) = self.lanes.get_mut(&key) else {
            return;
        };
        lane.ready = false;
        let Some(Job::Reply { out, resent }) = lane.queue.pop_front() else {
            return;
        };
        let skip = out
            .outbox_id
            .as_deref()
            .map_or(0, |id| self.shared.ledger(|l| l.accepted(id)));
        let mut batch = Batch::new(*out, resent);
        if skip == 0 {
            while let Some(Job::Reply { out: next, resent }) = lane.queue.front() {
                let half_sent = next
                    .outbox_id
                    .as_deref()
                    .is_some_and(|id| self.shared.ledger(|l| l.accepted(id)) > 0);
                if half_sent || !batch.join::<P>(to, next, *resent) {
                    break;
                }
                lane.queue.pop_front();
            }
        }
        let joined = batch.members.len();
        self.queued_replies = self.queued_replies.saturating_sub(joined);
        let report = JobReport {
            lane: key.clone(),
            bucket: None,
            outbox_ids: batch
                .members
                .iter()
                .filter_map(|m| m.outbox_id.clone())
                .collect(),
            replies: joined,
            accepted: skip,
            outcome: JobOutcome::Interrupted,
        };
        let bucket = lane
            .bucket
            .take()
            .unwrap_or_else(|| self.shared.lane_bucket(Instant::now()));
        let reporter = Reporter {
            actor: myself.clone(),
            report: Some(report),
        };
        let job = jobs::send_reply(
            self.shared.clone(),
            reporter,
            bucket,
            to.clone(),
            batch,
            skip,
        );
        self.runner.run(Box::pin(job));
        if let Some(lane) = self.lanes.get_mut(&key) {
            lane.running = true;
        }
    }
}
