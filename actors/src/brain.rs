//! The seam between the conversation engine and language understanding.
//!
//! - [`OfflineBrain`] wraps the offline NLU and answers at once.
//! - [`HybridBrain`] runs the offline NLU first and asks a [`LanguageModel`] (Gemini, in the
//!   binary) only when the NLU is unsure or an entity is missing. What the model says is
//!   validated against the rules before it is used, and the model is given a per-turn budget:
//!   past it, or on any failure, the offline result is the answer. A customer never waits
//!   longer than the budget and never gets less than the offline bot would give.
//! - Wording (optional): the model may phrase the answer to an out-of-scope question, grounded
//!   in the config facts; an answer that mentions a price not in config, a ticket id or runs
//!   too long is thrown away for the template.

use crate::model::{Entities, IncidentKind, Intent, Source, Understanding};
use crate::nlu::Nlu;
use crate::rules::Rules;
use crate::store::BoxFuture;
use crate::text;
use serde::Deserialize;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// What the engine knows of the conversation when it asks for understanding.
#[derive(Clone, Debug, Default)]
pub struct UnderstandContext {
    /// The last turns, oldest first: (user text, bot reply).
    pub history: Vec<(String, String)>,
    /// When the turn began; a brain's calls within one turn share one budget from then.
    pub started: Option<Instant>,
}

/// Turns an utterance into an intent and entities, and may word a free answer.
pub trait Brain: Send + Sync + 'static {
    fn understand<'a>(
        &'a self,
        text: &'a str,
        context: &'a UnderstandContext,
    ) -> BoxFuture<'a, Understanding>;

    /// A short answer to a question the rules have no template for, or `None` to use the
    /// template. The default brain has no wording.
    fn word<'a>(
        &'a self,
        _text: &'a str,
        _context: &'a UnderstandContext,
    ) -> BoxFuture<'a, Option<String>> {
        Box::pin(std::future::ready(None))
    }
}

/// The offline brain: the rules-based NLU, answering at once.
pub struct OfflineBrain {
    nlu: Arc<Nlu>,
    rules: Arc<Rules>,
}

impl OfflineBrain {
    pub fn new(rules: Arc<Rules>) -> Self {
        Self {
            nlu: Nlu::embedded(),
            rules,
        }
    }

    fn understand_now(&self, text: &str) -> Understanding {
        self.nlu.understand(text, &self.rules)
    }
}

impl Brain for OfflineBrain {
    fn understand<'a>(
        &'a self,
        text: &'a str,
        _context: &'a UnderstandContext,
    ) -> BoxFuture<'a, Understanding> {
        Box::pin(std::future::ready(self.understand_now(text)))
    }
}

/// The entities as a language model returns them: unvalidated.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct ModelEntities {
    pub zone: Option<String>,
    pub plan_mbps: Option<f64>,
    pub incident_kind: Option<String>,
    pub name: Option<String>,
    pub since: Option<String>,
    pub modem_restarted: Option<bool>,
}

/// A language model's understanding of one utterance: unvalidated.
#[derive(Clone, Debug, Deserialize, PartialEq)]
pub struct ModelAnswer {
    pub intent: String,
    #[serde(default)]
    pub confidence: f32,
    #[serde(default)]
    pub entities: ModelEntities,
}

/// Why a language model gave no answer. `outcome` is a short label for logs and metrics
/// (`timeout`, `unavailable`, `breaker_open`, ...); `detail` never carries a secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModelError {
    pub outcome: &'static str,
    pub detail: String,
}

impl std::fmt::Display for ModelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.detail, self.outcome)
    }
}

impl std::error::Error for ModelError {}

/// A request to a language model: the utterance and the last turns.
#[derive(Clone, Debug)]
pub struct ModelRequest {
    pub text: String,
    pub history: Vec<(String, String)>,
    /// When the conversation stops waiting: the model client must not retry past it.
    pub deadline: Instant,
}

/// The network side of the hybrid brain (Gemini in the binary). Implementations own the
/// timeouts, retries, concurrency limit and circuit breaker; the hybrid brain only bounds the
/// whole call by the turn budget.
pub trait LanguageModel: Send + Sync + 'static {
    /// Classifies the utterance into the contract's intents and entities.
    fn classify<'a>(
        &'a self,
        request: &'a ModelRequest,
    ) -> BoxFuture<'a, Result<ModelAnswer, ModelError>>;

    /// Words a short answer grounded in the config facts, at most `max_chars` long.
    fn word<'a>(
        &'a self,
        request: &'a ModelRequest,
        max_chars: usize,
    ) -> BoxFuture<'a, Result<String, ModelError>>;
}

