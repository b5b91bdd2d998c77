//! Registration: name, zone and plan in any order (what is missing is asked), corrections said
//! back, a summary and "¿Confirmo?" before the prospect is written.
//!
//! - [`draft`]: what a registration has collected, and how one message fills it.
//! - [`correction`]: "ay no, mejor en la sur" right after a registration.

mod correction;
mod draft;

pub use draft::RegisterDraft;
pub(crate) use draft::{fill_register, RegSlot};

use crate::brain::UnderstandContext;
use crate::dialogue::signals::{self, Signal};
use crate::engine::{phone_of, yes_no_buttons, ConversationState, Dialogue, Engine};
use crate::model::{
    Channel, ConversationKey, Intent, NewProspect, QuickReply, Reply, Understanding,
};
use crate::text;

/// How long after a registration "ay no, mejor en la sur" still corrects it.
const CORRECTION_SECS: u64 = 3600;
impl Engine {
    pub(crate) async fn continue_register(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        t: &str,
        u: &Understanding,
        ctx: &UnderstandContext,
        mut draft: RegisterDraft,
    ) -> Reply {
        let asked = draft.missing();
        let signal = signals::signal(t);
        // After "Todavía no llegamos a …": a yes takes the offer to call; anything else goes
        // on with the registration (another zone, a question...).
        if let Some(place) = draft.outside.take() {
            match signal {
                Some(Signal::Yes) => {
                    state.profile.name = draft.name.clone().or(state.profile.name.take());
                    return self.start_lead(state, key, &place);
                }
                Some(Signal::No) => {
                    state.dialogue = Dialogue::Registering(draft);
                    return self.pending_question(state).unwrap_or_default();
                }
                _ => {}
            }
        }
        if draft.confirming {
            // "no, mejor el de 50" is a correction, not a bare no.
            let e = &u.entities;
            let corrects = e.zone.is_some() || e.plan_mbps.is_some() || e.name.is_some();
            match signal {
                Some(Signal::Yes) => return self.finish_register(state, key, draft).await,
                Some(Signal::No) if !corrects => {
                    draft.confirming = false;
                    state.dialogue = Dialogue::Registering(draft);
                    return self.say("register_what_to_change", &[]);
                }
                _ => {}
            }
        }
        // A question in the middle ("¿cuánto cuesta el premium?") is answered, not taken as
        // an answer, unless it names the very thing asked ("¿llegan a la norte?" for the zone).
        // A place we do not reach, given for the zone: the offer to call when we do.
        if asked == Some(RegSlot::Zone) && u.entities.zone.is_none() {
            if let Some(place) = &u.entities.place {
                // Where we do not reach: the offer to call when we do, or another zone.
                let mut r = self.no_coverage(state, place, false);
                r.text = self.rules.finish(format!(
                    "{}\n{}",
                    r.text,
                    self.rules.render("lead_offer", &[])
                ));
                r.quick_replies = vec![
                    QuickReply::new("yes", "Sí, avísenme"),
                    QuickReply::new("no", "No, gracias"),
                ];
                draft.outside = Some(place.clone());
                state.dialogue = Dialogue::Registering(draft);
                return r;
            }
        }
        let digression = self.digression(t, u);
        let folded = text::fold(t);
        let asks_price = ["cuanto", "cuesta", "precio", "costo", "vale", "sale"]
            .iter()
            .any(|w| folded.split(' ').any(|x| x == *w));
        // A statement that fills a slot is an answer, whatever intent its words look like
        // ("Martha Quiroz" is a name, not a question about clients).
        let mut trial = draft.clone();
        fill_register(&mut trial, t, u, asked, &self.rules);
        // "¿y el de 50 cuánto sale?" asks a price; it does not choose the plan.
        if asks_price && trial.plan_mbps != draft.plan_mbps && asked != Some(RegSlot::Plan) {
            let price = Understanding {
                intent: Intent::Plans,
                ..u.clone()
            };
            return self
                .detour(state, key, t, &price, ctx, Dialogue::Registering(draft))
                .await;
        }
        let fills = trial != draft && !signals::is_question(t);
        let answers_slot = fills
            || match asked {
                Some(RegSlot::Zone) => u.entities.zone.is_some() && u.intent != Intent::Plans,
                Some(RegSlot::Plan) => u.entities.plan_mbps.is_some() && !asks_price,
                _ => false,
            };
        if let Some(d) = digression.filter(|_| !answers_slot) {
            return self
                .detour(state, key, t, &d, ctx, Dialogue::Registering(draft))
                .await;
        }
        let before = draft.clone();
        let changes = fill_register(&mut draft, t, u, asked, &self.rules);
        let filled = draft != before;
        if !filled {
            if self.switches(u) && u.intent != Intent::Register {
                return self
                    .detour(state, key, t, u, ctx, Dialogue::Registering(before))
                    .await;
            }
            if asked == Some(RegSlot::Zone) {
                state.dialogue = Dialogue::Registering(draft);
                return self.unknown_zone(t);
            }
            // Not an answer and nothing else we can do: say so and ask again.
            state.dialogue = Dialogue::Registering(draft);
            let q = self.pending_question(state).unwrap_or_default();
            return Reply {
                text: format!("{}\n\n{}", self.rules.render("not_an_answer", &[]), q.text),
                quick_replies: q.quick_replies,
                attachment: None,
            };
        }
        let mut reply = self.step_register(state, key, draft).await;
        if !changes.is_empty() {
            reply.text = self
                .rules
                .finish(format!("{}\n\n{}", changes.join("\n"), reply.text));
        }
        reply
    }

