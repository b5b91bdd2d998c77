//! Zone outages. Staff declare one (`/falla Norte 2h corte de fibra`, the admin API) or network
//! monitoring does (Alertmanager); `/restablecido Norte` or a resolved alert ends it. While it is
//! open, a report from a customer of the zone (a known client there, or one who says the zone)
//! is linked to it instead of opening a ticket, and answered with the cause and the ETA; a
//! second report gets the same answer; greetings and coverage answers of the zone mention it.
//!
//! The open outages are kept in memory too (every declaration goes through the engine), so the
//! turns that mention them never wait for the store.

use crate::engine::{phone_of, ConversationState, Engine};
use crate::model::{ConversationKey, Reply};
use crate::rules::NoticeEvent;
use crate::store::outages::{NewOutage, Outage};
use crate::store::StoreResult;
use crate::text;

/// Staff commands of outages.
pub(crate) const DECLARE: &str = "/falla";
pub(crate) const RESOLVE: &str = "/restablecido";
pub(crate) const LIST: &str = "/fallas";

impl Engine {
    /// Loads the open outages (at start).
    pub async fn load_outages(&self) -> StoreResult<()> {
        let open = self.store.outages().open_outages().await?;
        self.set_outages(open);
        Ok(())
    }

    fn set_outages(&self, open: Vec<Outage>) {
        metrics::gauge!("redsol_outages_open").set(open.len() as f64);
        if let Ok(mut cached) = self.outages.write() {
            *cached = open;
        }
    }

    /// The open outage of a zone (as the config names it), if any.
    pub(crate) fn outage_in(&self, zone: &str) -> Option<Outage> {
        let cached = self.outages.read().ok()?;
        cached.iter().find(|o| o.zone == zone).cloned()
    }

    fn any_outage(&self) -> bool {
        self.outages.read().is_ok_and(|o| !o.is_empty())
    }

    /// The open outage with this id, if any.
    pub fn open_outage(&self, id: &str) -> Option<Outage> {
        self.open_outages().into_iter().find(|o| o.id == id)
    }

    /// The open outages, oldest first.
    pub(crate) fn open_outages(&self) -> Vec<Outage> {
        self.outages.read().map(|o| o.clone()).unwrap_or_default()
    }

    /// Declares a zone's outage (or updates the open one's cause and ETA); `Ok(None)` when the
    /// zone is not one of ours. With whether it is new.
    pub async fn declare_outage(
        &self,
        zone: &str,
        cause: &str,
        eta: &str,
        source: Option<String>,
    ) -> StoreResult<Option<(Outage, bool)>> {
        let Some(zone) = self.rules.find_zone(zone).map(|z| z.name.clone()) else {
            return Ok(None);
        };
        let new = NewOutage {
            zone,
            cause: text::truncate_chars(cause.trim(), 200),
            eta: text::truncate_chars(eta.trim(), 60),
            source,
            at: self.now(),
        };
        let before = self.outage_in(&new.zone);
        let declared = self.store.outages().declare_outage(new).await?;
        self.load_outages().await?;
        let (o, new) = &declared;
        tracing::warn!(event = "outage_declared", outage = %o.id, zone = %o.zone, new, "zone outage open");
        // The zone's clients are told once: of the outage, then of each new ETA.
        if *new {
            self.queue_outage_notices(o, NoticeEvent::Declared).await;
        } else if before.is_some_and(|b| b.id == o.id && b.eta != o.eta) {
            self.queue_outage_notices(o, NoticeEvent::EtaChanged).await;
        }
        Ok(Some(declared))
    }

    /// Ends a zone's open outage (by zone, or by what declared it).
    pub async fn resolve_outage(
        &self,
        zone: Option<&str>,
        source: Option<&str>,
    ) -> StoreResult<Option<Outage>> {
        let zone = zone.and_then(|z| self.rules.find_zone(z).map(|z| z.name.clone()));
        let resolved = self
            .store
            .outages()
            .resolve_outage(zone.as_deref(), source, self.now())
            .await?;
        self.load_outages().await?;
        if let Some(o) = &resolved {
            tracing::info!(event = "outage_resolved", outage = %o.id, zone = %o.zone, reports = o.reports, "zone outage over");
            self.queue_outage_notices(o, NoticeEvent::Restored).await;
        }
        Ok(resolved)
    }

