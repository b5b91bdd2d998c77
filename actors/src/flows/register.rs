//! Registration: name, zone and plan in any order (what is missing is asked), corrections said
//! back, a summary and "¿Confirmo?" before the prospect is written.

use crate::brain::UnderstandContext;
use crate::dialogue::signals::{self, Signal};
use crate::engine::{phone_of, yes_no_buttons, ConversationState, Dialogue, Engine};
use crate::model::{
    Channel, ConversationKey, Intent, NewProspect, QuickReply, Reply, Understanding,
};
use crate::rules::Rules;
use crate::text;
use serde::{Deserialize, Serialize};

/// What a registration has collected.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterDraft {
    pub name: Option<String>,
    pub zone: Option<String>,
    pub plan_mbps: Option<u32>,
    /// The summary was shown and "¿Confirmo?" asked: nothing is written before a yes.
    #[serde(default)]
    pub confirming: bool,
    /// A place we do not reach, given for the zone: the offer to call when we do was made.
    #[serde(default)]
    pub outside: Option<String>,
}

/// How long after a registration "ay no, mejor en la sur" still corrects it.
const CORRECTION_SECS: u64 = 3600;

/// Which slot a question was about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RegSlot {
    Name,
    Zone,
    Plan,
}

impl RegisterDraft {
    pub(crate) fn missing(&self) -> Option<RegSlot> {
        if self.name.is_none() {
            Some(RegSlot::Name)
        } else if self.zone.is_none() {
            Some(RegSlot::Zone)
        } else if self.plan_mbps.is_none() {
            Some(RegSlot::Plan)
        } else {
            None
        }
    }
}

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

/// Fills registration slots from one message: an entity for a slot already filled is a
/// correction. Returns what was corrected, worded for the customer.
pub(crate) fn fill_register(
    draft: &mut RegisterDraft,
    t: &str,
    u: &Understanding,
    asked: Option<RegSlot>,
    rules: &Rules,
) -> Vec<String> {
    let mut changes = Vec::new();
    let names = crate::nlu::Nlu::embedded();
    // A name typed in answer to the name question, or introduced ("a nombre de...").
    let typed_name = u.entities.name.clone().or_else(|| {
        (asked == Some(RegSlot::Name) && !draft.confirming)
            .then(|| names.names().plausible(t))
            .flatten()
            // A plausible name is a name, whatever intent its words look like.
            .filter(|_| signals::signal(t).is_none() && !signals::is_question(t))
    });
    if let Some(name) = typed_name {
        if draft.name.as_ref().is_some_and(|n| *n != name) && asked != Some(RegSlot::Name) {
            changes.push(format!("✏️ Cambié el nombre a {name}."));
        }
        draft.name = Some(name);
    }
    if let Some(zone) = &u.entities.zone {
        if draft.zone.as_ref().is_some_and(|z| z != zone) {
            changes.push(format!("✏️ Cambié tu zona a {zone}."));
        }
        draft.zone = Some(zone.clone());
    }
    let mut plan = u.entities.plan_mbps.filter(|m| rules.plan(*m).is_some());
    if plan.is_none() && (asked == Some(RegSlot::Plan) || draft.plan_mbps.is_some()) {
        plan = plan_by_words(t, rules);
    }
    if let Some(mbps) = plan {
        if draft.plan_mbps.is_some_and(|m| m != mbps) {
            if let Some(p) = rules.plan(mbps) {
                changes.push(format!(
                    "✏️ Cambié tu plan a {} {} Mbps, ${}/mes.",
                    p.name, p.mbps, p.price
                ));
            }
        }
        draft.plan_mbps = Some(mbps);
    }
    if !changes.is_empty() {
        draft.confirming = false;
    }
    changes
}

/// A plan named by how it compares: "el más barato", "el más rápido", "el de en medio".
pub(crate) fn plan_by_words(t: &str, rules: &Rules) -> Option<u32> {
    let folded = format!(" {} ", text::fold(t));
    let has = |w: &str| folded.contains(&format!(" {w} "));
    // A plan's speed said alone, at the plan question ("20", "el 50").
    let speed = folded
        .split(' ')
        .filter_map(|w| w.parse::<u32>().ok())
        .find(|n| rules.plan(*n).is_some());
    if speed.is_some() {
        speed
    } else if has("barato") || has("economico") || has("sencillo") || has("basico") {
        rules.plans.iter().min_by_key(|p| p.price).map(|p| p.mbps)
    } else if has("rapido") || has("completo") || has("mejor") && has("mas") {
        rules.plans.iter().max_by_key(|p| p.mbps).map(|p| p.mbps)
    } else if has("medio") || has("intermedio") {
        let mut by_price: Vec<_> = rules.plans.iter().collect();
        by_price.sort_by_key(|p| p.price);
        by_price.get(by_price.len() / 2).map(|p| p.mbps)
    } else {
        None
    }
}

impl Engine {
    /// Right after a registration, "ay no espera, mejor en la sur" corrects it: the change is
    /// recorded for staff against the saved prospect and said back.
    pub(crate) async fn correct_last_registration(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        t: &str,
        u: &Understanding,
    ) -> Option<Reply> {
        let last = state.last_registration.as_ref()?;
        if last.until <= crate::dialogue::state::unix_now() || signals::is_question(t) {
            return None;
        }
        let folded = format!(" {} ", text::fold(t));
        let cue = [
            " mejor ",
            " espera ",
            " perdon ",
            " me equivoque ",
            " cambia ",
            " corrige ",
            " no era ",
            " en realidad ",
            " siempre no ",
        ]
        .iter()
        .any(|c| folded.contains(c));
        let zone = u.entities.zone.clone().filter(|z| *z != last.zone);
        let plan = u
            .entities
            .plan_mbps
            .filter(|m| *m != last.plan_mbps)
            .and_then(|m| self.rules.plan(m).cloned());
        if !cue || (zone.is_none() && plan.is_none()) {
            return None;
        }
        let mut change = Vec::new();
        if let Some(z) = &zone {
            change.push(format!("zona {z}"));
        }
        if let Some(p) = &plan {
            change.push(format!("plan {} {} Mbps, ${}/mes", p.name, p.mbps, p.price));
        }
        let change = change.join(" y ");
        let id = last.id.clone();
        if !self
            .record_for_staff(key, "registration_correction", &format!("{id}: {change}"))
            .await
        {
            return Some(self.say("store_error", &[]));
        }
        if let Some(last) = state.last_registration.as_mut() {
            if let Some(z) = zone {
                last.zone = z;
            }
            if let Some(p) = plan {
                last.plan_mbps = p.mbps;
            }
        }
        Some(self.with_menu(self.say("registration_corrected", &[("id", id), ("change", change)])))
    }
}