    pub(crate) fn unknown_zone(&self, t: &str) -> Reply {
        let input = text::truncate_chars(t, 40);
        let suggestions = self.rules.suggest_zones(t, 3);
        let hint = if suggestions.is_empty() {
            String::new()
        } else {
            let names: Vec<&str> = suggestions.iter().map(|z| z.name.as_str()).collect();
            format!(" ¿Quisiste decir {}?", names.join(" o "))
        };
        let mut r = self.say(
            "register_unknown_zone",
            &[
                ("input", input),
                ("suggestions", hint),
                ("zones", self.rules.zone_list()),
            ],
        );
        r.quick_replies = if suggestions.is_empty() {
            self.zone_buttons()
        } else {
            suggestions
                .iter()
                .map(|z| QuickReply::new(format!("zone:{}", z.name), z.name.clone()))
                .collect()
        };
        r
    }

    pub(crate) async fn step_register(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        draft: RegisterDraft,
    ) -> Reply {
        let Some(missing) = draft.missing() else {
            return self.confirm_register(state, draft);
        };
        let mut reply = self.register_question(&draft, missing);
        // Telegram does not give the phone: offer to share it with the first question asked.
        if missing == RegSlot::Zone
            && key.channel == Channel::Telegram
            && state.profile.phone.is_none()
        {
            reply.quick_replies.insert(
                0,
                QuickReply::new("contact:request", "📱 Compartir mi teléfono"),
            );
        }
        state.dialogue = Dialogue::Registering(draft);
        reply
    }

    /// Shows what will be saved and asks "¿Confirmo?": nothing is written before a yes.
    pub(crate) fn confirm_register(
        &self,
        state: &mut ConversationState,
        mut draft: RegisterDraft,
    ) -> Reply {
        draft.confirming = true;
        let r = self.register_summary(&draft);
        state.dialogue = Dialogue::Registering(draft);
        r
    }

    pub(crate) fn register_summary(&self, draft: &RegisterDraft) -> Reply {
        let plan = draft.plan_mbps.and_then(|m| self.rules.plan(m));
        let mut r = self.say(
            "register_confirm",
            &[
                ("name", draft.name.clone().unwrap_or_default()),
                ("zone", draft.zone.clone().unwrap_or_default()),
                ("plan", plan.map(|p| p.name.clone()).unwrap_or_default()),
                ("mbps", plan.map(|p| p.mbps.to_string()).unwrap_or_default()),
                (
                    "price",
                    plan.map(|p| p.price.to_string()).unwrap_or_default(),
                ),
            ],
        );
        r.quick_replies = yes_no_buttons();
        r
    }

    pub(crate) fn register_question(&self, draft: &RegisterDraft, slot: RegSlot) -> Reply {
        match slot {
            RegSlot::Name => {
                let mut r = self.say("register_ask_name", &[]);
                r.quick_replies = vec![QuickReply::new("cancel", "Cancelar")];
                r
            }
            RegSlot::Zone => {
                let name = draft.name.clone().unwrap_or_default();
                let first = name.split_whitespace().next().unwrap_or("").to_string();
                let mut r = self.say(
                    "register_ask_zone",
                    &[("name", first), ("zones", self.rules.zone_list())],
                );
                r.quick_replies = self.zone_buttons();
                r
            }
            RegSlot::Plan => {
                let mut r = self.say("register_ask_plan", &[("plans", self.rules.plan_lines())]);
                r.quick_replies = self.plan_buttons();
                r
            }
        }
    }

    pub(crate) async fn finish_register(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        draft: RegisterDraft,
    ) -> Reply {
        let (Some(name), Some(zone), Some(mbps)) = (&draft.name, &draft.zone, draft.plan_mbps)
        else {
            state.dialogue = Dialogue::Registering(draft);
            return self.with_menu(self.say("not_understood", &[]));
        };
        let Some(plan) = self.rules.plan(mbps).cloned() else {
            let mut d = draft.clone();
            d.plan_mbps = None;
            let r = self.register_question(&d, RegSlot::Plan);
            state.dialogue = Dialogue::Registering(d);
            return r;
        };
        let prospect = NewProspect {
            name: name.clone(),
            phone: state.profile.phone.clone().or_else(|| phone_of(key)),
            zone: zone.clone(),
            plan_mbps: plan.mbps,
            price: plan.price,
            key: key.clone(),
            outside_coverage: false,
            source: state.turn_source.clone(),
        };
        match self.store.save_prospect(prospect).await {
            Ok(saved) => {
                metrics::counter!("redsol_registrations_total", "channel" => key.channel.as_str())
                    .increment(1);
                state.dialogue = Dialogue::Idle;
                state.profile.name.get_or_insert_with(|| name.clone());
                state.last_registration = Some(crate::dialogue::state::LastRegistration {
                    id: saved.id.clone(),
                    zone: zone.clone(),
                    plan_mbps: plan.mbps,
                    until: crate::dialogue::state::unix_now() + CORRECTION_SECS,
                });
                let mut r = self.say(
                    "register_done",
                    &[
                        ("name", name.clone()),
                        ("zone", zone.clone()),
                        ("plan", plan.name.clone()),
                        ("mbps", plan.mbps.to_string()),
                        ("price", plan.price.to_string()),
                        ("id", saved.id),
                    ],
                );
                r.quick_replies = self.menu_buttons();
                r
            }
            Err(e) => {
                tracing::error!(error = %e, conversation = %key.opaque_id(), "could not save a prospect; the draft is kept");
                state.dialogue = Dialogue::Registering(draft);
                self.say("store_error", &[])
            }
        }
    }
}
