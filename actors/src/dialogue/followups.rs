//! Several requests in one message: the message is cut into clauses (sentences, and before
//! "además", "también", "otra cosa"...), each clause understood; the first request is served
//! now, the others are kept ("📌 Después vemos tu cambio de plan") and served when the running
//! flow ends, or at once when the first needed no form.

use super::state::{ConversationState, Dialogue, FollowUp};
use crate::brain::UnderstandContext;
use crate::engine::Engine;
use crate::model::{ConversationKey, Intent, Reply};
use crate::text;

/// Words that start another request within a message.
const CONNECTORS: &[&str] = &[
    "ademas",
    "tambien",
    "aparte",
    "asimismo",
    "igual",
    "otra",
    "x",
    "por",
    "pd",
    "de",
    "aprovechando",
];

/// The clauses of a message: sentences, and the parts before a connector ("además", "otra
/// cosa", "por cierto"). Together they are the whole message.
pub fn clauses(message: &str) -> Vec<String> {
    let mut out: Vec<Vec<&str>> = vec![Vec::new()];
    let words: Vec<&str> = message.split_whitespace().collect();
    for (i, w) in words.iter().enumerate() {
        let f = text::fold(w);
        let next = words.get(i + 1).map(|n| text::fold(n)).unwrap_or_default();
        let connector = CONNECTORS.contains(&f.as_str())
            && match f.as_str() {
                "otra" => next == "cosa" || next == "pregunta",
                "por" | "x" => next == "cierto",
                "igual" => next == "quiero" || next == "queria",
                // "…y de paso quiero subirme al de 100".
                "de" => next == "paso",
                _ => true,
            };
        if connector && out.last().is_some_and(|c| !c.is_empty()) {
            out.push(Vec::new());
        }
        if let Some(last) = out.last_mut() {
            last.push(w);
        }
        if w.ends_with(['.', '?', '!', ';']) {
            out.push(Vec::new());
        }
    }
    out.into_iter()
        .filter(|c| !c.is_empty())
        .map(|c| c.join(" "))
        .collect()
}

/// Intents worth keeping for later: something to do or to answer, not small talk.
fn actionable(intent: Intent) -> bool {
    !matches!(
        intent,
        Intent::Greeting | Intent::Goodbye | Intent::Help | Intent::OutOfScope
    )
}

impl Engine {
    /// Splits a message holding several requests: what to answer now (the first request
    /// with the clauses that are not another request) and the other requests, each once, in
    /// the order said. A message with one request is answered whole.
    pub(crate) async fn split_requests(
        &self,
        message: &str,
        ctx: &UnderstandContext,
    ) -> (String, Vec<FollowUp>) {
        let parts = clauses(message);
        if parts.len() < 2 {
            return (message.to_string(), Vec::new());
        }
        let mut first: Option<Intent> = None;
        let mut now: Vec<&str> = Vec::new();
        let mut later: Vec<FollowUp> = Vec::new();
        for part in &parts {
            let intent = if part.split_whitespace().count() >= 3 {
                let u = self.brain.understand(part, ctx).await;
                (actionable(u.intent) && u.confidence >= 0.7).then_some(u.intent)
            } else {
                None
            };
            match (intent, first) {
                (Some(i), None) => {
                    first = Some(i);
                    now.push(part);
                }
                (Some(i), Some(f)) if i != f && !later.iter().any(|l| l.intent == i) => {
                    later.push(FollowUp {
                        intent: i,
                        text: part.clone(),
                    });
                }
                _ => now.push(part),
            }
        }
        if later.is_empty() {
            return (message.to_string(), later);
        }
        (now.join(" "), later)
    }

    /// Keeps the other requests of a message, or serves them at once when nothing is running.
    pub(crate) async fn queue_or_serve(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        mut reply: Reply,
        others: Vec<FollowUp>,
    ) -> Reply {
        for f in others {
            if !state.followups.iter().any(|g| g.intent == f.intent) {
                let topic = self.rules.topic(f.intent);
                reply.text = format!(
                    "{}\n\n{}",
                    reply.text,
                    self.rules.render("followup_later", &[("topic", topic)])
                );
                state.followups.push(f);
            }
        }
        self.serve_followup(state, key, reply).await
    }

    /// When nothing is running, serves the next request kept for later, after `reply`.
    pub(crate) async fn serve_followup(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        reply: Reply,
    ) -> Reply {
        if !matches!(state.dialogue, Dialogue::Idle) || state.followups.is_empty() {
            return reply;
        }
        let f = state.followups.remove(0);
        let ctx = super::state::context_of(state);
        let u = self.brain.understand(&f.text, &ctx).await;
        state.remember(&u);
        let u = crate::model::Understanding {
            intent: f.intent,
            ..u
        };
        let next = self.dispatch(state, key, &f.text, &u, &ctx).await;
        let topic = self.rules.topic(f.intent);
        let text = format!(
            "{}\n\n{}\n{}",
            // The reply already says it will come later: drop that line now that it is here.
            reply
                .text
                .replace(
                    &self
                        .rules
                        .render("followup_later", &[("topic", topic.clone())]),
                    ""
                )
                .trim_end(),
            self.rules.render("followup_now", &[("topic", topic)]),
            next.text
        );
        Reply {
            text: self.rules.finish(text),
            quick_replies: next.quick_replies,
            attachment: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::clauses;

    #[test]
    fn a_message_is_cut_where_a_new_request_starts() {
        let c = clauses(
            "no me jala el internet desde ayer ademas quiero cambiarme a un plan mas rapido",
        );
        assert_eq!(c.len(), 2, "{c:?}");
        assert!(c[1].starts_with("ademas"));
        let c = clauses("cuanto cuesta el de 50? y llegan a la sur?");
        assert_eq!(c.len(), 2, "{c:?}");
        assert_eq!(clauses("hola"), ["hola"]);
        let c = clauses("no tengo internet desde ayer y de paso quiero subirme al de 100");
        assert_eq!(c.len(), 2, "{c:?}");
        assert!(c[1].starts_with("de paso"));
    }
}
