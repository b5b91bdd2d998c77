//! A fault report: what happens, since when, whether the modem was restarted (each slot takes
//! only what answers it), then a summary with its priority and "¿Lo confirmo?".

use crate::brain::UnderstandContext;
use crate::dialogue::signals::{self, Signal};
use crate::engine::{phone_of, yes_no_buttons, ConversationState, Dialogue, Engine};
use crate::model::{
    Client, ConversationKey, IncidentKind, Intent, NewIncident, QuickReply, Reply, Understanding,
};
use crate::text;
use serde::{Deserialize, Serialize};

/// What an incident report has collected.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IncidentDraft {
    pub description: Option<String>,
    pub kind: Option<IncidentKind>,
    pub since: Option<String>,
    pub modem_restarted: Option<bool>,
    /// The summary was shown and "¿Confirmo?" asked: nothing is written before a yes.
    #[serde(default)]
    pub confirming: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IncSlot {
    What,
    Since,
    Modem,
}

impl IncidentDraft {
    pub(crate) fn missing(&self) -> Option<IncSlot> {
        if self.description.is_none() {
            Some(IncSlot::What)
        } else if self.since.is_none() {
            Some(IncSlot::Since)
        } else if self.modem_restarted.is_none() {
            Some(IncSlot::Modem)
        } else {
            None
        }
    }
}

impl Engine {
    pub(crate) async fn continue_incident(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        t: &str,
        u: &Understanding,
        ctx: &UnderstandContext,
        mut draft: IncidentDraft,
    ) -> Reply {
        if draft.confirming {
            match signals::signal(t) {
                Some(Signal::Yes) => return self.finish_incident(state, key, draft).await,
                Some(Signal::No) => {
                    draft.confirming = false;
                    draft.description = None;
                    draft.kind = None;
                    state.dialogue = Dialogue::Reporting(draft);
                    return self.incident_question(IncSlot::What);
                }
                _ => {}
            }
        }
        let asked = draft.missing();
        // A statement that answers is an answer ("sí, ya lo apagué y nada"); a question or
        // something else is a digression.
        let mut trial = draft.clone();
        fill_incident(&mut trial, t, u, asked);
        let answers = trial != draft && !signals::is_question(t);
        if let Some(d) = self.digression(t, u).filter(|_| !answers) {
            return self
                .detour(state, key, t, &d, ctx, Dialogue::Reporting(draft))
                .await;
        }
        let before = draft.clone();
        fill_incident(&mut draft, t, u, asked);
        if draft == before {
            if self.switches(u) && u.intent != Intent::ReportIncident {
                return self
                    .detour(state, key, t, u, ctx, Dialogue::Reporting(before))
                    .await;
            }
            state.dialogue = Dialogue::Reporting(draft);
            let q = self.pending_question(state).unwrap_or_default();
            return Reply {
                text: format!("{}\n\n{}", self.rules.render("not_an_answer", &[]), q.text),
                quick_replies: q.quick_replies,
                attachment: None,
            };
        }
        self.step_incident(state, key, draft).await
    }

    pub(crate) async fn step_incident(
        &self,
        state: &mut ConversationState,
        _key: &ConversationKey,
        mut draft: IncidentDraft,
    ) -> Reply {
        let Some(missing) = draft.missing() else {
            draft.confirming = true;
            let r = self.incident_summary(&draft);
            state.dialogue = Dialogue::Reporting(draft);
            return r;
        };
        let reply = self.incident_question(missing);
        state.dialogue = Dialogue::Reporting(draft);
        reply
    }

    pub(crate) fn incident_summary(&self, draft: &IncidentDraft) -> Reply {
        let description = draft.description.clone().unwrap_or_default();
        let priority = self.rules.priority_for(&description, draft.kind);
        let mut r = self.say(
            "incident_confirm",
            &[
                ("description", text::truncate_chars(&description, 120)),
                ("since", draft.since.clone().unwrap_or_default()),
                ("priority", priority.as_str().to_string()),
            ],
        );
        r.quick_replies = yes_no_buttons();
        r
    }

