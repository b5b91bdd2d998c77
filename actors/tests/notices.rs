//! Outage notices through the real engine and campaign runner, on paused time: every client
//! of the zone who can be reached is told once per event (declared, a new ETA, restored), on
//! the channel they last wrote on, as WhatsApp text inside the 24-hour window and as the
//! template outside it; "BAJA AVISOS" leaves a client out; a repeated event tells nobody again.

mod common;

use common::{default_rules, demo_store, MONDAY_10AM};
use redsol_actors::brain::OfflineBrain;
use redsol_actors::campaign;
use redsol_actors::clock::Clock;
use redsol_actors::engine::{ConversationState, Engine};
use redsol_actors::model::{
    Channel, Client, Content, ConversationKey, Inbound, Outbound, ReplySink,
};
use redsol_actors::store::{MemoryStore, Store};
use redsol_actors::supervisor::Sinks;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Collects what the campaign hands to the channels.
#[derive(Default)]
struct Collect(Mutex<Vec<Outbound>>);

impl ReplySink for Collect {
    fn deliver(&self, out: Outbound) {
        if let Ok(mut v) = self.0.lock() {
            v.push(out);
        }
    }
}

impl Collect {
    fn take(&self) -> Vec<Outbound> {
        self.0
            .lock()
            .map(|mut v| std::mem::take(&mut *v))
            .unwrap_or_default()
    }
}

struct World {
    engine: Engine,
    store: Arc<MemoryStore>,
    sink: Arc<Collect>,
    sinks: Sinks,
    norte: Vec<Client>,
}

fn world() -> World {
    let rules = Arc::new(default_rules());
    let store = demo_store(&rules);
    let engine = Engine::new(
        rules.clone(),
        Arc::new(OfflineBrain::new(rules)),
        store.clone(),
    )
    .with_clock(Clock::starting_at(MONDAY_10AM))
    .with_running([Channel::WhatsApp, Channel::Telegram]);
    let sink = Arc::new(Collect::default());
    let sinks: Sinks = [Channel::WhatsApp, Channel::Telegram]
        .into_iter()
        .map(|c| (c, sink.clone() as Arc<dyn ReplySink>))
        .collect();
    let norte: Vec<Client> = store_clients(&store)
        .into_iter()
        .filter(|c| c.zone == "Norte")
        .collect();
    assert!(norte.len() > 10, "the demo has Norte clients");
    World {
        engine,
        store,
        sink,
        sinks,
        norte,
    }
}

fn store_clients(store: &MemoryStore) -> Vec<Client> {
    futures_lite(store.clients())
        .map(|c| c.to_vec())
        .unwrap_or_default()
}

/// Runs a ready future (the memory store answers at once).
fn futures_lite<T>(f: redsol_actors::store::BoxFuture<'_, T>) -> T {
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    let mut f = f;
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("the memory store answers at once"),
    }
}

fn wa_of(c: &Client) -> ConversationKey {
    ConversationKey::new(Channel::WhatsApp, format!("52{}", c.phone))
}

async fn say(engine: &Engine, key: &ConversationKey, content: Content) -> String {
    let mut state = ConversationState::default();
    let inbound = Inbound {
        content,
        ..Inbound::text(key.clone(), "")
    };
    engine.turn(&mut state, &inbound).await.text
}

/// Everything the campaign releases now.
async fn released(w: &World) -> Vec<Outbound> {
    while campaign::release_once(w.store.as_ref(), &w.sinks, 1000, usize::MAX).await > 0 {}
    w.sink.take()
}

fn by_user(notices: &[Outbound]) -> HashMap<String, Vec<&Outbound>> {
    let mut m: HashMap<String, Vec<&Outbound>> = HashMap::new();
    for n in notices {
        m.entry(n.key.user.clone()).or_default().push(n);
    }
    m
}

