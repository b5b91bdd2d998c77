//! What a registration has collected, and how one message fills it: an entity for a slot
//! already filled is a correction.

use crate::dialogue::signals;
use crate::model::Understanding;
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
    let folded = text::fold(t);
    let has = |w: &str| text::has_phrase(&folded, w);
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
