//! The periodic work of handoffs: conversations whose staff member went silent return to the
//! bot, requests nobody took in a day expire, and requests made out of hours get their card
//! once hours start.

use super::Addressed;
use crate::engine::Engine;
use crate::store::handoff::{Ended, Handoff};

/// How long a request waits for someone before it expires.
const EXPIRE_SECS: u64 = 24 * 3600;

/// Something the sweep did, with what to tell whom. `event` names it once (its notices' outbox
/// ids), so a sweep that runs twice sends nothing twice.
#[derive(Clone, Debug, PartialEq)]
pub struct SweepEvent {
    pub event: String,
    pub notices: Vec<Addressed>,
}

impl Engine {
    /// The handoff sweep at Unix time `now`.
    pub async fn handoff_sweep(&self, now: u64) -> Vec<SweepEvent> {
        let mut out = Vec::new();
        let open = match self.store.handoffs().open_handoffs().await {
            Ok(open) => open,
            Err(e) => {
                tracing::error!(error = %e, "could not list open handoffs");
                return out;
            }
        };
        let idle = self.rules.handoff.idle_release_mins * 60;
        let mut held = 0;
        for h in open {
            let event = match &h.owner {
                Some(_) if h.last_activity + idle <= now => {
                    self.end_swept(&h, Ended::Idle, now).await
                }
                Some(_) => {
                    held += 1;
                    None
                }
                None if h.requested_at + EXPIRE_SECS <= now => {
                    self.end_swept(&h, Ended::Expired, now).await
                }
                None if !h.carded && self.rules.handoff.open_at(now) => self.post_card(&h).await,
                None => None,
            };
            out.extend(event);
        }
        metrics::gauge!("redsol_handoffs_active").set(f64::from(held));
        out
    }

    async fn end_swept(&self, h: &Handoff, ended: Ended, now: u64) -> Option<SweepEvent> {
        match self
            .store
            .handoffs()
            .end_handoff(&h.id, ended, now, None)
            .await
        {
            Ok(Some(_)) => {}
            Ok(None) => return None,
            Err(e) => {
                tracing::error!(error = %e, "could not end a handoff");
                return None;
            }
        }
        metrics::counter!("redsol_handoffs_total", "channel" => h.customer.channel.as_str(), "outcome" => ended.as_str()).increment(1);
        self.note_handoff(&h.customer, false);
        let mut notices = vec![Addressed {
            key: h.customer.clone(),
            reply: match ended {
                Ended::Expired => self.say("handoff_expired", &[]),
                _ => self.say("handoff_released_customer", &[]),
            },
            edit: None,
        }];
        if let Some(owner) = &h.owner {
            notices.push(Addressed {
                key: owner.key.clone(),
                reply: self.say("handoff_idle_staff", &[("name", h.name.clone())]),
                edit: None,
            });
        }
        Some(SweepEvent {
            event: format!("handoff:{}:{}", h.id, ended.as_str()),
            notices,
        })
    }

    async fn post_card(&self, h: &Handoff) -> Option<SweepEvent> {
        match self.store.handoffs().mark_carded(&h.id).await {
            Ok(true) => {}
            Ok(false) => return None,
            Err(e) => {
                tracing::error!(error = %e, "could not mark a handoff's card posted");
                return None;
            }
        }
        let snapshot = self.customer_state(&h.customer).await;
        let card = self.card(h, &snapshot).await;
        let notices = self
            .staff_targets()
            .into_iter()
            .map(|key| Addressed {
                key,
                reply: card.clone(),
                edit: None,
            })
            .collect();
        Some(SweepEvent {
            event: format!("handoff:{}:card", h.id),
            notices,
        })
    }
}
