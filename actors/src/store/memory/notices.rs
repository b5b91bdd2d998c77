//! [`Notices`] for the [`MemoryStore`].

use super::super::notices::{Contact, Notice, Notices, NOTICE_PREFIX};
use super::*;

/// A notice in its campaign.
pub(super) struct Queued {
    notice: Notice,
    released: bool,
    /// Not released before (Unix seconds): held for its platform's confirmation.
    hold_until: u64,
}

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
                if !i.notices.iter().any(|q| q.notice.id == n.id) {
                    i.notices.push(Queued {
                        notice: n,
                        released: false,
                        hold_until: 0,
                    });
                    new += 1;
                }
            }
            new
        })))
    }

    fn release_notices(&self, limit: usize) -> BoxFuture<'_, StoreResult<Vec<OutboxEntry>>> {
        ready(Ok(self.with(|i| {
            let mut entries = Vec::new();
            let now = crate::store::unix_now();
            let releasable = |q: &&mut Queued| !q.released && q.hold_until <= now;
            for q in i.notices.iter_mut().filter(releasable).take(limit) {
                q.released = true;
                let n = &q.notice;
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
                .filter(|(e, sent)| !sent && !e.attempted && e.id.starts_with(NOTICE_PREFIX))
                .map(|(e, _)| e.id.clone())
                .collect();
            i.outbox.retain(|(e, _)| !back.contains(&e.id));
            for q in i.notices.iter_mut() {
                if back.contains(&q.notice.id) {
                    q.released = false;
                }
            }
            back.len() as u64
        })))
    }

    fn hold_attempted_notices(
        &self,
        channel: Channel,
        until: u64,
    ) -> BoxFuture<'_, StoreResult<u64>> {
        ready(Ok(self.with(|i| {
            let held: Vec<String> = i
                .outbox
                .iter()
                .filter(|(e, sent)| {
                    !sent
                        && e.attempted
                        && e.key.channel == channel
                        && e.id.starts_with(NOTICE_PREFIX)
                })
                .map(|(e, _)| e.id.clone())
                .collect();
            i.outbox.retain(|(e, _)| !held.contains(&e.id));
            for q in i.notices.iter_mut().filter(|q| held.contains(&q.notice.id)) {
                q.released = false;
                q.hold_until = until;
            }
            held.len() as u64
        })))
    }

    fn confirm_notices(&self, ids: Vec<String>) -> BoxFuture<'_, StoreResult<u64>> {
        ready(Ok(self.with(|i| {
            let notice = |e: &OutboxEntry| {
                e.attempted && e.id.starts_with(NOTICE_PREFIX) && ids.contains(&e.id)
            };
            for (_, sent) in i.outbox.iter_mut().filter(|(e, _)| notice(e)) {
                *sent = true;
            }
            let mut confirmed = 0;
            for q in i.notices.iter_mut() {
                if !q.released && q.hold_until > 0 && ids.contains(&q.notice.id) {
                    q.released = true;
                    q.hold_until = 0;
                    confirmed += 1;
                }
            }
            confirmed
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
            i.notices.iter().filter(|q| !q.released).count() as u64
        })))
    }
}
