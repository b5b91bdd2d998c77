//! Conversation flows through the real actor tree: registration, incidents, staff-only
//! intents, rate limiting, passivation, and bad input.

mod common;

use common::{start, start_with, start_with_store, tg, wa};
use redsol_actors::model::{Content, Inbound, Priority, Profile};
use redsol_actors::store::Store;
use std::time::Duration;

#[tokio::test]
async fn registration_in_one_turn_with_a_profile_name() {
    let mut h = start().await;
    let key = wa("5214641112233");
    let mut inbound = Inbound::text(key.clone(), "Zona: Norte, Plan: 100 Mbps");
    inbound.profile = Profile {
        name: Some("Juan Pérez".into()),
        phone: None,
    };
    h.send_inbound(inbound);
    let text = h.reply().await.reply.text;
    assert!(text.contains("¿Confirmo"), "a summary first: {text}");
    assert!(
        h.store.prospects().is_empty(),
        "nothing written before the yes"
    );
    let text = h.ask(&key, "sí").await;
    assert!(text.contains("Registro exitoso"), "{text}");
    assert!(
        text.contains("Juan Pérez") && text.contains("Norte"),
        "{text}"
    );
    assert!(text.contains("$600/mes"), "price from config: {text}");
    let prospects = h.store.prospects();
    assert_eq!(prospects.len(), 1);
    assert_eq!(prospects[0].data.zone, "Norte");
    assert_eq!(prospects[0].data.plan_mbps, 100);
    assert_eq!(prospects[0].data.price, 600);
    assert_eq!(prospects[0].data.phone.as_deref(), Some("5214641112233"));
}

#[tokio::test]
async fn registration_in_one_informal_sentence() {
    let mut h = start().await;
    let key = tg("77");
    let text = h
        .ask(&key, "ola soy Ana Ruiz de la norte y kiero el de 50 megas")
        .await;
    assert!(
        text.contains("Ana Ruiz") && text.contains("¿Confirmo"),
        "{text}"
    );
    let text = h.ask(&key, "👍").await;
    assert!(
        text.contains("Registro exitoso") && text.contains("$450/mes"),
        "{text}"
    );
    assert!(text.contains("Ana Ruiz"), "{text}");
}

#[tokio::test]
async fn registration_over_several_turns_with_an_unknown_zone() {
    let mut h = start().await;
    let key = tg("1001");
    let t = h.ask(&key, "quiero contratar internet").await;
    assert!(t.contains("nombre"), "asks the name first: {t}");
    let t = h.ask(&key, "maria lopez").await;
    assert!(t.contains("Maria") && t.contains("zona"), "{t}");
    let t = h.ask(&key, "salamnca").await;
    assert!(t.contains("plan"), "a typo of Salamanca is accepted: {t}");
    // Asking a question mid-flow answers it and goes on.
    let t = h.ask(&key, "cuanto cuesta el premium?").await;
    assert!(t.contains("$600") && t.contains("plan te interesa"), "{t}");
    let t = h.ask(&key, "el basico").await;
    assert!(t.contains("¿Confirmo"), "{t}");
    let t = h.ask(&key, "dale").await;
    assert!(
        t.contains("Registro exitoso") && t.contains("Salamanca") && t.contains("$350/mes"),
        "{t}"
    );

    let key = tg("1002");
    h.ask(&key, "me quiero dar de alta").await;
    h.ask(&key, "Pedro Gómez").await;
    let out = {
        h.send(&key, "Guadalajara");
        h.reply().await
    };
    assert!(
        out.reply.text.contains("Todavía no llegamos a Guadalajara"),
        "{}",
        out.reply.text
    );
    assert!(!out.reply.quick_replies.is_empty(), "zone choices offered");
    let out = {
        h.send(&key, "Cerro Blaco");
        h.reply().await
    };
    assert!(out.reply.text.contains("plan"), "{}", out.reply.text);
    // Tapping a plan button completes it.
    h.send_inbound(Inbound {
        content: Content::Choice("plan:20".into()),
        ..Inbound::text(key.clone(), "")
    });
    let t = h.reply().await.reply.text;
    assert!(t.contains("Cerro Blanco") && t.contains("$350/mes"), "{t}");
    assert_eq!(h.store.prospects().len(), 1, "not before the yes");
    h.send_inbound(Inbound {
        content: Content::Choice("yes".into()),
        ..Inbound::text(key.clone(), "")
    });
    let t = h.reply().await.reply.text;
    assert!(t.contains("Registro exitoso"), "{t}");
    assert_eq!(h.store.prospects().len(), 2);
}

#[tokio::test]
async fn unknown_zone_gets_suggestions() {
    let mut h = start().await;
    let key = tg("1003");
    h.ask(&key, "quiero contratar").await;
    h.ask(&key, "Luis Díaz").await;
    let out = {
        h.send(&key, "cerro");
        h.reply().await
    };
    assert!(
        out.reply.text.contains("Cerro Blanco"),
        "{}",
        out.reply.text
    );
    assert!(out
        .reply
        .quick_replies
        .iter()
        .any(|q| q.id == "zone:Cerro Blanco"));
}

