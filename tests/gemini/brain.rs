//! The hybrid brain over the real Gemini actor and HTTP client, against the fake.

use crate::fake::{FakeGemini, Script, KEY};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use redsol::app::hybrid_tuning;
use redsol::gemini::GeminiModel;
use redsol::settings::{BrainTuning, Settings};
use redsol_actors::brain::{Brain, HybridBrain};
use redsol_actors::model::{Intent, Source, Understanding};
use redsol_actors::nlu::Nlu;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

const UNSURE: &str = "xyz lo de ayer";

struct Harness {
    brain: HybridBrain,
    model: GeminiModel,
    settings: Settings,
}

impl Harness {
    async fn understand(&self, text: &str) -> Understanding {
        self.brain.understand(text, &Default::default()).await
    }

    fn offline(&self, text: &str) -> Understanding {
        Nlu::embedded().understand(text, &self.settings.rules)
    }
}

async fn start(fake: &FakeGemini, tune: impl FnOnce(&mut BrainTuning)) -> Harness {
    let env: HashMap<String, String> = [
        ("GEMINI_API_KEY", KEY.to_string()),
        ("GEMINI_API_URL", fake.url.clone()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let mut settings = Settings::load_from(&env).expect("settings");
    tune(&mut settings.brain);
    let gemini = settings.gemini.clone().expect("gemini configured");
    let model = GeminiModel::start(&gemini, &settings.brain, &settings.rules)
        .await
        .expect("the Gemini actor starts");
    let brain = HybridBrain::new(
        Arc::new(settings.rules.clone()),
        Arc::new(model.clone()),
        hybrid_tuning(&settings.brain),
    );
    Harness {
        brain,
        model,
        settings,
    }
}

fn recorder() -> (DebuggingRecorder, Snapshotter) {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    (recorder, snapshotter)
}

/// What the recorder holds: the samples of `redsol_llm_request_seconds` by outcome, and the
/// breaker gauge. A snapshot drains histograms, so each check takes one and reads it whole.
struct Recorded {
    requests: HashMap<String, usize>,
    breaker: Option<f64>,
}

impl Recorded {
    fn take(snapshotter: &Snapshotter) -> Recorded {
        let mut recorded = Recorded {
            requests: HashMap::new(),
            breaker: None,
        };
        for (key, _, _, value) in snapshotter.snapshot().into_vec() {
            let key = key.key();
            match (key.name(), value) {
                ("redsol_llm_request_seconds", DebugValue::Histogram(samples)) => {
                    let outcome = key
                        .labels()
                        .find(|l| l.key() == "outcome")
                        .map(|l| l.value().to_string())
                        .unwrap_or_default();
                    *recorded.requests.entry(outcome).or_default() += samples.len();
                }
                ("redsol_llm_breaker_state", DebugValue::Gauge(g)) => {
                    recorded.breaker = Some(g.into_inner())
                }
                _ => {}
            }
        }
        recorded
    }

    fn requests(&self, outcome: &str) -> usize {
        self.requests.get(outcome).copied().unwrap_or(0)
    }
}

#[tokio::test]
async fn an_unsure_utterance_is_classified_by_gemini_and_invented_entities_are_dropped() {
    let fake = FakeGemini::start().await;
    fake.answer(
        UNSURE,
        json!({"intent": "plans", "confidence": 0.93, "entities": {"zone": "Polanco", "plan_mbps": 20}}),
    );
    // An in-scope utterance the offline NLU is unsure of (below `ask_below`): the first of
    // these that the trained model is unsure of, so retraining does not void the test.
    let rules = redsol_actors::testing::rules();
    let said = [
        "oigan lo de la fibra esa como va, ya mero?",
        "y lo de la antena que quedaron, siempre si?",
        "como quedo lo mio",
        "me pueden decir algo de lo mio",
    ]
    .into_iter()
    .find(|t| {
        let u = Nlu::embedded().understand(t, &rules);
        u.confidence < 0.8 && u.intent != Intent::OutOfScope
    })
    .expect("one of the utterances is unsure");
    fake.answer(
        said,
        json!({"intent": "incident_status", "confidence": 0.88, "entities": {"plan_mbps": 75}}),
    );
    let h = start(&fake, |_| {}).await;

    let u = h.understand(UNSURE).await;
    assert_eq!((u.intent, u.source), (Intent::Plans, Source::Llm));
    assert_eq!(u.entities.zone, None, "a zone not in config is dropped");
    assert_eq!(u.entities.plan_mbps, Some(20));
    assert_eq!(h.offline(UNSURE).intent, Intent::OutOfScope);

    let u = h.understand(said).await;
    assert_eq!((u.intent, u.source), (Intent::IncidentStatus, Source::Llm));
    assert_eq!(u.entities.plan_mbps, None, "a plan not offered is dropped");
    assert!(h.offline(said).confidence < 0.8, "the NLU is unsure of it");

    // A confident offline result is not sent to Gemini.
    let u = h
        .understand("quiero contratar el de 50 megas en la norte")
        .await;
    assert_eq!((u.intent, u.source), (Intent::Register, Source::Rules));
    let seen = fake.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert!(seen.iter().all(|s| s.kind == "classify" && s.status == 200));
    assert_eq!([&seen[0].text, &seen[1].text], [UNSURE, said]);
    assert_eq!(fake.problems(), Vec::<String>::new());
    h.model.stop();
}

#[tokio::test(start_paused = true)]
async fn a_429_is_retried_after_its_retry_delay() {
    let (recorder, snapshotter) = recorder();
    let _local = metrics::set_default_local_recorder(&recorder);
    let fake = FakeGemini::start().await;
    fake.answer(UNSURE, json!({"intent": "plans", "confidence": 0.9}));
    fake.script([Script::Error {
        status: 429,
        retry_delay: Some("3.5s"),
    }]);
    let h = start(&fake, |_| {}).await;

    let u = h.understand(UNSURE).await;
    assert_eq!((u.intent, u.source), (Intent::Plans, Source::Llm));
    let seen = fake.seen();
    assert_eq!(
        seen.iter().map(|s| s.status).collect::<Vec<_>>(),
        [429, 200]
    );
    let waited = seen[1].at - seen[0].at;
    assert!(
        waited >= Duration::from_millis(3500) && waited < Duration::from_secs(4),
        "{waited:?}"
    );
    let recorded = Recorded::take(&snapshotter);
    assert_eq!(recorded.requests("rate_limited"), 1);
    assert_eq!(recorded.requests("ok"), 1);
}

#[tokio::test(start_paused = true)]
async fn a_503_storm_opens_the_breaker_and_a_later_probe_closes_it() {
    let (recorder, snapshotter) = recorder();
    let _local = metrics::set_default_local_recorder(&recorder);
    let fake = FakeGemini::start().await;
    fake.answer(UNSURE, json!({"intent": "plans", "confidence": 0.9}));
    fake.script((0..3).map(|_| Script::Error {
        status: 503,
        retry_delay: None,
    }));
    let h = start(&fake, |b| {
        b.max_retries = 0;
        b.breaker_failures = 3;
        b.breaker_cooldown_secs = 30;
    })
    .await;
    let offline = h.offline(UNSURE);

    for _ in 0..3 {
        assert_eq!(h.understand(UNSURE).await, offline);
    }
    let recorded = Recorded::take(&snapshotter);
    assert_eq!(recorded.breaker, Some(2.0), "open");
    assert_eq!(recorded.requests("server_error"), 3);

    // While open, Gemini is not asked at all and the answer is immediate.
    let t0 = Instant::now();
    for _ in 0..20 {
        assert_eq!(h.understand(UNSURE).await, offline);
    }
    assert_eq!(t0.elapsed(), Duration::ZERO);
    assert_eq!(fake.seen().len(), 3);

    // After the cooldown the actor probes by itself, with no customer asking; Gemini is
    // back, so the breaker closes.
    let probe = wait_for_request(&fake, 4).await;
    assert_eq!((probe.kind, probe.status), ("classify", 200));
    assert!(
        probe.at - t0 >= Duration::from_secs(30),
        "{:?}",
        probe.at - t0
    );
    wait_until(|| Recorded::take(&snapshotter).breaker == Some(0.0)).await;
    let u = h.understand(UNSURE).await;
    assert_eq!((u.intent, u.source), (Intent::Plans, Source::Llm));
    assert_eq!(fake.seen().len(), 5);
}

/// Waits (bounded, in virtual time) until the fake has seen `n` requests; returns the n-th.
async fn wait_for_request(fake: &FakeGemini, n: usize) -> crate::fake::Seen {
    for _ in 0..600 {
        if let Some(seen) = fake.seen().get(n - 1) {
            return seen.clone();
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!(
        "the fake Gemini saw {} requests, not {n}",
        fake.seen().len()
    );
}

/// Waits (bounded, in virtual time) until `done` holds.
async fn wait_until(mut done: impl FnMut() -> bool) {
    for _ in 0..600 {
        if done() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("not done within a minute of virtual time");
}

#[tokio::test(start_paused = true)]
async fn a_failed_probe_opens_the_breaker_again_until_one_succeeds() {
    let fake = FakeGemini::start().await;
    fake.script((0..3).map(|_| Script::Error {
        status: 500,
        retry_delay: None,
    }));
    let h = start(&fake, |b| {
        b.max_retries = 0;
        b.breaker_failures = 2;
        b.breaker_cooldown_secs = 30;
    })
    .await;
    h.understand(UNSURE).await;
    h.understand(UNSURE).await;
    let opened = Instant::now();
    // The actor's first probe fails (the third 500): open again, customers not asked.
    let first = wait_for_request(&fake, 3).await;
    assert_eq!(first.status, 500);
    h.understand(UNSURE).await;
    assert_eq!(fake.seen().len(), 3);
    // The next probe, a cooldown later, finds Gemini back.
    let second = wait_for_request(&fake, 4).await;
    assert_eq!(second.status, 200);
    assert!(
        second.at - opened >= Duration::from_secs(60),
        "{:?}",
        second.at - opened
    );
}

#[tokio::test(start_paused = true)]
async fn a_slow_gemini_costs_one_timeout_within_the_turn_budget() {
    let (recorder, snapshotter) = recorder();
    let _local = metrics::set_default_local_recorder(&recorder);
    let fake = FakeGemini::start().await;
    fake.answer(UNSURE, json!({"intent": "plans", "confidence": 0.9}));
    fake.script([Script::Delay(Duration::from_secs(120))]);
    let h = start(&fake, |b| {
        b.call_timeout_ms = 8000;
        b.turn_budget_ms = 10_000;
    })
    .await;

    let t0 = Instant::now();
    let u = h.understand(UNSURE).await;
    let took = t0.elapsed();
    assert_eq!(u, h.offline(UNSURE));
    assert!(
        took >= Duration::from_secs(8) && took <= Duration::from_secs(10),
        "{took:?}"
    );
    assert_eq!(Recorded::take(&snapshotter).requests("timeout"), 1);
}

#[tokio::test(start_paused = true)]
async fn a_turn_never_waits_past_its_budget_even_with_retries_left() {
    let fake = FakeGemini::start().await;
    fake.script([
        Script::Error {
            status: 429,
            retry_delay: Some("30s"),
        },
        Script::Delay(Duration::from_secs(4)),
    ]);
    let h = start(&fake, |b| {
        b.turn_budget_ms = 5000;
    })
    .await;
    let t0 = Instant::now();
    assert_eq!(h.understand(UNSURE).await, h.offline(UNSURE));
    // The retry would have ended past the budget: not attempted, answered at once.
    assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());
    assert_eq!(fake.seen().len(), 1);
}

#[tokio::test]
async fn garbage_empty_and_blocked_answers_fall_back_to_the_offline_result() {
    let (recorder, snapshotter) = recorder();
    let _local = metrics::set_default_local_recorder(&recorder);
    let fake = FakeGemini::start().await;
    fake.answer(UNSURE, json!({"intent": "plans", "confidence": 0.9}));
    fake.script([
        Script::Garbage,
        Script::NotSchema,
        Script::NoCandidates,
        Script::PromptBlocked,
        Script::SafetyStop,
    ]);
    let h = start(&fake, |_| {}).await;
    let offline = h.offline(UNSURE);
    for _ in 0..5 {
        assert_eq!(h.understand(UNSURE).await, offline);
    }
    let recorded = Recorded::take(&snapshotter);
    assert_eq!(recorded.requests("invalid"), 2);
    assert_eq!(recorded.requests("empty"), 1);
    assert_eq!(recorded.requests("blocked"), 2);
    assert_eq!(fake.seen().len(), 5, "none of these is retried");
    // The service answered: the breaker stays closed and the next answer is the model's.
    assert_eq!(recorded.breaker, Some(0.0));
    assert_eq!(h.understand(UNSURE).await.source, Source::Llm);
}

#[tokio::test]
async fn a_wrong_key_or_model_is_refused_and_not_retried() {
    let fake = FakeGemini::start().await;
    let h = start(&fake, |_| {}).await;
    let mut settings = h.settings.gemini.clone().expect("gemini");
    settings.api_key = redsol::settings::Secret::new("not-the-key");
    let wrong = GeminiModel::start(&settings, &h.settings.brain, &h.settings.rules)
        .await
        .expect("starts");
    let e = wrong
        .check(Duration::from_secs(5))
        .await
        .expect_err("a wrong key is refused");
    assert_eq!(e.outcome, "rejected");
    assert!(!e.to_string().contains("not-the-key"), "{e}");

    settings.api_key = redsol::settings::Secret::new(KEY);
    settings.model = "gemini-pro".into();
    let retired = GeminiModel::start(&settings, &h.settings.brain, &h.settings.rules)
        .await
        .expect("starts");
    let e = retired
        .check(Duration::from_secs(5))
        .await
        .expect_err("an unknown model is refused");
    assert!(e.to_string().contains("404"), "{e}");
    assert_eq!(fake.seen().len(), 2);
    assert!(h.model.check(Duration::from_secs(5)).await.is_ok());
}
