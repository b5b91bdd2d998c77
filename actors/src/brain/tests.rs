//! The model's answers validated against config, the wording guard, and the hybrid brain:
//! when the model is asked, and what happens when it is slow, failing or less sure.

use super::*;
use crate::testing;
use std::sync::Mutex;

fn answer(intent: &str, entities: ModelEntities) -> ModelAnswer {
    ModelAnswer {
        intent: intent.into(),
        confidence: 0.9,
        entities,
    }
}

#[test]
fn validation_keeps_config_values_and_drops_invented_ones() {
    let rules = testing::rules();
    let u = validate(
        answer(
            "register",
            ModelEntities {
                zone: Some("polanco".into()),
                plan_mbps: Some(75.0),
                incident_kind: Some("exploded".into()),
                name: Some("Ana <script>".into()),
                ..Default::default()
            },
        ),
        &rules,
    )
    .expect("a contract intent");
    assert_eq!(u.intent, Intent::Register);
    assert_eq!(u.source, Source::Llm);
    assert_eq!(u.entities, Entities::default());

    let u = validate(
        answer(
            "coverage",
            ModelEntities {
                zone: Some("santa ana".into()),
                plan_mbps: Some(50.0),
                name: Some("José Ñúñez".into()),
                ..Default::default()
            },
        ),
        &rules,
    )
    .expect("a contract intent");
    assert_eq!(u.entities.zone.as_deref(), Some("Tambor/Santa Ana"));
    assert_eq!(u.entities.plan_mbps, Some(50));
    assert_eq!(u.entities.name.as_deref(), Some("José Ñúñez"));

    assert!(validate(answer("sell_insurance", Default::default()), &rules).is_none());
}

#[test]
fn worded_answers_with_numbers_not_in_the_facts_are_refused() {
    let brain = hybrid(Scripted::new(Ok(answer(
        "out_of_scope",
        Default::default(),
    ))));
    let known = brain.known_numbers("¿llegan a la calle 5 de mayo? ¿me lo dejan en 200 pesos?");
    for fine in [
        "El plan Estándar de 50 Mbps cuesta $450 al mes 🙂",
        "Cuesta 600 pesos y la instalación es gratis",
        "El Básico: $350/mes, o $450.00 MXN el Estándar",
        "Tenemos 20, 50 y 100 Mbps; atendemos de 9 a 19 h",
        "Atendemos de 9:00 a 19:00",
        "Sí, llegamos a la calle 5 de mayo",
        "Nos vemos: el técnico llega en bus",
    ] {
        assert!(grounded(fine, &known, 400).is_some(), "{fine}");
    }
    for bad in [
        "La instalación cuesta $1,200",
        "Te sale en 399 al mes",
        "El Premium de 100 Mbps cuesta $100 al mes",
        "Cuesta $19",
        "Sí, te lo dejamos en 200 pesos",
        "Son 20 dólares",
        "Son US$20",
        "Tienes 50% de descuento",
        "Llámanos al 4421234567",
        "Cuesta $450.50",
        "Abrimos a las 9:30",
        "Son 99999999999999999999999 MXN",
        "Tu reporte es el INC-000042",
        "",
    ] {
        assert_eq!(grounded(bad, &known, 400), None, "{bad}");
    }
    assert_eq!(grounded(&"a".repeat(401), &known, 400), None);
    let values: Vec<u64> = numbers("1,200 y 1.500 y 350.50 y 9-19 y $450.00")
        .iter()
        .map(|n| n.value)
        .collect();
    assert_eq!(values, [1200, 1500, u64::MAX, 9, 19, 450]);
}

/// A language model that answers what it is told, after a delay, and counts calls.
struct Scripted {
    answer: Result<ModelAnswer, ModelError>,
    wording: Result<String, ModelError>,
    delay: Duration,
    calls: Mutex<Vec<String>>,
}

impl Scripted {
    fn new(answer: Result<ModelAnswer, ModelError>) -> Arc<Self> {
        Arc::new(Self {
            answer,
            wording: Err(ModelError {
                outcome: "unavailable",
                detail: "down".into(),
            }),
            delay: Duration::ZERO,
            calls: Mutex::new(Vec::new()),
        })
    }

    fn calls(&self) -> Vec<String> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

impl LanguageModel for Scripted {
    fn classify<'a>(
        &'a self,
        request: &'a ModelRequest,
    ) -> BoxFuture<'a, Result<ModelAnswer, ModelError>> {
        Box::pin(async move {
            if let Ok(mut c) = self.calls.lock() {
                c.push(request.text.clone());
            }
            tokio::time::sleep(self.delay).await;
            self.answer.clone()
        })
    }

    fn word<'a>(
        &'a self,
        _request: &'a ModelRequest,
        _max_chars: usize,
    ) -> BoxFuture<'a, Result<String, ModelError>> {
        Box::pin(async move {
            tokio::time::sleep(self.delay).await;
            self.wording.clone()
        })
    }
}

fn tuning() -> HybridTuning {
    HybridTuning {
        ask_below: 0.8,
        always_ask: false,
        turn_budget: Duration::from_secs(5),
        wording: true,
        wording_max_chars: 300,
        facts: vec!["Horario: lunes a sábado, de 9 a 19 h.".into()],
    }
}

fn hybrid(model: Arc<Scripted>) -> HybridBrain {
    HybridBrain::new(Arc::new(testing::rules()), model, tuning())
}

#[tokio::test]
async fn a_confident_offline_result_does_not_ask_the_model() {
    let model = Scripted::new(Ok(answer("finance", Default::default())));
    let brain = hybrid(model.clone());
    let u = brain
        .understand("quiero contratar 50 megas en la norte", &Default::default())
        .await;
    assert_eq!((u.intent, u.source), (Intent::Register, Source::Rules));
    assert!(model.calls().is_empty());
}