#[tokio::test]
async fn cancel_leaves_any_flow() {
    let mut h = start().await;
    let key = tg("1004");
    h.ask(&key, "quiero contratar").await;
    h.ask(&key, "Rosa Díaz").await;
    let t = h.ask(&key, "cancelar").await;
    assert!(t.contains("lo dejamos"), "{t}");
    // The flow is gone: a zone now is a coverage question, not a registration answer.
    let t = h.ask(&key, "¿llegan a la norte?").await;
    assert!(t.contains("Sí llegamos a Norte"), "{t}");
    assert!(h.store.prospects().is_empty());
    h.ask(&key, "no tengo internet").await;
    let t = h.ask(&key, "menú").await;
    assert!(t.contains("Puedo ayudarte"), "{t}");
    assert!(h.store.incidents().is_empty());
}

#[tokio::test]
async fn incident_without_service_is_alta_and_can_be_followed() {
    let mut h = start().await;
    let key = wa("5214649990001");
    let t = h.ask(&key, "no ay internet desde ayer").await;
    assert!(
        t.contains("módem"),
        "asks only what is missing (the modem): {t}"
    );
    let t = h.ask(&key, "si ya lo reinicie").await;
    assert!(t.contains("Alta") && t.contains("¿Lo confirmo"), "{t}");
    assert!(
        h.store.incidents().is_empty(),
        "nothing written before the yes"
    );
    let t = h.ask(&key, "ok").await;
    assert!(t.contains("INC-000001") && t.contains("Alta"), "{t}");
    let incidents = h.store.incidents();
    assert_eq!(incidents.len(), 1);
    assert_eq!(incidents[0].id, "INC-000001");
    assert_eq!(incidents[0].data.priority, Priority::Alta);
    assert!(incidents[0]
        .data
        .description
        .contains("Módem reiniciado: sí"));
    let t = h.ask(&key, "como va mi reporte?").await;
    assert!(t.contains("INC-000001"), "{t}");
    // Another user does not see it.
    let t = h.ask(&wa("5214649990002"), "como va mi reporte?").await;
    assert!(!t.contains("INC-000001"), "{t}");
}

#[tokio::test]
async fn slow_service_is_media_and_everything_at_once_completes() {
    let mut h = start().await;
    let key = tg("2001");
    let t = h
        .ask(
            &key,
            "el internet esta muy lento desde el lunes, ya reinicie el modem",
        )
        .await;
    assert!(t.contains("Media") && t.contains("¿Lo confirmo"), "{t}");
    let t = h.ask(&key, "sí").await;
    assert!(t.contains("Media") && t.contains("INC-"), "{t}");
    let t = h.ask(&key, "tengo un problema").await;
    assert!(t.contains("qué problema"), "{t}");
    let t = h.ask(&key, "se corta a cada rato").await;
    assert!(t.contains("Desde cuándo"), "{t}");
    let t = h.ask(&key, "hoy").await;
    assert!(t.contains("módem"), "{t}");
    let t = h.ask(&key, "no").await;
    assert!(t.contains("¿Lo confirmo"), "{t}");
    let t = h.ask(&key, "va").await;
    assert!(t.contains("INC-000002") && t.contains("Media"), "{t}");
    let t = h.ask(&key, "estado de mis reportes").await;
    let newest = t.find("INC-000002").expect("newest listed");
    let oldest = t.find("INC-000001").expect("oldest listed");
    assert!(newest < oldest, "newest first: {t}");
}

