//! Accuracy of the offline NLU over the labelled set in `tests/data/nlu_labelled.tsv`.
//! Prints per-intent accuracy and the misses, and fails when any intent is below 95%, or when
//! the zone, plan or incident-kind entities are found in fewer than 95% of the lines that
//! name them.

use redsol_actors::brain::{
    HybridBrain, HybridTuning, LanguageModel, ModelAnswer, ModelError, ModelRequest,
};
use redsol_actors::model::{IncidentKind, Intent};
use redsol_actors::nlu::Nlu;
use redsol_actors::store::BoxFuture;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// A language model that never answers: only the hybrid brain's asking rule is used here.
struct NoModel;

impl LanguageModel for NoModel {
    fn classify<'a>(
        &'a self,
        _request: &'a ModelRequest,
    ) -> BoxFuture<'a, Result<ModelAnswer, ModelError>> {
        Box::pin(std::future::ready(Err(ModelError {
            outcome: "unavailable",
            detail: "no model in this test".into(),
        })))
    }

    fn word<'a>(
        &'a self,
        _request: &'a ModelRequest,
        _max_chars: usize,
    ) -> BoxFuture<'a, Result<String, ModelError>> {
        Box::pin(std::future::ready(Err(ModelError {
            outcome: "unavailable",
            detail: "no model in this test".into(),
        })))
    }
}

/// `brain.ask_below` of `config/default.toml`.
fn default_ask_below() -> f32 {
    let config: toml::Table = match toml::from_str(redsol_actors::testing::DEFAULT_CONFIG) {
        Ok(t) => t,
        Err(e) => panic!("config/default.toml does not parse: {e}"),
    };
    match config["brain"]["ask_below"].as_float() {
        Some(v) => v as f32,
        None => panic!("config/default.toml has no brain.ask_below"),
    }
}

const LABELLED: &str = include_str!("data/nlu_labelled.tsv");
/// Written apart from the lexicon and never tuned against: how well the NLU generalizes.
const HELD_OUT: &str = include_str!("data/nlu_heldout.tsv");
const MIN_HELD_OUT_ACCURACY: f64 = 0.80;
const MIN_ACCURACY: f64 = 0.95;

struct Example {
    intent: Intent,
    zone: Option<String>,
    plan: Option<u32>,
    kind: Option<IncidentKind>,
    text: String,
}

fn examples() -> Vec<Example> {
    parse(LABELLED)
}

fn parse(file: &str) -> Vec<Example> {
    let opt = |s: &str| (s != "-").then(|| s.to_string());
    file.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            assert_eq!(f.len(), 5, "malformed line: {l}");
            Example {
                intent: Intent::parse(f[0]).unwrap_or_else(|| panic!("unknown intent in: {l}")),
                zone: opt(f[1]),
                plan: opt(f[2]).map(|p| p.parse().unwrap_or_else(|_| panic!("bad plan in: {l}"))),
                kind: opt(f[3])
                    .map(|k| IncidentKind::parse(&k).unwrap_or_else(|| panic!("bad kind in: {l}"))),
                text: f[4].to_string(),
            }
        })
        .collect()
}

#[test]
fn labelled_set_is_large_and_covers_every_intent() {
    let ex = examples();
    assert!(ex.len() >= 300, "only {} labelled utterances", ex.len());
    for intent in Intent::ALL {
        let n = ex.iter().filter(|e| e.intent == intent).count();
        assert!(n >= 20, "{intent} has only {n} examples");
    }
}

