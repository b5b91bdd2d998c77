//! Answers that need no form: the greeting with the menu, the plans, and coverage (one of our
//! zones, a place we do not reach yet, or the question which zone).

use crate::engine::{ConversationState, Dialogue, Engine};
use crate::model::{QuickReply, Reply, Understanding};
use crate::text;

impl Engine {
    pub(crate) fn greeting(&self, state: &ConversationState) -> Reply {
        let name = state
            .profile
            .name
            .as_deref()
            .and_then(|n| n.split_whitespace().next())
            .map(|n| format!(", {n}"))
            .unwrap_or_default();
        let greeting = self.rules.render("greeting", &[("name", name)]);
        let menu = self.rules.render("menu", &[]);
        // A customer of a zone in outage hears of it first thing.
        let outage = state
            .zone_outage
            .as_ref()
            .and_then(|o| self.outage_line(Some(&o.zone)))
            .map(|line| format!("{line}\n"))
            .unwrap_or_default();
        self.with_menu(Reply {
            text: text::truncate_chars(
                &format!("{greeting}\n{outage}\n{menu}"),
                self.rules.limits.max_reply_chars,
            ),
            quick_replies: Vec::new(),
            attachment: None,
        })
    }

    pub(crate) fn plans(&self) -> Reply {
        let mut r = self.say("plans", &[("plans", self.rules.plan_lines())]);
        r.quick_replies = vec![
            QuickReply::new("intent:register", "Contratar"),
            QuickReply::new("intent:coverage", "Cobertura"),
            QuickReply::new("intent:help", "Menú"),
        ];
        r
    }

    pub(crate) fn coverage(
        &self,
        state: &mut ConversationState,
        t: &str,
        u: &Understanding,
    ) -> Reply {
        let zone = u
            .entities
            .zone
            .clone()
            .or_else(|| self.rules.find_zone(t).map(|z| z.name.clone()));
        match zone {
            Some(zone) => {
                state.dialogue = Dialogue::Idle;
                let outage = self.outage_line(Some(&zone));
                let mut r = self.say("coverage_yes", &[("zone", zone)]);
                if let Some(line) = outage {
                    r.text = self.rules.finish(format!("{}\n{line}", r.text));
                }
                r.quick_replies = vec![
                    QuickReply::new("intent:register", "Contratar"),
                    QuickReply::new("intent:plans", "Ver planes"),
                ];
                r
            }
            None if u.entities.place.is_some() => {
                state.dialogue = Dialogue::Idle;
                let place = u.entities.place.clone().unwrap_or_default();
                self.no_coverage(state, &place, true)
            }
            None => {
                let place = coverage_place(t);
                if matches!(state.dialogue, Dialogue::Idle) && place.is_none() {
                    state.dialogue = Dialogue::AskingCoverageZone;
                    let mut r = self.say("coverage_ask", &[("zones", self.rules.zone_list())]);
                    r.quick_replies = self.zone_buttons();
                    return r;
                }
                state.dialogue = Dialogue::Idle;
                let place = place.unwrap_or_else(|| text::truncate_chars(t, 40));
                self.with_menu(self.say(
                    "coverage_no",
                    &[("place", place), ("zones", self.rules.zone_list())],
                ))
            }
        }
    }
}

/// A place named in a coverage question that is not one of our zones ("¿llegan a León?").
fn coverage_place(t: &str) -> Option<String> {
    let words: Vec<&str> = t
        .split(|c: char| !(c.is_alphanumeric() || c == ' '))
        .flat_map(str::split_whitespace)
        .collect();
    let folded: Vec<String> = words.iter().map(|w| text::fold(w)).collect();
    let pos = folded
        .iter()
        .rposition(|w| matches!(w.as_str(), "a" | "en" | "por" | "hasta" | "colonia" | "col"))?;
    // "¿a qué zonas llegan?" names no place: it asks which.
    const ASKING: &[&str] = &[
        "que",
        "cual",
        "cuales",
        "zonas",
        "donde",
        "llegan",
        "lugares",
        "colonias",
        "ustedes",
        "servicio",
        "internet",
        "cobertura",
        "partes",
    ];
    if folded
        .iter()
        .any(|f| matches!(f.as_str(), "zonas" | "donde" | "cuales" | "lugares"))
    {
        return None;
    }
    let place: Vec<&str> = words[pos + 1..]
        .iter()
        .zip(&folded[pos + 1..])
        .filter(|(_, f)| !matches!(f.as_str(), "la" | "el" | "los" | "las" | "mi" | "zona"))
        .map(|(w, _)| *w)
        .take(4)
        .collect();
    let asks = folded[pos + 1..]
        .iter()
        .any(|f| ASKING.contains(&f.as_str()));
    (!place.is_empty() && !asks).then(|| place.join(" "))
}