#[tokio::test(start_paused = true)]
async fn each_reachable_client_of_the_zone_is_told_once_per_event_in_the_right_form() {
    let w = world();
    let (stale, recent, on_telegram, opted_out) =
        (&w.norte[0], &w.norte[1], &w.norte[2], &w.norte[3]);
    // Yesterday morning: a client wrote on WhatsApp (30 h before the outage).
    say(&w.engine, &wa_of(stale), Content::Text("hola".into())).await;
    tokio::time::advance(Duration::from_secs(29 * 3600)).await;
    // An hour before: another wrote on WhatsApp, one shared their phone on Telegram, one
    // asked for no notices.
    say(&w.engine, &wa_of(recent), Content::Text("hola".into())).await;
    let tg = ConversationKey::new(Channel::Telegram, "900100");
    say(
        &w.engine,
        &tg,
        Content::Contact {
            phone: on_telegram.phone.clone(),
        },
    )
    .await;
    let off = say(
        &w.engine,
        &wa_of(opted_out),
        Content::Text("BAJA AVISOS".into()),
    )
    .await;
    assert!(off.contains("ya no te enviaremos avisos"), "{off}");
    tokio::time::advance(Duration::from_secs(3600)).await;

    let (o, new) = w
        .engine
        .declare_outage("norte", "corte de fibra", "2 h", Some("test:1".into()))
        .await
        .expect("store")
        .expect("a zone of ours");
    assert!(new);
    let notices = released(&w).await;
    let users = by_user(&notices);
    assert!(users.values().all(|v| v.len() == 1), "each once");
    assert_eq!(
        notices.len(),
        w.norte.len() - 1,
        "every Norte client but the one who opted out"
    );
    assert!(!users.contains_key(&wa_of(opted_out).user));
    // Inside the window: text. Outside it (or never written): the template.
    let recent_notice = users[&wa_of(recent).user][0];
    assert!(recent_notice.template.is_none());
    assert!(
        recent_notice.reply.text.contains("corte de fibra"),
        "{}",
        recent_notice.reply.text
    );
    let stale_notice = users[&wa_of(stale).user][0];
    let template = stale_notice
        .template
        .as_ref()
        .expect("a template outside the window");
    assert_eq!(template.name, "falla_zona");
    assert_eq!(template.params, ["Norte", "corte de fibra", "2 h"]);
    // The Telegram customer is told on Telegram, not on WhatsApp.
    assert_eq!(users[&tg.user][0].key.channel, Channel::Telegram);
    assert!(!users.contains_key(&wa_of(on_telegram).user));
    // Nobody outside Norte.
    let norte_phones: Vec<String> = w.norte.iter().map(|c| format!("52{}", c.phone)).collect();
    assert!(notices
        .iter()
        .filter(|n| n.key.channel == Channel::WhatsApp)
        .all(|n| norte_phones.contains(&n.key.user)));
    assert!(notices.iter().all(|n| n
        .outbox_id
        .as_deref()
        .is_some_and(|id| id.starts_with("notice:"))));

    // Declared again (an alert repeated): nobody is told again.
    w.engine
        .declare_outage("Norte", "corte de fibra", "2 h", Some("test:1".into()))
        .await
        .expect("store");
    w.engine
        .declare_outage("Norte", "corte de fibra", "2 h", None)
        .await
        .expect("store");
    assert!(
        released(&w).await.is_empty(),
        "a repeated declaration tells nobody"
    );

    // A new ETA is news, once.
    w.engine
        .declare_outage("Norte", "corte de fibra", "hoy a las 18:00", None)
        .await
        .expect("store");
    let eta = released(&w).await;
    assert_eq!(eta.len(), w.norte.len() - 1);
    assert!(users_all_once(&eta));
    let stale_eta = eta.iter().find(|n| n.key == wa_of(stale)).expect("told");
    let t = stale_eta.template.as_ref().expect("template");
    assert_eq!(
        (t.name.as_str(), t.params.clone()),
        (
            "falla_zona_eta",
            vec!["Norte".to_string(), "hoy a las 18:00".to_string()]
        )
    );
    w.engine
        .declare_outage("Norte", "corte de fibra", "hoy a las 18:00", None)
        .await
        .expect("store");
    assert!(
        released(&w).await.is_empty(),
        "the same ETA again is not news"
    );

    // Restored: told once more, then never again.
    w.engine
        .resolve_outage(Some("Norte"), None)
        .await
        .expect("store")
        .expect("open");
    let restored = released(&w).await;
    assert_eq!(restored.len(), w.norte.len() - 1);
    assert!(restored.iter().all(|n| n
        .template
        .as_ref()
        .is_none_or(|t| t.name == "servicio_restablecido")));
    assert!(restored
        .iter()
        .find(|n| n.key == wa_of(recent))
        .is_some_and(|n| n.reply.text.contains("restablecido")));
    w.engine
        .resolve_outage(Some("Norte"), None)
        .await
        .expect("store");
    assert!(released(&w).await.is_empty());
    assert_eq!(o.zone, "Norte");
}

fn users_all_once(notices: &[Outbound]) -> bool {
    by_user(notices).values().all(|v| v.len() == 1)
}

#[tokio::test(start_paused = true)]
async fn notices_wait_while_a_sender_has_replies_waiting() {
    struct Busy;
    impl ReplySink for Busy {
        fn deliver(&self, _out: Outbound) {}
        fn backlog(&self) -> usize {
            500
        }
    }
    let w = world();
    w.engine
        .declare_outage("Norte", "mantenimiento", "1 h", None)
        .await
        .expect("store");
    let busy: Sinks = [(Channel::WhatsApp, Arc::new(Busy) as Arc<dyn ReplySink>)]
        .into_iter()
        .collect();
    assert_eq!(
        campaign::release_once(w.store.as_ref(), &busy, 100, 100).await,
        0
    );
    let waiting = w.store.notices().notices_waiting().await.expect("count");
    assert_eq!(
        waiting as usize,
        w.norte.len(),
        "nothing released while replies wait"
    );
    // Replies gone: the campaign goes on.
    assert_eq!(
        campaign::release_once(w.store.as_ref(), &w.sinks, 100, 100).await,
        100.min(w.norte.len())
    );
}

#[tokio::test(start_paused = true)]
async fn alta_avisos_turns_them_back_on() {
    let w = world();
    let c = &w.norte[0];
    say(&w.engine, &wa_of(c), Content::Text("baja avisos".into())).await;
    let on = say(&w.engine, &wa_of(c), Content::Text("Alta avisos".into())).await;
    assert!(on.contains("te avisaremos"), "{on}");
    w.engine
        .declare_outage("Norte", "mantenimiento", "1 h", None)
        .await
        .expect("store");
    let notices = released(&w).await;
    assert!(notices.iter().any(|n| n.key == wa_of(c)));
}