#[test]
fn offline_nlu_accuracy_per_intent_is_at_least_95_percent() {
    let rules = redsol_actors::testing::rules();
    let nlu = Nlu::new();
    let mut per: BTreeMap<Intent, (usize, usize)> = BTreeMap::new();
    let mut misses = Vec::new();
    let (mut zone_ok, mut zone_n, mut plan_ok, mut plan_n, mut kind_ok, mut kind_n) =
        (0, 0, 0, 0, 0, 0);
    for e in examples() {
        let u = nlu.understand(&e.text, &rules);
        let entry = per.entry(e.intent).or_default();
        entry.1 += 1;
        if u.intent == e.intent {
            entry.0 += 1;
        } else {
            misses.push(format!(
                "  {:<16} got {:<16} ({:.2}) {}",
                e.intent, u.intent, u.confidence, e.text
            ));
        }
        if let Some(z) = &e.zone {
            zone_n += 1;
            if u.entities.zone.as_ref() == Some(z) {
                zone_ok += 1;
            } else {
                misses.push(format!(
                    "  zone {z:<12} got {:?}: {}",
                    u.entities.zone, e.text
                ));
            }
        }
        if let Some(p) = e.plan {
            plan_n += 1;
            if u.entities.plan_mbps == Some(p) {
                plan_ok += 1;
            } else {
                misses.push(format!(
                    "  plan {p:<12} got {:?}: {}",
                    u.entities.plan_mbps, e.text
                ));
            }
        }
        if let Some(k) = e.kind {
            if u.intent == Intent::ReportIncident {
                kind_n += 1;
                if u.entities.incident_kind == Some(k) {
                    kind_ok += 1;
                } else {
                    misses.push(format!(
                        "  kind {:<12} got {:?}: {}",
                        k.as_str(),
                        u.entities.incident_kind,
                        e.text
                    ));
                }
            }
        }
    }
    let mut report = String::from("intent            accuracy\n");
    let mut failing = Vec::new();
    let (mut ok_all, mut n_all) = (0, 0);
    for (intent, (ok, n)) in &per {
        let acc = *ok as f64 / *n as f64;
        ok_all += ok;
        n_all += n;
        report.push_str(&format!(
            "{:<17} {:>5.1}% ({ok}/{n})\n",
            intent.as_str(),
            acc * 100.0
        ));
        if acc < MIN_ACCURACY {
            failing.push(intent.as_str());
        }
    }
    let ratio = |ok: usize, n: usize| if n == 0 { 1.0 } else { ok as f64 / n as f64 };
    report.push_str(&format!(
        "overall           {:>5.1}% ({ok_all}/{n_all})\nzone entity       {:>5.1}% ({zone_ok}/{zone_n})\nplan entity       {:>5.1}% ({plan_ok}/{plan_n})\nincident kind     {:>5.1}% ({kind_ok}/{kind_n})\n",
        ratio(ok_all, n_all) * 100.0,
        ratio(zone_ok, zone_n) * 100.0,
        ratio(plan_ok, plan_n) * 100.0,
        ratio(kind_ok, kind_n) * 100.0,
    ));
    println!("{report}\nmisses:\n{}", misses.join("\n"));
    for (name, ok, n) in [
        ("zone", zone_ok, zone_n),
        ("plan", plan_ok, plan_n),
        ("incident_kind", kind_ok, kind_n),
    ] {
        if ratio(ok, n) < MIN_ACCURACY {
            failing.push(name);
        }
    }
    assert!(
        failing.is_empty(),
        "below {:.0}%: {failing:?}\n{report}",
        MIN_ACCURACY * 100.0
    );
}

#[test]
fn offline_nlu_generalizes_to_the_held_out_set() {
    let rules = redsol_actors::testing::rules();
    let nlu = Nlu::new();
    let examples = parse(HELD_OUT);
    assert!(examples.len() >= 150, "held-out set too small");
    // With a language model configured, which of these would it be asked about?
    let hybrid = HybridBrain::new(
        Arc::new(rules.clone()),
        Arc::new(NoModel),
        HybridTuning {
            ask_below: default_ask_below(),
            always_ask: false,
            turn_budget: Duration::from_secs(10),
            wording: false,
            wording_max_chars: 400,
            facts: Vec::new(),
        },
    );
    let mut misses = Vec::new();
    let (mut asked, mut misses_asked) = (0, 0);
    for e in &examples {
        let u = nlu.understand(&e.text, &rules);
        let asks = hybrid.asks_model(&e.text);
        asked += usize::from(asks);
        if u.intent != e.intent {
            misses_asked += usize::from(asks);
            misses.push(format!(
                "  {:<16} got {:<16} ({:.2}){} {}",
                e.intent,
                u.intent,
                u.confidence,
                if asks { " [asks the model]" } else { "" },
                e.text
            ));
        }
    }
    let acc = 1.0 - misses.len() as f64 / examples.len() as f64;
    println!(
        "held-out accuracy {:.1}% ({}/{})\n{}\nwith a language model (brain.ask_below {}): {asked}/{} utterances asked, {misses_asked} of the {} misses among them",
        acc * 100.0,
        examples.len() - misses.len(),
        examples.len(),
        misses.join("\n"),
        default_ask_below(),
        examples.len(),
        misses.len(),
    );
    // The asking rule is there to catch what the NLU gets wrong: most misses must be asked.
    assert!(
        misses_asked * 2 >= misses.len(),
        "only {misses_asked} of {} misses would reach the language model",
        misses.len()
    );
    assert!(
        acc >= MIN_HELD_OUT_ACCURACY,
        "held-out accuracy {:.1}%",
        acc * 100.0
    );
}
