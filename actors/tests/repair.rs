//! Conversation repair through the real actor tree: backing out and resuming, a name that is
//! not a name, a cancellation that is not a signup, corrections, places we do not reach, and a
//! date question answered with a fault.

mod common;

use common::{start, tg, wa};
use redsol_actors::brain::{Brain, UnderstandContext};
use redsol_actors::engine::{ConversationState, Engine};
use redsol_actors::model::{Channel, ConversationKey, Inbound, Intent, Source, Understanding};
use redsol_actors::store::{BoxFuture, MemoryStore};
use std::sync::Arc;

#[tokio::test]
async fn backing_out_saves_nothing_and_siempre_si_resumes() {
    let mut h = start().await;
    let key = tg("501");
    h.ask(&key, "quiero contratar internet").await;
    let t = h
        .ask(&key, "mejor no, ahorita no tengo dinero, luego les escribo")
        .await;
    assert!(t.contains("no guardé nada"), "{t}");
    let t = h.ask(&key, "siempre sí").await;
    assert!(t.contains("Seguimos") && t.contains("nombre"), "{t}");
    assert!(h.store.prospects().is_empty());
}

#[tokio::test]
async fn ok_is_not_a_name_and_a_typed_name_stops_where_it_stops() {
    let mut h = start().await;
    let key = tg("502");
    h.ask(&key, "quiero contratar").await;
    let t = h.ask(&key, "ok").await;
    assert!(t.contains("nombre"), "asks again: {t}");
    let t = h.ask(&key, "soy fernando aguilar quisiera contratar").await;
    assert!(t.contains("Fernando") && !t.contains("Quisiera"), "{t}");
}

#[tokio::test]
async fn cancelling_the_service_is_never_a_registration() {
    let mut h = start().await;
    let key = wa("5214640000001");
    let t = h.ask(&key, "quiero cancelar mi servicio").await;
    assert!(t.contains("dar de baja"), "{t}");
    let t = h.ask(&key, "sí").await;
    assert!(t.contains("solicitud de baja"), "{t}");
    assert!(h.store.prospects().is_empty());
    let kinds: Vec<String> = h.store.requests().into_iter().map(|r| r.kind).collect();
    assert_eq!(kinds, ["cancel_service"]);
}

#[tokio::test]
async fn a_correction_changes_the_plan_and_its_price() {
    let mut h = start().await;
    let key = tg("503");
    let t = h
        .ask(&key, "soy Ana Ruiz de la norte y quiero el de 100")
        .await;
    assert!(t.contains("$600"), "{t}");
    let t = h
        .ask(&key, "no mejor el de 50, el otro esta muy caro")
        .await;
    assert!(
        t.contains("Cambié tu plan a Estándar 50 Mbps, $450/mes"),
        "{t}"
    );
    let t = h.ask(&key, "va").await;
    assert!(
        t.contains("Registro exitoso") && t.contains("$450/mes"),
        "{t}"
    );
    let p = h.store.prospects().pop().expect("saved");
    assert_eq!((p.data.plan_mbps, p.data.price), (50, 450));
}

#[tokio::test]
async fn a_town_we_do_not_reach_is_named() {
    let mut h = start().await;
    let key = tg("504");
    let t = h.ask(&key, "vivo en irapuato, tienen servicio?").await;
    assert!(t.contains("Todavía no llegamos a Irapuato"), "{t}");
}

#[tokio::test]
async fn a_fault_is_not_a_date_and_no_ay_cenal_is_alta() {
    let mut h = start().await;
    let key = wa("5214640000002");
    let t = h.ask(&key, "kiero reportar una falla").await;
    assert!(t.contains("qué problema"), "asks what happens first: {t}");
    let t = h.ask(&key, "no ay cenal").await;
    assert!(t.contains("Desde cuándo"), "{t}");
    let t = h.ask(&key, "se va y viene el internet").await;
    assert!(
        t.contains("Desde cuándo"),
        "a fault is not a date; asks again: {t}"
    );
    h.ask(&key, "desde ayer").await;
    let t = h.ask(&key, "👍").await;
    assert!(t.contains("Alta") && t.contains("¿Lo confirmo"), "{t}");
    let t = h.ask(&key, "👍").await;
    assert!(t.contains("INC-"), "{t}");
    let i = h.store.incidents().pop().expect("saved");
    assert!(
        !i.data.description.contains("Desde: se va"),
        "{}",
        i.data.description
    );
}

