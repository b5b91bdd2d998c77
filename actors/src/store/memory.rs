//! [`MemoryStore`]: a complete in-memory [`Store`], for tests and benchmarks.

use super::handoff::{handoff_id, Claim, Ended, Handoff, Handoffs, NewHandoff, Owner};
use super::outages::{outage_id, NewOutage, Outage, Outages};
use super::tickets::{Survey, Tickets, REOPENED};
use super::*;
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
            if i.failing_commits > 0 {
                i.failing_commits -= 1;
                return true;
            }
            i.snapshots.insert(commit.key.clone(), commit.snapshot);
            if let Some(id) = &commit.message_id {
                if let Some(e) = i.journal.get_mut(&(commit.key.clone(), id.clone())) {
                    e.2 = true;
                }
            }
            i.queue(commit.replies);
            false
        });
        ready(if failed {
            Err(StoreError::Unavailable("disk full (a test's fault)".into()))
        } else {
            Ok(())
        })
    }

    fn queue_replies(&self, replies: Vec<OutboxEntry>) -> BoxFuture<'_, StoreResult<Vec<String>>> {
        ready(Ok(self.with(|i| i.queue(replies))))
    }

    fn outbox_attempted(&self, id: &str) -> BoxFuture<'_, StoreResult<()>> {
        self.with(|i| {
            if let Some(e) = i.outbox.iter_mut().find(|(e, _)| e.id == id) {
                e.0.attempted = true;
            }
        });
        ready(Ok(()))
    }

    fn outbox_sent(&self, id: &str) -> BoxFuture<'_, StoreResult<()>> {
        self.with(|i| {
            if let Some(e) = i.outbox.iter_mut().find(|(e, _)| e.id == id) {
                e.1 = true;
            }
        });
        ready(Ok(()))
    }

    fn outbox_pending(&self, channel: Channel) -> BoxFuture<'_, StoreResult<Vec<OutboxEntry>>> {
        ready(Ok(self.with(|i| {
            i.outbox
                .iter()
                .filter(|(e, sent)| !sent && e.key.channel == channel)
                .map(|(e, _)| e.clone())
                .collect()
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

impl Handoffs for MemoryStore {
    fn open_handoff(&self, new: NewHandoff) -> BoxFuture<'_, StoreResult<(Handoff, bool)>> {
        ready(Ok(self.with(|i| {
            let same = |(h, ended): &&(Handoff, Option<Ended>)| {
                (new.source.is_some() && h.source == new.source)
                    || (ended.is_none() && h.customer == new.customer)
            };
            if let Some((h, _)) = i.handoffs.iter().find(same) {
                return (h.clone(), false);
            }
            let h = Handoff {
                id: handoff_id(i.handoffs.len() as u64 + 1),
                customer: new.customer,
                name: new.name,
                topic: new.topic,
                requested_at: new.at,
                owner: None,
                taken_at: None,
                last_activity: new.at,
                carded: new.carded,
                source: new.source,
            };
            i.handoffs.push((h.clone(), None));
            (h, true)
        })))
    }

    fn claim_handoff(
        &self,
        id: &str,
        owner: Owner,
        at: u64,
        source: Option<String>,
    ) -> BoxFuture<'_, StoreResult<Claim>> {
        ready(Ok(self.with(|i| {
            let took = source
                .as_ref()
                .is_some_and(|s| i.handoff_sources.get(&(id.to_string(), "took")) == Some(s));
            let Some((h, None)) = i.handoffs.iter_mut().find(|(h, _)| h.id == id) else {
                return Claim::Gone;
            };
            match &h.owner {
                // Nobody takes their own request.
                None if h.customer == owner.key => Claim::Gone,
                Some(o) if o.key != owner.key => Claim::HeldBy(h.clone()),
                Some(_) => Claim::Taken {
                    handoff: h.clone(),
                    fresh: took,
                },
                None => {
                    h.owner = Some(owner);
                    h.taken_at = Some(at);
                    h.last_activity = at;
                    let handoff = h.clone();
                    if let Some(s) = source {
                        i.handoff_sources.insert((id.to_string(), "took"), s);
                    }
                    Claim::Taken {
                        handoff,
                        fresh: true,
                    }
                }
            }
        })))
    }

    fn handoff_for(
        &self,
        customer: &ConversationKey,
    ) -> BoxFuture<'_, StoreResult<Option<Handoff>>> {
        ready(Ok(self.with(|i| {
            i.handoffs
                .iter()
                .find(|(h, ended)| ended.is_none() && &h.customer == customer)
                .map(|(h, _)| h.clone())
        })))
    }

    fn handoffs_held(&self, owner: &ConversationKey) -> BoxFuture<'_, StoreResult<Vec<Handoff>>> {
        ready(Ok(self.with(|i| {
            i.handoffs
                .iter()
                .filter(|(h, ended)| {
                    ended.is_none() && h.owner.as_ref().is_some_and(|o| &o.key == owner)
                })
                .map(|(h, _)| h.clone())
                .collect()
        })))
    }

    fn touch_handoff(&self, id: &str, at: u64) -> BoxFuture<'_, StoreResult<()>> {
        self.with(|i| {
            if let Some((h, None)) = i.handoffs.iter_mut().find(|(h, _)| h.id == id) {
                h.last_activity = h.last_activity.max(at);
            }
        });
        ready(Ok(()))
    }

    fn end_handoff(
        &self,
        id: &str,
        ended: Ended,
        _at: u64,
        source: Option<String>,
    ) -> BoxFuture<'_, StoreResult<Option<Handoff>>> {
        ready(Ok(self.with(|i| {
            let key = (id.to_string(), "ended");
            let replayed = source
                .as_ref()
                .is_some_and(|s| i.handoff_sources.get(&key) == Some(s));
            let (h, state) = i.handoffs.iter_mut().find(|(h, _)| h.id == id)?;
            if state.is_some() {
                return replayed.then(|| h.clone());
            }
            *state = Some(ended);
            let h = h.clone();
            if let Some(s) = source {
                i.handoff_sources.insert(key, s);
            }
            Some(h)
        })))
    }

    fn open_handoffs(&self) -> BoxFuture<'_, StoreResult<Vec<Handoff>>> {
        ready(Ok(self.with(|i| {
            i.handoffs
                .iter()
                .filter(|(_, ended)| ended.is_none())
                .map(|(h, _)| h.clone())
                .collect()
        })))
    }

    fn mark_carded(&self, id: &str) -> BoxFuture<'_, StoreResult<bool>> {
        ready(Ok(self.with(|i| {
            match i.handoffs.iter_mut().find(|(h, _)| h.id == id) {
                Some((h, _)) if !h.carded => {
                    h.carded = true;
                    true
                }
                _ => false,
            }
        })))
    }
}