#[tokio::test]
async fn an_unsure_result_is_replaced_by_the_validated_model_answer() {
    let model = Scripted::new(Ok(answer(
        "plans",
        ModelEntities {
            zone: Some("Atlantis".into()),
            ..Default::default()
        },
    )));
    let brain = hybrid(model.clone());
    let u = brain
        .understand("xyz lo de ayer", &Default::default())
        .await;
    assert_eq!((u.intent, u.source), (Intent::Plans, Source::Llm));
    assert_eq!(u.entities.zone, None, "the invented zone is dropped");
    assert_eq!(model.calls(), ["xyz lo de ayer"]);
}

#[tokio::test]
async fn asked_only_for_a_missing_entity_the_model_keeps_the_nlus_intent() {
    let model = Scripted::new(Ok(answer(
        "coverage",
        ModelEntities {
            zone: Some("Centro".into()),
            ..Default::default()
        },
    )));
    let brain = hybrid(model.clone());
    let u = brain
        .understand(
            "quiero contratar internet en mi casa cerca del mercado hidalgo",
            &Default::default(),
        )
        .await;
    assert_eq!((u.intent, u.source), (Intent::Register, Source::Llm));
    assert_eq!(u.entities.zone.as_deref(), Some("Centro"));
    assert_eq!(model.calls().len(), 1);

    // A model that finds no missing entity either (a name is not one) leaves the NLU's
    // answer as it was.
    let nothing = Scripted::new(Ok(answer(
        "register",
        ModelEntities {
            name: Some("Ana".into()),
            ..Default::default()
        },
    )));
    let u = hybrid(nothing)
        .understand(
            "quiero contratar internet en mi casa cerca del mercado hidalgo",
            &Default::default(),
        )
        .await;
    assert_eq!((u.intent, u.source), (Intent::Register, Source::Rules));
}

#[tokio::test]
async fn a_model_less_sure_than_the_nlu_does_not_overrule_it() {
    let mut unsure = answer("out_of_scope", Default::default());
    unsure.confidence = 0.3;
    let brain = hybrid(Scripted::new(Ok(unsure)));
    // The NLU is unsure here (0.76) but surer than the model.
    let u = brain
        .understand(
            "oigan lo de la fibra esa como va, ya mero?",
            &Default::default(),
        )
        .await;
    assert_eq!(
        (u.intent, u.source),
        (Intent::IncidentStatus, Source::Rules)
    );
}

#[tokio::test(start_paused = true)]
async fn a_slow_model_costs_the_turn_budget_and_no_more() {
    let mut model = Scripted::new(Ok(answer("plans", Default::default())));
    if let Some(m) = Arc::get_mut(&mut model) {
        m.delay = Duration::from_secs(60);
    }
    let brain = hybrid(model);
    let start = Instant::now();
    let u = brain
        .understand("xyz lo de ayer", &Default::default())
        .await;
    assert_eq!(u.source, Source::Rules);
    assert_eq!(start.elapsed(), Duration::from_secs(5));
    assert_eq!(
        brain.word("¿tienen fibra?", &Default::default()).await,
        None
    );
    assert_eq!(start.elapsed(), Duration::from_secs(10));
    // Within one turn, the wording gets what the understanding left of the budget.
    let context = UnderstandContext {
        history: Vec::new(),
        started: Some(Instant::now()),
    };
    brain.understand("cual es el mas barato", &context).await;
    assert_eq!(brain.word("¿tienen fibra?", &context).await, None);
    assert_eq!(start.elapsed(), Duration::from_secs(15));
}

#[tokio::test]
async fn a_failing_model_or_a_bad_intent_gives_the_offline_result() {
    let rules = Arc::new(testing::rules());
    let offline = OfflineBrain::new(rules.clone()).understand_now("xyz lo de ayer");
    for result in [
        Err(ModelError {
            outcome: "unavailable",
            detail: "503".into(),
        }),
        Ok(answer("buy_bitcoin", Default::default())),
    ] {
        let brain = HybridBrain::new(rules.clone(), Scripted::new(result), tuning());
        let u = brain
            .understand("xyz lo de ayer", &Default::default())
            .await;
        assert_eq!(u, offline);
    }
}

#[tokio::test]
async fn wording_is_used_only_when_on_and_grounded() {
    let mut model = Scripted::new(Ok(answer("out_of_scope", Default::default())));
    if let Some(m) = Arc::get_mut(&mut model) {
        m.wording = Ok("Sí, es fibra óptica hasta tu casa; el Básico cuesta $350.".into());
    }
    let brain = hybrid(model.clone());
    assert!(brain
        .word("¿es fibra?", &Default::default())
        .await
        .is_some_and(|w| w.contains("$350")));

    let mut off = tuning();
    off.wording = false;
    let brain = HybridBrain::new(Arc::new(testing::rules()), model, off);
    assert_eq!(brain.word("¿es fibra?", &Default::default()).await, None);
}

#[tokio::test]
async fn a_worded_answer_that_states_a_balance_is_refused() {
    // Balances come from the store only: an amount the config does not hold (a made-up
    // balance, a sum of periods) is never said by the model.
    for made_up in [
        "Debes $900 de dos meses; paga en OXXO.",
        "Tu saldo pendiente es de 1,350 pesos.",
    ] {
        let mut model = Scripted::new(Ok(answer("out_of_scope", Default::default())));
        if let Some(m) = Arc::get_mut(&mut model) {
            m.wording = Ok(made_up.into());
        }
        let brain = hybrid(model);
        assert_eq!(
            brain.word("¿cuánto debo?", &Default::default()).await,
            None,
            "{made_up}"
        );
    }
}
