//! The backlog on disk: past `memory_queue` replies waiting, a sender stops holding new ones in
//! memory. They are in the outbox already (a conversation commits its replies before handing
//! them over), so the sender leaves them there and reads them back in the outbox's order, a
//! page at a time, as its queues drain: memory stays flat however long the backlog grows, and
//! each recipient's replies still leave in order, because while the sender reads back, every
//! new reply waits on disk behind the older ones.
//!
//! The read-back ends when a page comes back short and no reply was left on disk since that
//! page was asked for (one left meanwhile may have been committed after the read: the sender
//! reads on).

use super::{Job, Lane, SchedulerState, SenderMsg};
use crate::channels::{jobs, Platform};
use crate::outbox::Finish;
use ractor::ActorRef;
use redsol_actors::model::{Channel, Outbound};
use redsol_actors::store::{OutboxEntry, OutboxPage, Store, StoreResult};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How long a failed read waits before it is tried again.
const READ_RETRY: Duration = Duration::from_secs(1);

/// The read-back of a sender whose backlog waits on disk.
#[derive(Debug)]
pub struct Spill {
    /// The outbox position read up to.
    pub cursor: u64,
    /// A page is being read.
    pub reading: bool,
    /// Replies left on disk since the spill began.
    pub left: usize,
    /// `left` when the page being read was asked for.
    left_at_read: usize,
    /// Recipients with replies left on disk: a new reply to one of them waits on disk too,
    /// behind them. `None` past [`MAX_TRACKED`] recipients: every new reply waits on disk.
    on_disk_for: Option<HashSet<String>>,
}

/// The most recipients [`Spill`] remembers having replies on disk (memory stays bounded).
const MAX_TRACKED: usize = 100_000;

impl Spill {
    /// A read-back from the start of the outbox, of replies left by an earlier run or
    /// instance: which recipients have replies there is unknown, so every new reply waits on
    /// disk behind them until the read-back ends.
    pub fn from_start() -> Spill {
        Spill {
            cursor: 0,
            reading: false,
            left: 0,
            left_at_read: 0,
            on_disk_for: None,
        }
    }

    /// A read-back of the replies this instance leaves on disk past `memory_queue` (older
    /// ones may be there too: it reads from the start).
    pub fn overflow() -> Spill {
        Spill {
            on_disk_for: Some(HashSet::new()),
            ..Spill::from_start()
        }
    }

    /// Whether a recipient may have replies on disk.
    pub fn has_on_disk(&self, to: &str) -> bool {
        self.on_disk_for.as_ref().is_none_or(|s| s.contains(to))
    }

    /// Notes a reply to `to` left on disk.
    fn left_for(&mut self, to: &str) {
        self.left += 1;
        if let Some(set) = &mut self.on_disk_for {
            if set.len() >= MAX_TRACKED {
                self.on_disk_for = None;
            } else if !set.contains(to) {
                set.insert(to.to_string());
            }
        }
    }

    /// Marks a read as begun.
    pub fn begin_read(&mut self) {
        self.reading = true;
        self.left_at_read = self.left;
    }

    /// Whether the read-back is over after a page of `read` entries of `asked`: the page was
    /// short and nothing was left on disk since it was asked for.
    pub fn over(&self, read: usize, asked: usize) -> bool {
        read < asked && self.left == self.left_at_read
    }
}

/// What the handle and the campaigns see of a sender's read-back: whether one runs (the sweep
/// stands aside), and about how many replies wait on disk.
#[derive(Debug, Default)]
pub struct OnDisk {
    active: AtomicBool,
    count: AtomicUsize,
}

impl OnDisk {
    pub fn begin(&self, waiting: usize) {
        self.active.store(true, Ordering::Relaxed);
        self.count.store(waiting, Ordering::Relaxed);
    }

    pub fn add(&self, n: usize) {
        self.count.fetch_add(n, Ordering::Relaxed);
    }

    /// `n` replies read back (saturating: the count is an estimate).
    pub fn read(&self, n: usize) {
        let _ = self
            .count
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| {
                Some(c.saturating_sub(n))
            });
    }

    pub fn end(&self) {
        self.active.store(false, Ordering::Relaxed);
        self.count.store(0, Ordering::Relaxed);
    }

    pub fn active(&self) -> bool {
        self.active.load(Ordering::Relaxed)
    }

    pub fn count(&self) -> usize {
        self.count.load(Ordering::Relaxed)
    }
}

/// How many replies a read-back page holds, for a sender holding at most `memory_queue`.
pub fn page_size(memory_queue: usize) -> usize {
    (memory_queue / 4).clamp(1, 500)
}

