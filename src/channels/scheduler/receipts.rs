//! Read receipts: best effort, in lanes of their own ([`RECEIPT_LANES`] side by side), paced
//! by the platform's bucket only, at most [`MAX_QUEUED_RECEIPTS`] waiting.

use super::{Job, JobOutcome, JobReport, Lane, Reporter, SchedulerState, SenderMsg};
use crate::channels::jobs;
use crate::channels::{count_receipt, Platform, MAX_QUEUED_RECEIPTS, RECEIPT_LANES};
use ractor::ActorRef;

impl<P: Platform> SchedulerState<P> {
    /// Starts the next receipt of a receipt lane, unless one runs; forgets the lane when idle.
    pub(super) fn pump_receipts(&mut self, myself: &ActorRef<SenderMsg>, key: &Lane) {
        let Some(lane) = self.lanes.get(key) else {
            return;
        };
        if lane.running {
            return;
        }
        let next = self.lanes.get_mut(key).and_then(|l| l.queue.pop_front());
        let Some(Job::Receipt(message_id)) = next else {
            self.lanes.remove(key);
            return;
        };
        self.queued_receipts = self.queued_receipts.saturating_sub(1);
        let reporter = Reporter {
            actor: myself.clone(),
            report: Some(JobReport {
                lane: key.clone(),
                bucket: None,
                outbox_ids: Vec::new(),
                replies: 1,
                accepted: 0,
                outcome: JobOutcome::Interrupted,
            }),
        };
        let job = jobs::send_receipt(self.shared.clone(), reporter, message_id);
        self.runner.run(Box::pin(job));
        if let Some(lane) = self.lanes.get_mut(key) {
            lane.running = true;
        }
    }

    pub(super) fn mark_read(&mut self, myself: &ActorRef<SenderMsg>, message_id: String) {
        if self.queued_receipts >= MAX_QUEUED_RECEIPTS {
            count_receipt(P::CHANNEL, "dropped");
            tracing::debug!(
                channel = P::CHANNEL.as_str(),
                "too many read receipts waiting; one dropped"
            );
            self.finish_one();
            return;
        }
        let lane = Lane::Receipts(self.next_receipt_lane);
        self.next_receipt_lane = (self.next_receipt_lane + 1) % RECEIPT_LANES;
        self.enqueue(myself, lane, Job::Receipt(message_id));
    }
}
