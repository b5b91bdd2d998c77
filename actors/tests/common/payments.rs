//! A world for the billing tests: the engine over the demo clients and their demo payments,
//! on a clock anchored on a Monday, with a staff member on Telegram.

use super::{default_rules, demo_store, MONDAY_10AM};
use redsol_actors::brain::OfflineBrain;
use redsol_actors::clock::Clock;
use redsol_actors::demo::payments::demo_payments;
use redsol_actors::engine::{ConversationState, Engine};
use redsol_actors::model::{Channel, Client, Content, ConversationKey, Inbound};
use redsol_actors::store::payments::Payment;
use redsol_actors::store::{civil_from_days, MemoryStore, Store};
use std::sync::Arc;

pub const STAFF: &str = "7001";

pub struct World {
    pub engine: Engine,
    pub store: Arc<MemoryStore>,
    pub clients: Vec<Client>,
}

pub fn world() -> World {
    let mut rules = default_rules();
    rules.staff.telegram_ids = vec![STAFF.into()];
    let rules = Arc::new(rules);
    let store = demo_store(&rules);
    let (y, m, d) = civil_from_days((MONDAY_10AM / 86_400) as i64);
    let clients: Vec<Client> = store_clients(&store);
    store.seed_payments(demo_payments(&clients, &rules.billing, (y, m, d)));
    let engine = Engine::new(
        rules.clone(),
        Arc::new(OfflineBrain::new(rules)),
        store.clone(),
    )
    .with_clock(Clock::starting_at(MONDAY_10AM))
    .with_running([Channel::WhatsApp, Channel::Telegram]);
    World {
        engine,
        store,
        clients,
    }
}

fn store_clients(store: &MemoryStore) -> Vec<Client> {
    let waker = std::task::Waker::noop();
    let mut cx = std::task::Context::from_waker(waker);
    let mut f = store.clients();
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(Ok(c)) => c.to_vec(),
        _ => panic!("the memory store answers at once"),
    }
}

pub async fn say(
    w: &World,
    state: &mut ConversationState,
    key: &ConversationKey,
    content: Content,
) -> String {
    let inbound = Inbound {
        content,
        ..Inbound::text(key.clone(), "")
    };
    w.engine.turn(state, &inbound).await.text
}

pub fn text(t: &str) -> Content {
    Content::Text(t.into())
}

/// A client's payments as the store holds them, oldest period first.
pub async fn payments_of(w: &World, client_id: &str) -> Vec<Payment> {
    w.store
        .payments()
        .payments_of(client_id)
        .await
        .expect("payments")
}

/// A staff member's message in a conversation of its own: the reply, and the turn's state
/// (what it sent to others).
pub async fn staff_says(w: &World, t: &str) -> (String, ConversationState) {
    let mut state = ConversationState::default();
    let staff = ConversationKey::new(Channel::Telegram, STAFF);
    let reply = say(w, &mut state, &staff, text(t)).await;
    (reply, state)
}

/// What a turn sent to `key` (empty when nothing).
pub fn sent_to(state: &ConversationState, key: &ConversationKey) -> String {
    state
        .outgoing
        .iter()
        .filter(|a| &a.key == key)
        .map(|a| a.reply.text.clone())
        .collect::<Vec<_>>()
        .join("\n")
}