/// Reads one page of a channel's outbox after `after`; a failure is logged and reported after
/// a pause, so that the sender tries again.
pub async fn read_page(
    store: Arc<dyn Store>,
    channel: Channel,
    after: u64,
    limit: usize,
) -> StoreResult<OutboxPage> {
    let page = store.outbox_page(channel, after, limit).await;
    if let Err(e) = &page {
        tracing::error!(
            channel = channel.as_str(),
            error = %e,
            "cannot read the reply backlog from the outbox; trying again"
        );
        tokio::time::sleep(READ_RETRY).await;
    }
    page
}

/// A reply as the outbox holds it, ready for the sender.
pub fn outbound(entry: OutboxEntry) -> Outbound {
    Outbound {
        key: entry.key,
        reply: entry.reply,
        in_reply_to: entry.in_reply_to,
        outbox_id: Some(entry.id),
        accepted_at: tokio::time::Instant::now(),
        reply_to: entry.reply_to,
        edit: entry.edit,
        template: entry.template,
    }
}

impl<P: Platform> SchedulerState<P> {
    /// Leaves a durable reply to `to` on disk (see [`spill`]); starts the read-back if none
    /// runs.
    pub(super) fn leave_on_disk(&mut self, myself: &ActorRef<SenderMsg>, out: &Outbound, to: &str) {
        if let Some(id) = &out.outbox_id {
            self.shared.ledger(|l| l.dropped(id));
        }
        metrics::counter!("redsol_replies_spilled_total", "channel" => P::CHANNEL.as_str())
            .increment(1);
        let spill = self.spill.get_or_insert_with(|| {
            tracing::warn!(
                channel = P::CHANNEL.as_str(),
                queued = self.queued_replies,
                "send backlog over memory_queue; new replies wait in the outbox on disk and are read back in order"
            );
            self.shared.on_disk.begin(0);
            Spill::overflow()
        });
        spill.left_for(to);
        self.shared.on_disk.add(1);
        self.finish_one();
        self.read_back(myself);
    }

    /// Reads the next page of the backlog back from the outbox when the queues have room.
    pub(super) fn read_back(&mut self, myself: &ActorRef<SenderMsg>) {
        let memory = self.shared.pacing.memory_queue;
        let Some(spill) = self.spill.as_mut() else {
            return;
        };
        if spill.reading || self.queued_replies > memory / 2 {
            return;
        }
        spill.begin_read();
        let (store, after) = (self.shared.store.clone(), spill.cursor);
        let actor = myself.clone();
        tokio::spawn(async move {
            let page = read_page(store, P::CHANNEL, after, page_size(memory)).await;
            // Fails only when this instance stopped; the next one reads from the start.
            let _ = actor.cast(SenderMsg::Page(page));
        });
    }

    /// Queues a page read back, in order; ends the read-back when it reached the end.
    pub(super) fn page_read(
        &mut self,
        myself: &ActorRef<SenderMsg>,
        page: StoreResult<OutboxPage>,
    ) {
        let asked = page_size(self.shared.pacing.memory_queue);
        let Some(spill) = self.spill.as_mut() else {
            return;
        };
        spill.reading = false;
        let Ok(page) = page else {
            self.read_back(myself);
            return;
        };
        spill.cursor = page.next;
        let read = page.entries.len();
        self.shared.on_disk.read(read);
        let over = spill.over(read, asked);
        for entry in page.entries {
            let out = Box::new(outbound(entry));
            if !self.shared.ledger(|l| l.admit_reply(&out, true)) {
                continue;
            }
            match P::address(&out) {
                Some(to) => {
                    // Counted as accepted, like a reply handed over by the handle.
                    self.pending.add();
                    self.enqueue(myself, Lane::To(to), Job::Reply { out, resent: true });
                }
                None => {
                    // Never sendable: closed, as `send` closes one (in a task: the store).
                    let Outbound { key, outbox_id, .. } = *out;
                    if let Some(id) = outbox_id {
                        self.shared
                            .ledger(|l| l.finished(id.clone(), Finish::Done, 0, Instant::now()));
                        let store = self.shared.store.clone();
                        tokio::spawn(async move {
                            jobs::close_outbox(store.as_ref(), &id, key.opaque()).await;
                        });
                    }
                }
            }
        }
        if over {
            self.spill = None;
            self.shared.on_disk.end();
            tracing::info!(
                channel = P::CHANNEL.as_str(),
                "reply backlog read back from the outbox; replies queue in memory again"
            );
        } else {
            self.read_back(myself);
        }
    }
}