    pub(crate) fn incident_question(&self, slot: IncSlot) -> Reply {
        match slot {
            IncSlot::What => {
                let mut r = self.say("incident_ask_what", &[]);
                r.quick_replies = vec![
                    QuickReply::new("kind:no_service", "Sin internet"),
                    QuickReply::new("kind:slow", "Internet lento"),
                    QuickReply::new("kind:intermittent", "Se corta"),
                ];
                r
            }
            IncSlot::Since => {
                let mut r = self.say("incident_ask_since", &[]);
                r.quick_replies = vec![
                    QuickReply::new("since:hoy", "Hoy"),
                    QuickReply::new("since:ayer", "Desde ayer"),
                    QuickReply::new("since:varios dias", "Varios días"),
                ];
                r
            }
            IncSlot::Modem => {
                let mut r = self.say("incident_ask_modem", &[]);
                r.quick_replies = vec![
                    QuickReply::new("modem:yes", "Sí, ya"),
                    QuickReply::new("modem:no", "No"),
                ];
                r
            }
        }
    }

    pub(crate) async fn finish_incident(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        draft: IncidentDraft,
    ) -> Reply {
        let description = draft.description.clone().unwrap_or_default();
        let kind = draft.kind.unwrap_or(IncidentKind::Other);
        let priority = self.rules.priority_for(&description, Some(kind));
        let mut full = description.clone();
        if let Some(since) = &draft.since {
            if !text::fold(&full).contains(&text::fold(since)) {
                full.push_str(&format!(". Desde: {since}"));
            }
        }
        full.push_str(match draft.modem_restarted {
            Some(true) => ". Módem reiniciado: sí",
            Some(false) => ". Módem reiniciado: no",
            None => "",
        });
        let phone = state.profile.phone.clone().or_else(|| phone_of(key));
        let client = self.client_by_phone(phone.as_deref()).await;
        let incident = NewIncident {
            client_id: client.as_ref().map(|c| c.id.clone()),
            client_name: client
                .as_ref()
                .map(|c| c.name.clone())
                .or_else(|| state.profile.name.clone())
                .unwrap_or_else(|| "Sin registro".into()),
            kind,
            description: text::truncate_chars(&full, 500),
            priority,
            zone: client.as_ref().map(|c| c.zone.clone()),
            phone,
            key: key.clone(),
            source: state.turn_source.clone(),
        };
        match self.store.create_incident(incident).await {
            Ok(saved) => {
                metrics::counter!(
                    "redsol_incidents_total",
                    "channel" => key.channel.as_str(),
                    "priority" => priority.as_str()
                )
                .increment(1);
                state.dialogue = Dialogue::Idle;
                let mut r = self.say(
                    "incident_done",
                    &[
                        ("id", saved.id),
                        ("description", text::truncate_chars(&description, 120)),
                        ("priority", priority.as_str().to_string()),
                    ],
                );
                r.quick_replies = vec![
                    QuickReply::new("intent:incident_status", "Ver mis reportes"),
                    QuickReply::new("intent:help", "Menú"),
                ];
                r
            }
            Err(e) => {
                tracing::error!(error = %e, conversation = %key.opaque_id(), "could not save an incident; the draft is kept");
                state.dialogue = Dialogue::Reporting(draft);
                self.say("store_error", &[])
            }
        }
    }

    pub(crate) async fn client_by_phone(&self, phone: Option<&str>) -> Option<Client> {
        let last10 = text::last10(phone?)?;
        let clients = self.store.clients().await.ok()?;
        clients
            .iter()
            .find(|c| c.phone.ends_with(last10.as_str()))
            .cloned()
    }
}

