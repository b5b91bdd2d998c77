//! Messages a running flow did not ask for: a question in the middle (answered, then the
//! flow's question again), another form's request (kept for later), two close readings (a
//! question with buttons), a phone said in passing.

use super::signals;
use super::state::{ConversationState, Dialogue, FollowUp};
use crate::brain::UnderstandContext;
use crate::engine::Engine;
use crate::model::{ConversationKey, Intent, QuickReply, Reply, Understanding};
use crate::text;

impl Engine {
    /// The question a message asks in the middle of a flow, if it asks one: something to
    /// answer before the flow's own question. A question about a place is about coverage
    /// ("¿y llegan al Bajío?" while the plan is asked); a statement that names a slot's value
    /// ("es la zona sur") is an answer or a correction, not a digression.
    pub(crate) fn digression(&self, t: &str, u: &Understanding) -> Option<Understanding> {
        if u.intent.staff_only() && u.confidence >= 0.6 {
            return Some(u.clone());
        }
        let asking = signals::is_question(t);
        let place = u.entities.zone.is_some() || u.entities.place.is_some();
        if asking && place && u.intent != Intent::Plans {
            return Some(Understanding {
                intent: Intent::Coverage,
                ..u.clone()
            });
        }
        let informational = matches!(
            u.intent,
            Intent::Plans | Intent::Coverage | Intent::Help | Intent::IncidentStatus
        ) && u.confidence >= 0.6;
        let e = &u.entities;
        let names_a_slot = e.zone.is_some() || e.plan_mbps.is_some() || e.name.is_some();
        (informational && (asking || !names_a_slot)).then(|| u.clone())
    }

    /// Answers what a message asks in the middle of a flow, and asks the flow's question
    /// again. A request that starts another flow is kept for when this one ends.
    pub(crate) async fn detour(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        t: &str,
        u: &Understanding,
        ctx: &UnderstandContext,
        flow: Dialogue,
    ) -> Reply {
        match u.intent {
            Intent::Register
            | Intent::ReportIncident
            | Intent::ChangePlan
            | Intent::CancelService => {
                state.dialogue = flow;
                let topic = self.rules.topic(u.intent);
                if !state.followups.iter().any(|f| f.intent == u.intent) {
                    state.followups.push(FollowUp {
                        intent: u.intent,
                        text: text::truncate_chars(t, 300),
                    });
                }
                let later = self.rules.render("followup_later", &[("topic", topic)]);
                let q = self.pending_question(state).unwrap_or_default();
                Reply {
                    text: self.rules.finish(format!("{later}\n\n{}", q.text)),
                    quick_replies: q.quick_replies,
                    attachment: None,
                }
            }
            Intent::Goodbye | Intent::OutOfScope => self.dispatch(state, key, t, u, ctx).await,
            _ => {
                let mut r = self.dispatch(state, key, t, u, ctx).await;
                // No offer to call from a place we do not reach while another form runs.
                if let Dialogue::Lead(lead) = std::mem::take(&mut state.dialogue) {
                    r = self.no_coverage(state, &lead.place, false);
                }
                state.dialogue = flow;
                if let Some(q) = self.pending_question(state) {
                    r.text = text::truncate_chars(
                        &format!("{}\n\n{}", r.text, q.text),
                        self.rules.limits.max_reply_chars,
                    );
                    r.quick_replies = q.quick_replies;
                }
                r
            }
        }
    }

    /// Two close candidates get a question with a button for each, not a guess.
    /// Two close readings the message itself settles: a zone said with a plan, read as a plan
    /// change or a sign-up, is a sign-up (a client's plan change needs no zone: we know it).
    pub(crate) fn settled(&self, u: &Understanding) -> Option<Understanding> {
        let (second, p) = u.runner_up?;
        let pair =
            |a: Intent, b: Intent| (u.intent == a && second == b) || (u.intent == b && second == a);
        let close = p >= 0.2 && u.confidence - p < 0.4;
        let sign_up = u.intent == Intent::ChangePlan
            && pair(Intent::ChangePlan, Intent::Register)
            && u.entities.zone.is_some();
        // Either reading is about buying a plan; the zone says which.
        (close && sign_up).then(|| Understanding {
            intent: Intent::Register,
            confidence: (u.confidence + p).min(1.0),
            runner_up: Some((u.intent, u.confidence)),
            ..u.clone()
        })
    }

    pub(crate) fn clarification(&self, u: &Understanding) -> Option<Reply> {
        let (second, p) = u.runner_up?;
        let actionable = |i: Intent| {
            !matches!(
                i,
                Intent::Greeting | Intent::Goodbye | Intent::Help | Intent::OutOfScope
            ) && !i.staff_only()
        };
        let close = u.confidence < 0.6 && p >= 0.2 && u.confidence - p < 0.3;
        // "Zona: Sur, Plan: 20 Mbps" carries what a registration needs: the form asks to
        // confirm anyway, so no question first.
        let e = &u.entities;
        let decided = u.intent == Intent::Register && (e.zone.is_some() || e.plan_mbps.is_some());
        if !close || decided || !actionable(u.intent) || !actionable(second) {
            return None;
        }
        let (a, b) = (self.rules.topic(u.intent), self.rules.topic(second));
        let button = |i: Intent, topic: &str| {
            let mut title: Vec<char> = topic.chars().collect();
            if let Some(c) = title.first_mut() {
                *c = c.to_uppercase().next().unwrap_or(*c);
            }
            QuickReply::new(format!("intent:{i}"), title.into_iter().collect::<String>())
        };
        let mut r = self.say("clarify", &[("first", a.clone()), ("second", b.clone())]);
        r.quick_replies = vec![button(u.intent, &a), button(second, &b)];
        Some(r)
    }

    /// Answers a question asked in the middle of a flow. Informational questions are answered
    /// and the flow goes on; another flow replaces this one.
    /// Whether a message with a phone in it does nothing but give it: nothing else understood,
    /// or the customer's own number said as such ("mi cel es…", "márquenme al…") with no
    /// request but a misread one (a phone looks like a staff search).
    pub(crate) fn only_gives_a_phone(&self, t: &str, u: &Understanding) -> bool {
        let folded = format!(" {} ", text::fold(t));
        let own = [
            " mi cel ",
            " mi celular ",
            " mi numero ",
            " mi telefono ",
            " mi tel ",
            " mi whats ",
            " mi whatsapp ",
            " marquen al ",
            " marquenme al ",
            " llamenme al ",
            " me marcan ",
        ]
        .iter()
        .any(|cue| folded.contains(cue));
        let unsure = u.intent == Intent::OutOfScope || u.confidence < self.rules.min_confidence;
        let e = &u.entities;
        let nothing_else = e.zone.is_none() && e.plan_mbps.is_none() && e.name.is_none();
        // "mi número es … por si me marcan" gives the number a call would need.
        let request = !unsure
            && !u.intent.staff_only()
            && !matches!(
                u.intent,
                Intent::Greeting | Intent::Help | Intent::Goodbye | Intent::HumanAgent
            );
        nothing_else && (unsure || (own && !request))
    }
}
