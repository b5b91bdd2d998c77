//! A conversation that died: restarted from its last snapshot within the restart budget (OTP
//! style), its unanswered messages redelivered; past the budget, the poison message is dropped
//! with an apology and the conversation starts clean.

use super::*;

impl SupervisorState {
    /// A conversation died: restart it within the budget and redeliver its unanswered messages.
    pub(super) async fn recover(
        &mut self,
        myself: &ActorRef<SupervisorMsg>,
        key: ConversationKey,
        mut child: Child,
        failed: bool,
    ) -> Result<(), ActorProcessingErr> {
        child.prune();
        let mut pending: VecDeque<(Arc<Inbound>, Option<u64>)> = child
            .unacked
            .into_iter()
            .map(|(_, m, lease)| (m, lease))
            .collect();
        let mut clean = false;
        if failed {
            metrics::counter!("redsol_actor_restarts_total", "actor" => "conversation")
                .increment(1);
            let limits = &self.engine.rules().limits;
            let window = limits.restart_window();
            let now = Instant::now();
            let history = self.restarts.entry(key.clone()).or_default();
            history.push_back(now);
            while history
                .front()
                .is_some_and(|t| now.duration_since(*t) > window)
            {
                history.pop_front();
            }
            let restarts = history.len();
            let over_budget = restarts as u32 > limits.restart_max;
            // Conversations whose last crash is out of the window are forgotten.
            self.restarts
                .retain(|_, h| h.back().is_some_and(|t| now.duration_since(*t) <= window));
            if over_budget {
                self.restarts.remove(&key);
                clean = true;
                if let Some((poison, _)) = pending.pop_front() {
                    tracing::error!(
                        event = "poison_message_dropped",
                        channel = key.channel.as_str(),
                        conversation = %key.opaque_id(),
                        "conversation crashed past its restart budget; its current message is dropped and it starts clean"
                    );
                    if let Some(id) = &poison.message_id {
                        if let Err(e) = self.engine.store().journal_done(&key, id).await {
                            tracing::error!(error = %e, "could not mark a poison message as handled");
                        }
                    }
                    if let Some(sink) = self.sinks.get(&key.channel) {
                        sink.deliver(Outbound {
                            key: key.clone(),
                            reply: self.engine.apology(),
                            in_reply_to: poison.message_id.clone(),
                            outbox_id: None,
                            accepted_at: poison.accepted_at,
                            reply_to: poison.reply_to.clone(),
                            edit: None,
                            template: None,
                        });
                    }
                }
            } else {
                tracing::warn!(
                    channel = key.channel.as_str(),
                    conversation = %key.opaque_id(),
                    restarts,
                    "conversation crashed; restarting it from its last snapshot"
                );
            }
        }
        if pending.is_empty() && !clean {
            return Ok(());
        }
        if self.draining.is_some() && !failed {
            return Ok(());
        }
        self.spawn(myself, &key, clean)?;
        for (inbound, lease) in pending {
            self.route(myself, inbound, lease)?;
        }
        Ok(())
    }
}