/// Fills incident slots from one message, each only with what answers it: a description
/// that describes a fault, a date or duration for "since when", a yes or no for the modem.
pub(crate) fn fill_incident(
    draft: &mut IncidentDraft,
    t: &str,
    u: &Understanding,
    asked: Option<IncSlot>,
) {
    let e = &u.entities;
    let folded = text::fold(t);
    let chosen = folded
        .strip_prefix("kind ")
        .and_then(|k| IncidentKind::parse(&k.replace(' ', "_")));
    // A report that says what fails is its description, even in words the kinds do not
    // know ("el modem tiene la luz roja prendida"); "quiero reportar una falla" is not.
    let says_what = u.intent == Intent::ReportIncident
        && !is_bare_report_request(&folded)
        && match asked {
            Some(IncSlot::What) => t.split_whitespace().count() >= 2,
            // Unasked, it must name a symptom: "tengo un problema con mi internet" does not.
            None => t.split_whitespace().count() >= 4 && names_a_symptom(&folded),
            _ => false,
        };
    let describes =
        chosen.is_some() || e.incident_kind.is_some_and(|k| k != IncidentKind::Other) || says_what;
    if describes && (draft.description.is_none() || asked != Some(IncSlot::What)) {
        let fresh = draft.description.is_none();
        if let Some(kind) = chosen {
            draft.kind = Some(kind);
            draft.description = Some(kind.label_es().to_string());
        } else if fresh || e.incident_kind.is_some_and(|k| k != IncidentKind::Other) {
            let text = text::truncate_chars(t, 300);
            draft.description = Some(match (&draft.description, fresh) {
                (Some(old), false) if !old.contains(&text) => {
                    text::truncate_chars(&format!("{old}. {text}"), 300)
                }
                _ => text,
            });
            draft.kind = match (draft.kind, e.incident_kind) {
                (Some(IncidentKind::NoService), _) => Some(IncidentKind::NoService),
                (_, Some(k)) if k != IncidentKind::Other => Some(k),
                (k, _) => k.or(Some(IncidentKind::Other)),
            };
        }
        draft.confirming = false;
    }
    if draft.since.is_none() || asked == Some(IncSlot::Since) {
        // The answer to "¿desde cuándo?" is kept whole ("desde hoy en la mañana").
        if asked == Some(IncSlot::Since) && signals::is_when(t) {
            draft.since = Some(text::truncate_chars(t, 60));
        } else if let Some(since) = &e.since {
            draft.since = Some(since.clone());
        }
    }
    if draft.modem_restarted.is_none() {
        if let Some(r) = e.modem_restarted {
            draft.modem_restarted = Some(r);
        } else if asked == Some(IncSlot::Modem) {
            let answer = match signals::signal(t) {
                Some(Signal::Yes) => Some(true),
                Some(Signal::No) => Some(false),
                // "sí ya lo reinicié": a short statement, not a question with a "sí" in it.
                _ if t.split_whitespace().count() <= 6 && !signals::is_question(t) => yes_no(t),
                _ => None,
            };
            if let Some(yes) = answer {
                draft.modem_restarted = Some(yes);
            }
        }
    }
}

/// "quiero reportar una falla": asks to report, says nothing of the fault.
/// Whether a folded message names what is wrong (the device, a light, slowness, a drop), not
/// only that something is.
fn names_a_symptom(folded: &str) -> bool {
    const SYMPTOMS: &[&str] = &[
        "modem",
        "router",
        "antena",
        "luz",
        "luces",
        "foco",
        "foquito",
        "roja",
        "rojo",
        "parpadea",
        "lento",
        "lenta",
        "jala",
        "cae",
        "cayo",
        "corta",
        "senal",
        "cable",
        "wifi",
        "prende",
        "apagado",
        "apagada",
        "intermitente",
        "nada",
    ];
    folded.split(' ').any(|w| SYMPTOMS.contains(&w))
}

pub(crate) fn is_bare_report_request(folded: &str) -> bool {
    let words: Vec<&str> = folded.split(' ').collect();
    let fault_words = [
        "internet", "senal", "lento", "lenta", "jala", "funciona", "sirve", "corta", "cae", "cayo",
        "modem", "luz", "cable", "wifi", "conexion", "servicio", "va", "fue", "antena", "red",
    ];
    words.len() <= 8 && !words.iter().any(|w| fault_words.contains(w))
}

/// "sí", "ya", "simon" → true; "no", "nel", "todavía no" → false.
pub(crate) fn yes_no(t: &str) -> Option<bool> {
    let folded = text::fold(t);
    let words: Vec<&str> = folded.split(' ').collect();
    let no = ["no", "nel", "nop", "nope", "negativo", "tampoco", "nunca"];
    let yes = [
        "si",
        "ya",
        "simon",
        "sip",
        "claro",
        "afirmativo",
        "obvio",
        "yes",
        "sii",
        "aja",
    ];
    if words.iter().any(|w| no.contains(w)) {
        Some(false)
    } else if words.iter().any(|w| yes.contains(w)) {
        Some(true)
    } else {
        None
    }
}
