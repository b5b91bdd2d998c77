//! [`MemoryStore`]: a complete in-memory [`Store`], for tests and benchmarks.

use super::handoff::{Ended, Handoff, Handoffs};
use super::outages::{Outage, Outages};
use super::tickets::{Survey, Tickets};
use super::*;

mod notices;
mod payments;
mod staff;
use std::collections::HashMap;
use std::sync::Mutex;

#[derive(Default)]
struct MemoryInner {
    prospects: Vec<Prospect>,
    incidents: Vec<Incident>,
    requests: Vec<PendingRequest>,
    snapshots: HashMap<ConversationKey, String>,
    journal: HashMap<(ConversationKey, String), (u64, JournalEntry, bool)>,
    journal_seq: u64,
    /// Outbox replies in order, with whether they were sent.
    outbox: Vec<(OutboxEntry, bool)>,
    /// Turn commits still to fail (a full disk, for tests).
    failing_commits: usize,
    /// Turn commits still to fence (another replica took the conversation, for tests).
    fenced_commits: usize,
    /// Outbox replies another replica holds the claim on (for tests).
    taken_elsewhere: std::collections::HashSet<String>,
    /// Every handoff ever opened, with how it ended.
    handoffs: Vec<(Handoff, Option<Ended>)>,
    /// The messages that took and that ended each handoff, when one did.
    handoff_sources: HashMap<(String, &'static str), String>,
    /// Tickets closed and waiting for their rating, by id, with when they were closed.
    surveys_pending: HashMap<String, u64>,
    /// The message that closed each ticket, when one did.
    close_sources: HashMap<String, String>,
    surveys: Vec<Survey>,
    /// Every outage, with the source that declared it.
    outages: Vec<(Outage, Option<String>)>,
    /// Reports linked: (outage id, customer).
    linked: Vec<(String, ConversationKey)>,
    contacts: HashMap<ConversationKey, super::notices::Contact>,
    /// Notices in the order queued, with whether they were released.
    notices: Vec<notices::Queued>,
    payments: Vec<super::payments::Payment>,
}

impl MemoryInner {
    /// Queues replies in the outbox, each id once; the ids that were new.
    fn queue(&mut self, replies: Vec<OutboxEntry>) -> Vec<String> {
        let mut queued = Vec::new();
        for reply in replies {
            if !self.outbox.iter().any(|(e, _)| e.id == reply.id) {
                queued.push(reply.id.clone());
                self.outbox.push((reply, false));
            }
        }
        queued
    }
}

/// A complete in-memory [`Store`], for tests and benchmarks.
pub struct MemoryStore {
    clients: Arc<Vec<Client>>,
    inner: Mutex<MemoryInner>,
}

impl MemoryStore {
    pub fn new(clients: Vec<Client>) -> Self {
        Self {
            clients: Arc::new(clients),
            inner: Mutex::new(MemoryInner::default()),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut MemoryInner) -> T) -> T {
        let mut guard = match self.inner.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }

    /// Every prospect saved so far (for tests).
    pub fn prospects(&self) -> Vec<Prospect> {
        self.with(|i| i.prospects.clone())
    }

    /// Every incident saved so far (for tests).
    pub fn incidents(&self) -> Vec<Incident> {
        self.with(|i| i.incidents.clone())
    }

    /// Every recorded request (for tests).
    pub fn requests(&self) -> Vec<PendingRequest> {
        self.with(|i| i.requests.clone())
    }

    /// Every rating recorded (for tests).
    pub fn surveys(&self) -> Vec<Survey> {
        self.with(|i| i.surveys.clone())
    }

    /// Makes the next `n` turn commits fail, as a full disk would (for tests).
    pub fn fail_next_commits(&self, n: usize) {
        self.with(|i| i.failing_commits = n);
    }

    /// Has another replica hold the claim on the outbox reply `id`: this process may no longer
    /// send it (for tests).
    pub fn take_elsewhere(&self, id: &str) {
        self.with(|i| i.taken_elsewhere.insert(id.to_string()));
    }

