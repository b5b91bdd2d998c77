//! The decision of a turn once the message is understood and no flow holds it: the intent's
//! answer or flow (`Engine::dispatch`), and the requests recorded for staff.

use super::*;

impl Engine {
    /// Whether an utterance in the middle of a flow is clearly about something else.
    pub(crate) fn switches(&self, u: &Understanding) -> bool {
        u.confidence >= 0.6 && u.intent != Intent::OutOfScope
    }

    pub(crate) async fn dispatch(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        t: &str,
        u: &Understanding,
        ctx: &UnderstandContext,
    ) -> Reply {
        let missed = u.intent == Intent::OutOfScope || u.confidence < self.rules.min_confidence;
        state.misses = if missed {
            state.misses.saturating_add(1)
        } else {
            0
        };
        if missed && u.entities.place.is_some() && u.entities.zone.is_none() {
            return self.coverage(state, t, u);
        }
        if let Some(question) = self.clarification(u) {
            return question;
        }
        if u.intent != Intent::OutOfScope && u.confidence < self.rules.min_confidence {
            return self.missed(state, self.say("not_understood", &[]));
        }
        if u.intent.staff_only() && !self.rules.is_staff(key) {
            tracing::warn!(
                event = "staff_refused",
                channel = key.channel.as_str(),
                conversation = %key.opaque_id(),
                intent = u.intent.as_str(),
                "staff-only request refused to a non-staff user"
            );
            return self.with_menu(self.say("staff_only", &[]));
        }
        match u.intent {
            Intent::Greeting => self.greeting(state),
            Intent::Help => self.with_menu(self.say("menu", &[])),
            Intent::Plans => self.plans(),
            Intent::Coverage => self.coverage(state, t, u),
            Intent::Register => {
                let draft = RegisterDraft {
                    name: u
                        .entities
                        .name
                        .clone()
                        .or_else(|| state.profile.name.clone()),
                    zone: u.entities.zone.clone().or_else(|| state.last_zone.clone()),
                    plan_mbps: u.entities.plan_mbps.or(state.last_plan),
                    ..RegisterDraft::default()
                };
                self.step_register(state, key, draft).await
            }
            Intent::ReportIncident => {
                let said = u.entities.zone.as_deref();
                let outage = match said {
                    Some(zone) => self.outage_in(zone),
                    None => state.zone_outage.clone(),
                };
                if let Some(o) = outage {
                    return self.report_in_outage(key, &o).await;
                }
                let mut draft = IncidentDraft::default();
                fill_incident(&mut draft, t, u, None);
                self.step_incident(state, key, draft).await
            }
            Intent::IncidentStatus => {
                self.incident_status(key, u.entities.ticket.as_deref())
                    .await
            }
            Intent::Billing => self.billing(state, key, t).await,
            Intent::HumanAgent => {
                self.record_for_staff(state, key, "human_agent", t).await;
                self.ask_for_person(state, key).await
            }
            Intent::ChangePlan => {
                let plan_mbps = u
                    .entities
                    .plan_mbps
                    .filter(|m| self.rules.plan(*m).is_some());
                self.step_change_plan(state, plan_mbps)
            }
            Intent::CancelService => {
                state.dialogue = Dialogue::CancellingService {
                    reason: text::truncate_chars(t, 300),
                };
                let mut r = self.say("cancel_service_confirm", &[]);
                r.quick_replies = yes_no_buttons();
                r
            }
            Intent::Goodbye => Reply {
                text: self.rules.render("goodbye", &[]),
                quick_replies: Vec::new(),
                attachment: None,
            },
            Intent::OutOfScope => match self.brain.word(t, ctx).await {
                Some(text) => self.with_menu(Reply {
                    text: self.rules.finish(text),
                    quick_replies: Vec::new(),
                    attachment: None,
                }),
                None => self.missed(state, self.say("out_of_scope", &[])),
            },
            Intent::Stats => {
                state.private_reply = true;
                self.stats().await
            }
            Intent::Finance => {
                state.private_reply = true;
                self.finance().await
            }
            Intent::ClientSearch => {
                let query = reports::search_query(t);
                if query.is_empty() {
                    state.dialogue = Dialogue::AskingSearchQuery;
                    self.say("search_ask", &[])
                } else {
                    self.search(state, key, t).await
                }
            }
        }
    }

    /// Records a request for staff; whether it was saved (a failure is logged once here).
    pub(crate) async fn record_for_staff(
        &self,
        state: &ConversationState,
        key: &ConversationKey,
        kind: &str,
        text: &str,
    ) -> bool {
        let request = PendingRequest {
            kind: kind.into(),
            text: text::truncate_chars(text, 500),
            key: key.clone(),
            source: state.turn_source.clone(),
        };
        match self.store.record_request(request).await {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(error = %e, kind, conversation = %key.opaque_id(), "could not record a request for staff");
                false
            }
        }
    }
}