#[tokio::test]
async fn staff_only_intents_are_refused_to_customers_and_answered_to_staff() {
    let mut rules = common::default_rules();
    rules.staff.telegram_ids.push("999".into());
    let mut h = start_with(rules, 0).await;
    for q in [
        "estadisticas",
        "cuanto facturamos este mes",
        "busca al cliente juan",
    ] {
        let t = h.ask(&tg("1"), q).await;
        assert!(t.contains("solo para el personal"), "{q}: {t}");
    }
    let t = h.ask(&tg("999"), "estadisticas").await;
    assert!(
        t.contains("Clientes: 536") && t.contains("Ingreso mensual"),
        "{t}"
    );
    let t = h.ask(&tg("999"), "cuanto facturamos este mes").await;
    assert!(t.contains("Ingreso mensual recurrente"), "{t}");
    let first = h.store.clients().await.expect("clients")[0].clone();
    let surname = first
        .name
        .split_whitespace()
        .last()
        .unwrap_or_default()
        .to_string();
    let t = h
        .ask(&tg("999"), &format!("busca al cliente {}", first.name))
        .await;
    assert!(t.contains(&first.id), "search finds {}: {t}", first.name);
    assert!(
        t.lines().filter(|l| l.starts_with('•')).count() <= 10,
        "{surname}: {t}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_flooding_user_gets_one_notice_and_others_are_not_slowed() {
    let mut h = start_with(redsol_actors::testing::rules(), 0).await;
    let flooder = wa("5210000000001");
    for i in 0..100 {
        h.send(&flooder, &format!("hola {i}"));
    }
    let burst = h.rules.limits.inbound_burst as usize;
    let mut texts = Vec::new();
    for _ in 0..=burst {
        texts.push(h.reply().await.reply.text);
    }
    let notices = texts
        .iter()
        .filter(|t| t.contains("Vas muy rápido"))
        .count();
    assert_eq!(notices, 1, "{texts:?}");
    // Another user is answered at once while the flooder stays silenced.
    let t = h.ask(&wa("5210000000002"), "hola").await;
    assert!(t.contains("Hola"), "{t}");
    h.send(&flooder, "hola otra vez");
    h.no_reply_within(Duration::from_secs(1)).await;
    // After the bucket refills the flooder is answered again.
    tokio::time::advance(Duration::from_secs(10)).await;
    let t = h.ask(&flooder, "hola").await;
    assert!(t.contains("Hola"), "{t}");
}

#[tokio::test(start_paused = true)]
async fn idle_conversations_passivate_and_resume_where_they_were() {
    let mut h = start().await;
    let key = tg("3001");
    h.ask(&key, "quiero contratar").await;
    h.wait_active(1).await;
    let idle = h.rules.limits.idle_timeout();
    tokio::time::advance(idle + idle / 2).await;
    h.wait_active(0).await;
    let t = h.ask(&key, "Elena Torres").await;
    assert!(
        t.contains("Gracias, Elena") && t.contains("zona"),
        "resumed the registration: {t}"
    );
    h.wait_active(1).await;
}

#[tokio::test]
async fn bad_input_gets_a_sensible_answer() {
    let mut h = start().await;
    let key = tg("4001");
    let long = "x".repeat(10 * 1024);
    for input in [
        "",
        "   ",
        "\u{0}\u{7}\u{1b}[2J",
        "😀😀😀",
        "🙏",
        long.as_str(),
        "ñññ ¿¿¿ !!!",
    ] {
        let t = h.ask(&key, input).await;
        assert!(!t.is_empty(), "{input:?} answered");
        assert!(t.chars().count() <= 800, "reply within the limit");
    }
    h.send_inbound(Inbound {
        content: Content::Unsupported("sticker".into()),
        ..Inbound::text(key.clone(), "")
    });
    let t = h.reply().await.reply.text;
    assert!(t.contains("no puedo escuchar audios"), "{t}");
    let t = h.ask(&key, "pon una cancion de bad bunny").await;
    assert!(t.contains("solo puedo ayudarte"), "{t}");
}

#[tokio::test]
async fn telegram_registration_offers_to_share_the_phone_and_uses_it() {
    let mut h = start().await;
    let key = tg("6001");
    let mut first = Inbound::text(key.clone(), "quiero contratar");
    first.profile = Profile {
        name: Some("Marta Gil".into()),
        phone: None,
    };
    h.send_inbound(first);
    let out = h.reply().await;
    assert!(
        out.reply
            .quick_replies
            .iter()
            .any(|q| q.id == "contact:request"),
        "{:?}",
        out.reply.quick_replies
    );
    h.send_inbound(Inbound {
        content: Content::Contact {
            phone: "+52 464 123 4567".into(),
        },
        ..Inbound::text(key.clone(), "")
    });
    let t = h.reply().await.reply.text;
    assert!(
        t.contains("guardé tu teléfono") && t.contains("zona"),
        "{t}"
    );
    h.ask(&key, "norte").await;
    h.ask(&key, "el de 20").await;
    let t = h.ask(&key, "sí").await;
    assert!(t.contains("Registro exitoso"), "{t}");
    let prospect = h.store.prospects().pop().expect("saved");
    assert_eq!(prospect.data.phone.as_deref(), Some("+52 464 123 4567"));
    // WhatsApp users are not asked: their id is their phone.
    let mut wa_first = Inbound::text(wa("5214640000000"), "quiero contratar");
    wa_first.profile.name = Some("Eva Luna".into());
    h.send_inbound(wa_first);
    let out = h.reply().await;
    assert!(out.reply.text.contains("zona"), "{}", out.reply.text);
    assert!(
        !out.reply
            .quick_replies
            .iter()
            .any(|q| q.id == "contact:request"),
        "{:?}",
        out.reply.quick_replies
    );
}

#[tokio::test]
async fn a_search_question_left_in_a_snapshot_is_refused_once_the_user_is_not_staff() {
    let rules = common::default_rules();
    let store = common::demo_store(&rules);
    let key = tg("999000111");
    assert!(!rules.is_staff(&key), "the test user is not staff");
    let state = redsol_actors::engine::ConversationState {
        dialogue: redsol_actors::engine::Dialogue::AskingSearchQuery,
        ..Default::default()
    };
    store
        .save_snapshot(&key, serde_json::to_string(&state).expect("json"))
        .await
        .expect("snapshot");
    let mut h = start_with_store(rules, 0, store.clone()).await;
    let client = store.clients().await.expect("clients")[0].name.clone();
    let t = h.ask(&key, &client).await;
    assert!(t.contains("solo para el personal"), "{t}");
    assert!(!t.contains(&client), "no client data: {t}");
}
