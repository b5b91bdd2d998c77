//! Messages made outside any turn (a sweep's notices, a ticket closed from staff's tools):
//! queued in the outbox first and then handed to their channel, so a crash in between loses
//! nothing (the outbox sweep sends them) and an event told twice is sent once.

use crate::flows::handoff::Addressed;
use crate::model::Outbound;
use crate::store::{unix_now, OutboxEntry, Store, StoreResult};
use crate::supervisor::Sinks;
use std::sync::Arc;

/// Sends messages on behalf of no conversation. Cheap to clone.
#[derive(Clone)]
pub struct Notifier {
    store: Arc<dyn Store>,
    sinks: Arc<Sinks>,
}

impl Notifier {
    pub fn new(store: Arc<dyn Store>, sinks: Arc<Sinks>) -> Self {
        Self { store, sinks }
    }

    /// Queues and sends `messages`. `event` names what they are about, once
    /// (`close:INC-000123:Resuelto:1765000000`): told again, nothing new is sent. A message for
    /// a channel that is not running is dropped with an error log.
    pub async fn send(&self, event: &str, messages: Vec<Addressed>) -> StoreResult<()> {
        let entries: Vec<OutboxEntry> = messages
            .into_iter()
            .enumerate()
            .filter(|(_, m)| {
                let running = self.sinks.contains_key(&m.key.channel);
                if !running {
                    tracing::error!(
                        channel = m.key.channel.as_str(),
                        "a notice for a channel that is not running was dropped"
                    );
                }
                running
            })
            .map(|(n, m)| OutboxEntry {
                id: format!("{event}:{n}"),
                key: m.key,
                reply: m.reply,
                in_reply_to: None,
                queued_at: unix_now(),
                reply_to: None,
                attempted: false,
                edit: m.edit,
                template: None,
            })
            .collect();
        let new = self.store.queue_replies(entries.clone()).await?;
        for entry in entries.into_iter().filter(|e| new.contains(&e.id)) {
            if let Some(sink) = self.sinks.get(&entry.key.channel) {
                sink.deliver(Outbound {
                    key: entry.key,
                    reply: entry.reply,
                    in_reply_to: None,
                    outbox_id: Some(entry.id),
                    accepted_at: tokio::time::Instant::now(),
                    reply_to: None,
                    edit: entry.edit,
                    template: None,
                });
            }
        }
        Ok(())
    }
}