#[tokio::test]
async fn two_requests_in_one_message_are_both_served() {
    let mut h = start().await;
    let key = wa("5214640000003");
    let t = h
        .ask(
            &key,
            "no me jala el internet desde ayer, ya lo reinicie. ademas quiero cambiarme a un plan mas rapido",
        )
        .await;
    assert!(t.contains("¿Lo confirmo"), "the fault first: {t}");
    assert!(t.contains("Después vemos tu cambio de plan"), "{t}");
    let t = h.ask(&key, "sí").await;
    assert!(t.contains("INC-"), "{t}");
    assert!(
        t.contains("Ahora, sobre tu cambio de plan") && t.contains("qué plan"),
        "{t}"
    );
    let t = h.ask(&key, "el de 100").await;
    assert!(t.contains("$600"), "{t}");
    h.ask(&key, "sí").await;
    let kinds: Vec<String> = h.store.requests().into_iter().map(|r| r.kind).collect();
    assert_eq!(kinds, ["change_plan"]);
}

#[tokio::test]
async fn hours_and_a_phone_in_passing_are_answered() {
    let mut h = start().await;
    let key = tg("505");
    let t = h.ask(&key, "cual es su horario?").await;
    assert!(t.contains("lunes a sábado"), "{t}");
    let t = h.ask(&key, "mi cel es 442 123 4567").await;
    assert!(t.contains("guardé tu teléfono"), "{t}");
    // Mid-registration, the hours are answered and the pending question follows.
    h.ask(&key, "quiero contratar").await;
    let t = h.ask(&key, "a que hora abren?").await;
    assert!(t.contains("lunes a sábado") && t.contains("nombre"), "{t}");
    h.ask(&key, "Ana Ruiz").await;
    h.ask(&key, "la norte").await;
    h.ask(&key, "el de 20").await;
    h.ask(&key, "sí").await;
    let p = h.store.prospects().pop().expect("saved");
    assert_eq!(p.data.phone.as_deref(), Some("4421234567"));
}

/// A brain that is unsure between two intents, whatever is said: the dialogue's decision
/// is under test here, not the model's.
struct Torn;

impl Brain for Torn {
    fn understand<'a>(
        &'a self,
        _text: &'a str,
        _context: &'a UnderstandContext,
    ) -> BoxFuture<'a, Understanding> {
        Box::pin(std::future::ready(Understanding {
            intent: Intent::Billing,
            confidence: 0.5,
            entities: Default::default(),
            source: Source::Rules,
            runner_up: Some((Intent::IncidentStatus, 0.4)),
        }))
    }
}

#[tokio::test]
async fn two_close_candidates_get_a_question_with_buttons() {
    let rules = Arc::new(redsol_actors::testing::rules());
    let store = Arc::new(MemoryStore::new(Vec::new()));
    let engine = Engine::new(rules, Arc::new(Torn), store.clone());
    let mut state = ConversationState::default();
    let key = ConversationKey::new(Channel::Telegram, "507");
    let reply = engine
        .turn(&mut state, &Inbound::text(key, "lo del pago y el reporte"))
        .await;
    assert!(
        reply.text.contains("¿es sobre tu pago o sobre tu reporte?"),
        "{}",
        reply.text
    );
    let ids: Vec<&str> = reply.quick_replies.iter().map(|q| q.id.as_str()).collect();
    assert_eq!(ids, ["intent:billing", "intent:incident_status"]);
    assert!(store.requests().is_empty(), "nothing recorded on a guess");
}
