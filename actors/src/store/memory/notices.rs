//! [`Notices`] for the [`MemoryStore`].

use super::super::notices::{Contact, Notice, Notices, NOTICE_PREFIX};
use super::*;

impl Notices for MemoryStore {
    fn touch_contact(
        &self,
        key: &ConversationKey,
        phone: Option<String>,
        at: u64,
    ) -> BoxFuture<'_, StoreResult<()>> {
        self.with(|i| {
            let c = i.contacts.entry(key.clone()).or_insert_with(|| Contact {
                key: key.clone(),
                phone: None,
                last_inbound: 0,
                opted_out: false,
            });
            c.last_inbound = c.last_inbound.max(at);
            if phone.is_some() {
                c.phone = phone;
            }
        });
        ready(Ok(()))
    }

    fn set_opted_out(
        &self,
        key: &ConversationKey,
        opted_out: bool,
        at: u64,
    ) -> BoxFuture<'_, StoreResult<()>> {
        self.with(|i| {
            let c = i.contacts.entry(key.clone()).or_insert_with(|| Contact {
                key: key.clone(),
                phone: None,
                last_inbound: at,
                opted_out,
            });
            c.opted_out = opted_out;
        });
        ready(Ok(()))
    }

    fn contacts(&self) -> BoxFuture<'_, StoreResult<Vec<Contact>>> {
        ready(Ok(self.with(|i| i.contacts.values().cloned().collect())))
    }

    fn queue_notices(&self, notices: Vec<Notice>) -> BoxFuture<'_, StoreResult<usize>> {
        ready(Ok(self.with(|i| {
            let mut new = 0;
            for n in notices {
                if !i.notices.iter().any(|(q, _)| q.id == n.id) {
                    i.notices.push((n, false));
                    new += 1;
                }
            }
            new
        })))
    }

    fn release_notices(&self, limit: usize) -> BoxFuture<'_, StoreResult<Vec<OutboxEntry>>> {
        ready(Ok(self.with(|i| {
            let mut entries = Vec::new();
            for (n, released) in i.notices.iter_mut().filter(|(_, r)| !r).take(limit) {
                *released = true;
                entries.push(OutboxEntry {
                    id: n.id.clone(),
                    key: n.key.clone(),
                    reply: n.reply.clone(),
                    in_reply_to: None,
                    queued_at: n.queued_at,
                    reply_to: None,
                    attempted: false,
                    edit: None,
                    template: n.template.clone(),
                });
            }
            let new = i.queue(entries.clone());
            entries.retain(|e| new.contains(&e.id));
            entries
        })))
    }

    fn requeue_notices(&self) -> BoxFuture<'_, StoreResult<u64>> {
        ready(Ok(self.with(|i| {
            let back: Vec<String> = i
                .outbox
                .iter()
                .filter(|(e, sent)| {
                    !sent && !e.attempted && e.id.starts_with(super::super::notices::NOTICE_PREFIX)
                })
                .map(|(e, _)| e.id.clone())
                .collect();
            i.outbox.retain(|(e, _)| !back.contains(&e.id));
            for (n, released) in i.notices.iter_mut() {
                if back.contains(&n.id) {
                    *released = false;
                }
            }
            back.len() as u64
        })))
    }

    fn close_attempted_notices(&self) -> BoxFuture<'_, StoreResult<Vec<(Channel, u64)>>> {
        ready(Ok(self.with(|i| {
            let mut closed: Vec<(Channel, u64)> = Vec::new();
            for (e, sent) in i.outbox.iter_mut() {
                if !*sent && e.attempted && e.id.starts_with(NOTICE_PREFIX) {
                    *sent = true;
                    match closed.iter_mut().find(|(c, _)| *c == e.key.channel) {
                        Some((_, n)) => *n += 1,
                        None => closed.push((e.key.channel, 1)),
                    }
                }
            }
            closed
        })))
    }

    fn notices_waiting(&self) -> BoxFuture<'_, StoreResult<u64>> {
        ready(Ok(self.with(|i| {
            i.notices.iter().filter(|(_, r)| !r).count() as u64
        })))
    }
}