/// When and how long the hybrid brain asks the model (`[brain]` in config).
#[derive(Clone, Debug)]
pub struct HybridTuning {
    /// Ask the model when the offline confidence is below this.
    pub ask_below: f32,
    /// Always ask the model, whatever the offline confidence (`redsol classify --llm`).
    pub always_ask: bool,
    /// How long a turn waits for the model before it answers with the offline result.
    pub turn_budget: Duration,
    /// Whether the model words answers to out-of-scope questions.
    pub wording: bool,
    /// The longest worded answer, in characters.
    pub wording_max_chars: usize,
    /// Facts beyond the rules that a worded answer may use (hours...): their numbers are
    /// allowed in it.
    pub facts: Vec<String>,
}

/// What the hybrid brain asks the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ask {
    Nothing,
    /// The intent and the entities: the NLU is unsure.
    Intent,
    /// Only the entities: the NLU is sure of the intent but found no zone, plan or fault.
    Entities,
}

/// Offline NLU first, the language model when it is unsure; see the module docs.
pub struct HybridBrain {
    offline: OfflineBrain,
    model: Arc<dyn LanguageModel>,
    tuning: HybridTuning,
    /// The numbers the config's facts hold (plans and `facts`), read once.
    facts: Known,
}

impl HybridBrain {
    pub fn new(rules: Arc<Rules>, model: Arc<dyn LanguageModel>, tuning: HybridTuning) -> Self {
        let mut facts = Known {
            money: rules.plans.iter().map(|p| u64::from(p.price)).collect(),
            other: rules.plans.iter().map(|p| u64::from(p.mbps)).collect(),
        };
        for n in tuning.facts.iter().flat_map(|f| numbers(f)) {
            if n.money {
                facts.money.insert(n.value);
            } else {
                facts.other.insert(n.value);
            }
        }
        Self {
            offline: OfflineBrain::new(rules),
            model,
            tuning,
            facts,
        }
    }

    fn rules(&self) -> &Rules {
        &self.offline.rules
    }

    /// What a worded answer may mention: as money, the plans' prices and amounts the extra
    /// facts state; as other numbers, the plans' speeds, the facts' numbers and the question's.
    fn known_numbers(&self, question: &str) -> Known {
        let mut known = self.facts.clone();
        // A customer's own amount ("¿me lo dejan en 200 pesos?") is never confirmed.
        known.other.extend(
            numbers(question)
                .into_iter()
                .filter(|n| !n.money)
                .map(|n| n.value),
        );
        known
    }

    /// Whether this utterance would be sent to the model (the offline NLU being unsure).
    pub fn asks_model(&self, text: &str) -> bool {
        self.unsure(text, &self.offline.understand_now(text)) != Ask::Nothing
    }

    /// What to ask the model about the offline result, if anything.
    fn unsure(&self, text: &str, offline: &Understanding) -> Ask {
        if self.tuning.always_ask
            || offline.intent == Intent::OutOfScope
            || offline.confidence < self.tuning.ask_below
        {
            return Ask::Intent;
        }
        // An intent that takes an entity, said in a sentence long enough to hold one that
        // the NLU did not find ("quiero contratar" alone holds none).
        let e = &offline.entities;
        let missing = match offline.intent {
            Intent::Coverage => e.zone.is_none(),
            Intent::Register => e.zone.is_none() && e.plan_mbps.is_none(),
            Intent::ReportIncident => e.incident_kind.is_none(),
            _ => false,
        };
        if missing && text.split_whitespace().count() > 3 {
            Ask::Entities
        } else {
            Ask::Nothing
        }
    }

    fn request(&self, text: &str, context: &UnderstandContext) -> ModelRequest {
        let started = context.started.unwrap_or_else(Instant::now);
        ModelRequest {
            text: text.to_string(),
            history: context.history.clone(),
            deadline: started + self.tuning.turn_budget,
        }
    }

    async fn ask(&self, text: &str, context: &UnderstandContext) -> Understanding {
        let offline = self.offline.understand_now(text);
        let ask = self.unsure(text, &offline);
        if ask == Ask::Nothing {
            return offline;
        }
        let request = self.request(text, context);
        let answer = tokio::time::timeout_at(request.deadline, self.model.classify(&request));
        match answer.await {
            Ok(Ok(answer)) => match validate(answer, self.rules()) {
                // A model less sure than the NLU (and than the asking threshold) does not
                // overrule it.
                // Asked only for a missing entity: the NLU's confident intent stays.
                Some(model) if ask == Ask::Entities => {
                    // Only the entities that were missing for the NLU's intent are taken.
                    let (mut entities, m) = (offline.entities.clone(), model.entities);
                    match offline.intent {
                        Intent::Coverage => entities.zone = entities.zone.or(m.zone),
                        Intent::Register => {
                            entities.zone = entities.zone.or(m.zone);
                            entities.plan_mbps = entities.plan_mbps.or(m.plan_mbps);
                        }
                        Intent::ReportIncident => {
                            entities.incident_kind = entities.incident_kind.or(m.incident_kind)
                        }
                        _ => {}
                    }
                    if entities == offline.entities {
                        // The model found nothing more: the answer is the NLU's.
                        offline
                    } else {
                        Understanding {
                            entities,
                            source: Source::Llm,
                            ..offline
                        }
                    }
                }
                Some(model)
                    if model.confidence >= offline.confidence.min(self.tuning.ask_below) =>
                {
                    merge(offline, model)
                }
                Some(_) => offline,
                None => {
                    tracing::warn!(
                        event = "llm_answer_discarded",
                        "the language model answered an intent outside the contract; using the offline result"
                    );
                    offline
                }
            },
            Ok(Err(e)) => {
                tracing::debug!(outcome = e.outcome, detail = %e.detail, "language model unavailable for this turn; using the offline result");
                offline
            }
            Err(_) => {
                tracing::info!(
                    budget_ms = self.tuning.turn_budget.as_millis() as u64,
                    "language model slower than the turn budget; using the offline result"
                );
                offline
            }
        }
    }