impl Tickets for MemoryStore {
    fn close_incident(
        &self,
        id: &str,
        status: &str,
        at: u64,
        source: Option<String>,
    ) -> BoxFuture<'_, StoreResult<Option<Incident>>> {
        ready(Ok(self.with(|i| {
            let inc = i.incidents.iter_mut().find(|x| x.id == id)?;
            if !inc.is_open() {
                let replayed = source.is_some() && i.close_sources.get(id) == source.as_ref();
                return replayed.then(|| inc.clone());
            }
            inc.status = status.to_string();
            let closed = inc.clone();
            i.surveys_pending.insert(closed.id.clone(), at);
            if let Some(source) = source {
                i.close_sources.insert(closed.id.clone(), source);
            }
            Some(closed)
        })))
    }

    fn survey_pending(
        &self,
        customer: &ConversationKey,
        since: u64,
    ) -> BoxFuture<'_, StoreResult<Option<Incident>>> {
        ready(Ok(self.with(|i| {
            i.incidents
                .iter()
                .filter(|x| &x.data.key == customer && !x.is_open())
                .filter_map(|x| i.surveys_pending.get(&x.id).map(|at| (*at, x)))
                .filter(|(at, _)| *at >= since)
                .max_by_key(|(at, _)| *at)
                .map(|(_, x)| x.clone())
        })))
    }

    fn answer_survey(&self, survey: Survey) -> BoxFuture<'_, StoreResult<bool>> {
        ready(Ok(self.with(|i| {
            let replayed = |s: &Survey| s.source.is_some() && s.source == survey.source;
            if i.surveys.iter().any(replayed) {
                return true;
            }
            if i.surveys_pending.remove(&survey.ticket).is_none() {
                return false;
            }
            i.surveys.push(survey);
            true
        })))
    }

    fn reopen_incident(&self, id: &str, _at: u64) -> BoxFuture<'_, StoreResult<Option<Incident>>> {
        ready(Ok(self.with(|i| {
            let inc = i
                .incidents
                .iter_mut()
                .find(|x| x.id == id && !x.is_open())?;
            inc.status = REOPENED.to_string();
            Some(inc.clone())
        })))
    }
}

impl Outages for MemoryStore {
    fn declare_outage(&self, new: NewOutage) -> BoxFuture<'_, StoreResult<(Outage, bool)>> {
        ready(Ok(self.with(|i| {
            let declared = |(o, source): &&mut (Outage, Option<String>)| {
                (new.source.is_some() && *source == new.source)
                    || (o.resolved_at.is_none() && o.zone == new.zone)
            };
            if let Some((o, _)) = i.outages.iter_mut().find(declared) {
                if o.resolved_at.is_none() {
                    o.cause = new.cause.clone();
                    o.eta = new.eta.clone();
                }
                return (o.clone(), false);
            }
            let o = Outage {
                id: outage_id(i.outages.len() as u64 + 1),
                zone: new.zone,
                cause: new.cause,
                eta: new.eta,
                started_at: new.at,
                resolved_at: None,
                reports: 0,
            };
            i.outages.push((o.clone(), new.source));
            (o, true)
        })))
    }

    fn resolve_outage(
        &self,
        zone: Option<&str>,
        source: Option<&str>,
        at: u64,
    ) -> BoxFuture<'_, StoreResult<Option<Outage>>> {
        ready(Ok(self.with(|i| {
            let (o, _) = i.outages.iter_mut().find(|(o, s)| {
                o.resolved_at.is_none()
                    && zone.is_none_or(|z| o.zone == z)
                    && source.is_none_or(|src| s.as_deref() == Some(src))
            })?;
            o.resolved_at = Some(at);
            Some(o.clone())
        })))
    }

    fn open_outages(&self) -> BoxFuture<'_, StoreResult<Vec<Outage>>> {
        ready(Ok(self.with(|i| {
            i.outages
                .iter()
                .filter(|(o, _)| o.resolved_at.is_none())
                .map(|(o, _)| o.clone())
                .collect()
        })))
    }

    fn link_report(
        &self,
        outage: &str,
        customer: &ConversationKey,
        _at: u64,
    ) -> BoxFuture<'_, StoreResult<bool>> {
        ready(Ok(self.with(|i| {
            let pair = (outage.to_string(), customer.clone());
            if i.linked.contains(&pair) {
                return false;
            }
            i.linked.push(pair);
            if let Some((o, _)) = i.outages.iter_mut().find(|(o, _)| o.id == outage) {
                o.reports += 1;
            }
            true
        })))
    }
}