    /// The zone of a customer as far as outages go: the one they said, else their client
    /// record's. Looked up only while some outage is open.
    pub(crate) async fn outage_for(
        &self,
        state: &ConversationState,
        key: &ConversationKey,
        said: Option<&str>,
    ) -> Option<Outage> {
        if !self.any_outage() {
            return None;
        }
        if let Some(o) = said.and_then(|z| self.outage_in(z)) {
            return Some(o);
        }
        let phone = state.profile.phone.clone().or_else(|| phone_of(key));
        let client = self.client_by_phone(phone.as_deref()).await?;
        self.outage_in(&client.zone)
    }

    /// A report from a customer of a zone in outage: linked to it (once), and answered with
    /// what is known.
    pub(crate) async fn report_in_outage(&self, key: &ConversationKey, o: &Outage) -> Reply {
        match self
            .store
            .outages()
            .link_report(&o.id, key, self.now())
            .await
        {
            Ok(true) => {
                metrics::counter!("redsol_incidents_linked_total").increment(1);
                // The store counted it; so does the copy here, without reading it back.
                if let Ok(mut cached) = self.outages.write() {
                    if let Some(c) = cached.iter_mut().find(|c| c.id == o.id) {
                        c.reports += 1;
                    }
                }
            }
            Ok(false) => {}
            Err(e) => {
                tracing::error!(error = %e, outage = %o.id, "could not link a report to an outage")
            }
        }
        self.with_menu(self.say("outage_known", &outage_values(o)))
    }

    /// What a greeting or a coverage answer adds for a zone in outage.
    pub(crate) fn outage_line(&self, zone: Option<&str>) -> Option<String> {
        let o = self.outage_in(zone?)?;
        Some(self.rules.render("outage_notice", &outage_values(&o)))
    }

    /// `/falla Norte 2h corte de fibra`, `/restablecido Norte`, `/fallas`, from staff.
    pub(crate) async fn outage_command(
        &self,
        state: &ConversationState,
        typed: &str,
    ) -> Option<Reply> {
        let mut words = typed.split_whitespace();
        let command = words.next()?;
        let rest: Vec<&str> = words.collect();
        let reply = match command {
            DECLARE => {
                let (Some(zone), Some(eta)) = (rest.first(), rest.get(1)) else {
                    return Some(self.say("outage_usage", &[]));
                };
                let cause = rest[2..].join(" ");
                let cause = if cause.is_empty() {
                    "en revisión".to_string()
                } else {
                    cause
                };
                match self
                    .declare_outage(zone, &cause, eta, state.turn_source.clone())
                    .await
                {
                    Ok(Some((o, _))) => self.say("outage_declared", &outage_values(&o)),
                    Ok(None) => self.say("outage_unknown_zone", &[("zone", zone.to_string())]),
                    Err(e) => {
                        tracing::error!(error = %e, "could not declare an outage");
                        self.say("store_error", &[])
                    }
                }
            }
            RESOLVE => {
                let Some(zone) = rest.first() else {
                    return Some(self.say("outage_usage", &[]));
                };
                match self.resolve_outage(Some(zone), None).await {
                    Ok(Some(o)) => self.say("outage_resolved", &outage_values(&o)),
                    Ok(None) => self.say("outage_none", &[("zone", zone.to_string())]),
                    Err(e) => {
                        tracing::error!(error = %e, "could not end an outage");
                        self.say("store_error", &[])
                    }
                }
            }
            LIST => self.outage_list(),
            _ => return None,
        };
        Some(reply)
    }

    /// The open outages with their linked reports (also part of staff stats).
    pub(crate) fn outage_list(&self) -> Reply {
        let open = self.open_outages();
        if open.is_empty() {
            return self.say("outage_list_none", &[]);
        }
        let lines: Vec<String> = open
            .iter()
            .map(|o| {
                format!(
                    "• {} · {} · {} · regreso {} · {} reportes",
                    o.id, o.zone, o.cause, o.eta, o.reports
                )
            })
            .collect();
        self.say("outage_list", &[("list", lines.join("\n"))])
    }
}

fn outage_values(o: &Outage) -> Vec<(&'static str, String)> {
    vec![
        ("id", o.id.clone()),
        ("zone", o.zone.clone()),
        ("cause", o.cause.clone()),
        ("eta", o.eta.clone()),
        ("reports", o.reports.to_string()),
    ]
}
