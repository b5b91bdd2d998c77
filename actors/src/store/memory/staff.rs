//! The in-memory records of staff's work: handoffs, tickets' follow-up, zone outages.

use super::super::handoff::{handoff_id, Claim, Ended, Handoff, Handoffs, NewHandoff, Owner};
use super::super::outages::{outage_id, NewOutage, Outage, Outages};
use super::super::tickets::{Survey, Tickets, REOPENED};
use super::{ready, MemoryStore};
use crate::model::{ConversationKey, Incident};
use crate::store::{BoxFuture, StoreResult};

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