    async fn word_answer(&self, text: &str, context: &UnderstandContext) -> Option<String> {
        if !self.tuning.wording {
            return None;
        }
        let request = self.request(text, context);
        if Instant::now() >= request.deadline {
            // Understanding used the whole turn budget: no time left to word an answer.
            return None;
        }
        let max = self.tuning.wording_max_chars;
        let answer = tokio::time::timeout_at(request.deadline, self.model.word(&request, max))
            .await
            .ok()?
            .ok()?;
        let grounded = grounded(&answer, &self.known_numbers(text), max);
        if grounded.is_none() {
            tracing::warn!(
                event = "llm_wording_discarded",
                "the language model's answer was not grounded in the config (price, ticket or length); using the template"
            );
        }
        grounded
    }
}

impl Brain for HybridBrain {
    fn understand<'a>(
        &'a self,
        text: &'a str,
        context: &'a UnderstandContext,
    ) -> BoxFuture<'a, Understanding> {
        Box::pin(self.ask(text, context))
    }

    fn word<'a>(
        &'a self,
        text: &'a str,
        context: &'a UnderstandContext,
    ) -> BoxFuture<'a, Option<String>> {
        Box::pin(self.word_answer(text, context))
    }
}

/// A model's answer checked against the rules: an intent outside the contract makes the whole
/// answer worthless (`None`); a zone not in config, a plan not offered, an unknown incident kind
/// or an implausible name is dropped on its own.
pub fn validate(answer: ModelAnswer, rules: &Rules) -> Option<Understanding> {
    let intent = Intent::parse(answer.intent.trim())?;
    let e = answer.entities;
    let zone = e.zone.and_then(|z| {
        let folded = text::fold(&z);
        rules
            .zones
            .iter()
            .find(|zone| {
                text::fold(&zone.name) == folded
                    || zone.aliases.iter().any(|a| text::fold(a) == folded)
            })
            .map(|zone| zone.name.clone())
    });
    let plan_mbps = e
        .plan_mbps
        .filter(|m| m.fract() == 0.0 && *m > 0.0 && *m < f64::from(u32::MAX))
        .map(|m| m as u32)
        .filter(|m| rules.plan(*m).is_some());
    let name = e.name.map(|n| text::clean_input(&n, 60)).filter(|n| {
        !n.is_empty()
            && n.chars()
                .all(|c| c.is_alphabetic() || c == ' ' || c == '.' || c == '\'' || c == '-')
    });
    let confidence = if answer.confidence.is_finite() {
        answer.confidence.clamp(0.0, 1.0)
    } else {
        0.0
    };
    Some(Understanding {
        intent,
        confidence,
        entities: Entities {
            zone,
            plan_mbps,
            incident_kind: e.incident_kind.as_deref().and_then(IncidentKind::parse),
            name,
            since: e
                .since
                .map(|s| text::clean_input(&s, 40))
                .filter(|s| !s.is_empty()),
            modem_restarted: e.modem_restarted,
            ..Entities::default()
        },
        source: Source::Llm,
        runner_up: None,
    })
}

/// The model's intent, with the entities the offline NLU found in the text itself kept over
/// the model's (they come from the words the user typed); the model fills the gaps.
fn merge(offline: Understanding, model: Understanding) -> Understanding {
    let o = offline.entities;
    let m = model.entities;
    Understanding {
        entities: Entities {
            zone: o.zone.or(m.zone),
            plan_mbps: o.plan_mbps.or(m.plan_mbps),
            incident_kind: o.incident_kind.or(m.incident_kind),
            name: o.name.or(m.name),
            since: o.since.or(m.since),
            modem_restarted: o.modem_restarted.or(m.modem_restarted),
            place: o.place.or(m.place),
            phone: o.phone.or(m.phone),
            ticket: o.ticket.or(m.ticket),
        },
        ..model
    }
}

mod guard;
use guard::numbers;
pub use guard::{grounded, Known};

#[cfg(test)]
mod tests;
