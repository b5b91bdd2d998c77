//! Replies take the platform's tokens in the order their lanes became ready; a lane's job
//! starts when a token is there, carrying the replies waiting in the lane that may ride in the
//! same message (see [`crate::channels::coalesce`]).

use super::{Job, JobOutcome, JobReport, Lane, Reporter, SchedulerState, SenderMsg};
use crate::channels::coalesce::Batch;
use crate::channels::{jobs, Platform};
use ractor::ActorRef;
use tokio::task::AbortHandle;
use tokio::time::Instant;

impl<P: Platform> SchedulerState<P> {
    /// Starts the ready lanes' next replies while the platform has tokens; else asks for a
    /// tick when the next token is due.
    pub(super) fn dispatch(&mut self, myself: &ActorRef<SenderMsg>) {
        while let Some(key) = self.ready.front() {
            let waiting = self
                .lanes
                .get(key)
                .is_some_and(|l| l.running.is_none() && !l.queue.is_empty());
            if !waiting {
                if let Some(lane) = self.lanes.get_mut(key) {
                    lane.ready = false;
                }
                self.ready.pop_front();
                continue;
            }
            if let Err(wait) = self.shared.try_token(Instant::now()) {
                if !self.tick_armed {
                    self.tick_armed = true;
                    let actor = myself.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(wait).await;
                        // Fails only when this instance stopped; nobody waits then.
                        let _ = actor.cast(SenderMsg::Tick);
                    });
                }
                return;
            }
            let Some(key) = self.ready.pop_front() else {
                return;
            };
            self.start_reply(myself, key);
        }
    }

    /// Starts the job of a ready lane's next reply, joined with the replies queued behind it
    /// that may ride in the same message; the platform's token is taken already.
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
        if joined > 1 {
            metrics::counter!("redsol_replies_coalesced_total", "channel" => P::CHANNEL.as_str())
                .increment(joined as u64 - 1);
        }
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
        let handle = self.run(Box::pin(job));
        if let Some(lane) = self.lanes.get_mut(&key) {
            lane.running = Some(handle);
        }
    }

    /// Runs a job in a task of its own, cut short when this instance is replaced.
    pub(super) fn run(
        &self,
        job: std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>,
    ) -> AbortHandle {
        let mut cancel = self.cancel.clone();
        let task = tokio::spawn(async move {
            let replaced = async {
                // A dropped handle never cancels: only a restart does.
                if cancel.wait_for(|c| *c).await.is_err() {
                    std::future::pending::<()>().await;
                }
            };
            tokio::select! {
                () = job => {}
                () = replaced => {}
            }
        });
        task.abort_handle()
    }
}