    /// Makes the next `n` turn commits fenced, as when another replica took the conversation
    /// over (for tests).
    pub fn fence_next_commits(&self, n: usize) {
        self.with(|i| i.fenced_commits = n);
    }
}

fn ready<'a, T: Send + 'a>(value: T) -> BoxFuture<'a, T> {
    Box::pin(std::future::ready(value))
}

impl Store for MemoryStore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    fn handoffs(&self) -> &dyn Handoffs {
        self
    }

    fn tickets(&self) -> &dyn Tickets {
        self
    }

    fn outages(&self) -> &dyn Outages {
        self
    }

    fn notices(&self) -> &dyn super::notices::Notices {
        self
    }

    fn payments(&self) -> &dyn super::payments::Payments {
        self
    }

    fn clients(&self) -> BoxFuture<'_, StoreResult<Arc<Vec<Client>>>> {
        ready(Ok(self.clients.clone()))
    }

    fn save_prospect(&self, prospect: NewProspect) -> BoxFuture<'_, StoreResult<Prospect>> {
        ready(Ok(self.with(|i| {
            let made = |p: &&Prospect| p.data.source.is_some() && p.data.source == prospect.source;
            if let Some(p) = i.prospects.iter().find(made) {
                return p.clone();
            }
            let p = Prospect {
                id: prospect_id(i.prospects.len() as u64 + 1),
                created_at: now_utc(),
                status: prospect.initial_status().into(),
                data: prospect,
            };
            i.prospects.push(p.clone());
            p
        })))
    }

    fn create_incident(&self, incident: NewIncident) -> BoxFuture<'_, StoreResult<Incident>> {
        ready(Ok(self.with(|i| {
            let made = |x: &&Incident| x.data.source.is_some() && x.data.source == incident.source;
            if let Some(x) = i.incidents.iter().find(made) {
                return x.clone();
            }
            let inc = Incident {
                id: incident_id(i.incidents.len() as u64 + 1),
                status: "Nuevo".into(),
                created_at: now_utc(),
                technician: "Sin asignar".into(),
                data: incident,
            };
            i.incidents.push(inc.clone());
            inc
        })))
    }

    fn incidents_for(&self, key: &ConversationKey) -> BoxFuture<'_, StoreResult<Vec<Incident>>> {
        let key = key.clone();
        ready(Ok(self.with(|i| {
            i.incidents
                .iter()
                .rev()
                .filter(|inc| inc.data.key == key)
                .cloned()
                .collect()
        })))
    }

    fn open_incidents_by_priority(&self) -> BoxFuture<'_, StoreResult<Vec<(Priority, u64)>>> {
        ready(Ok(self.with(|i| {
            Priority::ALL
                .into_iter()
                .map(|p| {
                    let n = i
                        .incidents
                        .iter()
                        .filter(|inc| inc.is_open() && inc.data.priority == p)
                        .count();
                    (p, n as u64)
                })
                .collect()
        })))
    }

    fn record_request(&self, request: PendingRequest) -> BoxFuture<'_, StoreResult<()>> {
        self.with(|i| {
            let made = |r: &PendingRequest| {
                r.source.is_some() && r.source == request.source && r.kind == request.kind
            };
            if !i.requests.iter().any(made) {
                i.requests.push(request);
            }
        });
        ready(Ok(()))
    }

    fn load_snapshot(&self, key: &ConversationKey) -> BoxFuture<'_, StoreResult<Option<String>>> {
        let key = key.clone();
        ready(Ok(self.with(|i| i.snapshots.get(&key).cloned())))
    }

    fn save_snapshot(
        &self,
        key: &ConversationKey,
        state: String,
    ) -> BoxFuture<'_, StoreResult<()>> {
        let key = key.clone();
        self.with(|i| i.snapshots.insert(key, state));
        ready(Ok(()))
    }

    fn delete_snapshot(&self, key: &ConversationKey) -> BoxFuture<'_, StoreResult<()>> {
        let key = key.clone();
        self.with(|i| i.snapshots.remove(&key));
        ready(Ok(()))
    }

    fn journal_inbound(&self, entry: JournalEntry) -> BoxFuture<'_, StoreResult<bool>> {
        ready(Ok(self.with(|i| {
            let id = (entry.key.clone(), entry.message_id.clone());
            if i.journal.contains_key(&id) {
                return false;
            }
            i.journal_seq += 1;
            let seq = i.journal_seq;
            i.journal.insert(id, (seq, entry, false));
            true
        })))
    }

    fn journal_done(
        &self,
        key: &ConversationKey,
        message_id: &str,
    ) -> BoxFuture<'_, StoreResult<()>> {
        let id = (key.clone(), message_id.to_string());
        self.with(|i| {
            if let Some(e) = i.journal.get_mut(&id) {
                e.2 = true;
            }
        });
        ready(Ok(()))
    }

    fn commit_turn(&self, commit: TurnCommit) -> BoxFuture<'_, StoreResult<()>> {
        let failed = self.with(|i| {
            if i.fenced_commits > 0 {
                i.fenced_commits -= 1;
                return Some(StoreError::Fenced("a test's fence".into()));
            }
            if i.failing_commits > 0 {
                i.failing_commits -= 1;
                return Some(StoreError::Unavailable("disk full (a test's fault)".into()));
            }
            i.snapshots.insert(commit.key.clone(), commit.snapshot);
            if let Some(id) = &commit.message_id {
                if let Some(e) = i.journal.get_mut(&(commit.key.clone(), id.clone())) {
                    e.2 = true;
                }
            }
            i.queue(commit.replies);
            None
        });
        ready(failed.map_or(Ok(()), Err))
    }

    fn queue_replies(&self, replies: Vec<OutboxEntry>) -> BoxFuture<'_, StoreResult<Vec<String>>> {
        ready(Ok(self.with(|i| i.queue(replies))))
    }

    fn outbox_attempted(&self, id: &str) -> BoxFuture<'_, StoreResult<bool>> {
        ready(Ok(self.with(|i| {
            if i.taken_elsewhere.contains(id) {
                return false;
            }
            match i.outbox.iter_mut().find(|(e, _)| e.id == id) {
                Some((_, true)) => false,
                Some((e, false)) => {
                    e.attempted = true;
                    true
                }
                None => true,
            }
        })))
    }

    fn outbox_sent(&self, id: &str) -> BoxFuture<'_, StoreResult<()>> {
        self.with(|i| {
            if let Some(e) = i.outbox.iter_mut().find(|(e, _)| e.id == id) {
                e.1 = true;
            }
        });
        ready(Ok(()))
    }

    /// Positions are places in the outbox's order, from 1.
    fn outbox_page(
        &self,
        channel: Channel,
        after: u64,
        limit: usize,
    ) -> BoxFuture<'_, StoreResult<OutboxPage>> {
        ready(Ok(self.with(|i| {
            let mut page = OutboxPage {
                entries: Vec::new(),
                next: after,
            };
            let start = usize::try_from(after).unwrap_or(usize::MAX);
            for (n, (e, sent)) in i.outbox.iter().enumerate().skip(start) {
                if page.entries.len() >= limit {
                    break;
                }
                if !sent && e.key.channel == channel {
                    page.entries.push(e.clone());
                    page.next = n as u64 + 1;
                }
            }
            page
        })))
    }

    fn journal_pending(&self) -> BoxFuture<'_, StoreResult<Vec<JournalEntry>>> {
        ready(Ok(self.with(|i| {
            let mut pending: Vec<_> = i
                .journal
                .values()
                .filter(|(_, _, done)| !done)
                .map(|(seq, e, _)| (*seq, e.clone()))
                .collect();
            pending.sort_by_key(|(seq, _)| *seq);
            pending.into_iter().map(|(_, e)| e).collect()
        })))
    }
}
