//! The offline language understanding: intents and entities of the contract from Spanish as
//! Mexicans type it on a phone, with no network.
//!
//! - [`classifier`]: the intent and its calibrated probability, from a softmax model over
//!   [`features`] trained at start on the labelled corpus ([`corpus`], `config/nlu/`).
//! - [`entities`]: zone, plan, since when, modem, kind of fault; [`names`] and [`places`]:
//!   people's names and places we do not reach, from gazetteers in `config/nlu/`.
//! - [`fuzzy`]: typo-tolerant word matching shared by the extractors.
//!
//! The model is trained once per process ([`Nlu::embedded`]) and shared.

mod adjust;
pub mod classifier;
pub mod corpus;
pub mod entities;
pub mod features;
pub mod fuzzy;
pub mod lexicon;
pub mod matcher;
pub mod names;
pub mod places;
mod prepare;

pub use names::title_case;

use crate::model::{Entities, IncidentKind, Intent, Source, Understanding};
use crate::rules::Rules;
use crate::text;
use classifier::{Classifier, Ranking, Training};
use features::Feature;
use matcher::Lexicon;
use names::NameLexicon;
use places::Gazetteer;
use std::sync::{Arc, OnceLock};

/// The longest text understood at once: longer messages are read up to here (what is stored is
/// cut far shorter).
pub const MAX_UNDERSTOOD_CHARS: usize = 4000;

/// What the NLU makes of one utterance: the understanding, every intent's probability, and the
/// entities beyond the contract's.
#[derive(Clone, Debug)]
pub struct Analysis {
    pub understanding: Understanding,
    pub ranking: Ranking,
}

/// The offline NLU.
pub struct Nlu {
    classifier: Classifier,
    lexicon: Lexicon,
    names: NameLexicon,
    places: Gazetteer,
}

impl Nlu {
    /// Builds the NLU from a training and a dev corpus and the gazetteers; `rules` name the
    /// zones and plans the lexicon marks.
    pub fn train(
        train: &[corpus::Example],
        dev: &[corpus::Example],
        names: &str,
        places: Gazetteer,
        rules: &Rules,
        settings: &Training,
    ) -> Nlu {
        let lexicon = Lexicon::new();
        let featurize = |set: &[corpus::Example]| -> Vec<(Vec<Feature>, Intent)> {
            set.iter()
                .map(|e| (featurize(&lexicon, &e.text, rules), e.intent))
                .collect()
        };
        let classifier = Classifier::train(&featurize(train), &featurize(dev), settings);
        let mut common = std::collections::HashMap::<String, usize>::new();
        for e in train {
            for w in text::fold(&e.text).split(' ').filter(|w| !w.is_empty()) {
                *common.entry(w.to_string()).or_default() += 1;
            }
        }
        let common = common.into_iter().filter(|(_, n)| *n >= 2).map(|(w, _)| w);
        Nlu {
            classifier,
            lexicon,
            names: NameLexicon::new(names, common),
            places,
        }
    }

    /// The NLU trained on the embedded corpus, once per process.
    pub fn embedded() -> Arc<Nlu> {
        static SHARED: OnceLock<Arc<Nlu>> = OnceLock::new();
        SHARED
            .get_or_init(|| {
                let started = std::time::Instant::now();
                let parse = |name: &str, tsv: &str| {
                    corpus::parse(tsv).unwrap_or_else(|e| {
                        tracing::error!(corpus = name, error = %e, "embedded corpus is malformed");
                        Vec::new()
                    })
                };
                let rules = crate::testing::rules();
                let (train, dev) = (parse("train", corpus::TRAIN), parse("dev", corpus::DEV));
                let places = Gazetteer::parse(corpus::PLACES).unwrap_or_else(|e| {
                    tracing::error!(error = %e, "embedded places gazetteer is malformed");
                    Gazetteer::default()
                });
                let settings = Training::default();
                let nlu = Nlu::train(&train, &dev, corpus::NAMES, places, &rules, &settings);
                tracing::info!(
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    temperature = nlu.classifier.temperature(),
                    "intent model trained"
                );
                Arc::new(nlu)
            })
            .clone()
    }

    pub fn names(&self) -> &NameLexicon {
        &self.names
    }

    /// Understands one utterance.
    pub fn understand(&self, utterance: &str, rules: &Rules) -> Understanding {
        self.analyse(utterance, rules).understanding
    }

    /// Understands one utterance, keeping every intent's probability.
    pub fn analyse(&self, utterance: &str, rules: &Rules) -> Analysis {
        let utterance: std::borrow::Cow<'_, str> = if utterance.len() > MAX_UNDERSTOOD_CHARS {
            text::truncate_chars(utterance, MAX_UNDERSTOOD_CHARS).into()
        } else {
            utterance.into()
        };
        let prepared = matcher::prepare(&utterance, rules);
        let scores = self.lexicon.scores(&prepared);
        let ranking = self.classifier.rank(&features::from_tokens(
            &features::tokens_of(&prepared.tokens),
            &scores,
        ));
        let ranked = ranking.ranked();
        let (intent, confidence) = ranked[0];
        let runner_up = ranked
            .get(1)
            .map(|&(i, p)| (i, (p * 100.0).round() / 100.0));
        let mut entities = self.entities_of(&utterance, &prepared);
        if intent == Intent::ReportIncident && entities.incident_kind.is_none() {
            entities.incident_kind = Some(IncidentKind::Other);
        }
        Analysis {
            understanding: Understanding {
                intent,
                confidence: (confidence * 100.0).round() / 100.0,
                entities,
                source: Source::Rules,
                runner_up,
            },
            ranking,
        }
    }

    /// The classifier's probabilities for an utterance.
    pub fn rank(&self, utterance: &str, rules: &Rules) -> Ranking {
        self.classifier
            .rank(&featurize(&self.lexicon, utterance, rules))
    }

    /// Every entity in an utterance.
    pub fn entities(&self, utterance: &str, rules: &Rules) -> Entities {
        self.entities_of(utterance, &matcher::prepare(utterance, rules))
    }

    /// Every entity, with the zone and the plan already found by [`matcher::prepare`].
    fn entities_of(&self, utterance: &str, prepared: &matcher::Prepared) -> Entities {
        let words: Vec<&str> = prepared
            .folded
            .split(' ')
            .filter(|t| !t.is_empty())
            .collect();
        let tokens = &prepared.tokens;
        let mut e = Entities {
            zone: prepared.entities.zone.clone(),
            plan_mbps: prepared.entities.plan_mbps,
            ..Entities::default()
        };
        if e.zone.is_none() {
            e.place = self.places.find_in(utterance, &prepared.folded);
        }
        e.name = self.names.find(utterance);
        e.incident_kind = entities::incident_kind(tokens);
        e.since = entities::find_since(&prepared.folded);
        e.modem_restarted = entities::modem_restarted(tokens);
        e.phone = entities::find_phone(utterance);
        e.ticket = entities::find_ticket(&words);
        e
    }
}

/// The classifier's features of an utterance: n-grams plus the lexicon's scores.
fn featurize(lexicon: &Lexicon, utterance: &str, rules: &Rules) -> Vec<Feature> {
    let prepared = matcher::prepare(utterance, rules);
    features::from_tokens(
        &features::tokens_of(&prepared.tokens),
        &lexicon.scores(&prepared),
    )
}
