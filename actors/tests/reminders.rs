//! Payment reminders through the real engine and campaign runner, on paused time: three days
//! before a pending period's due date and on it, exactly the clients with that period pending
//! are reminded, once each (however often the sweep runs), as the template outside the
//! WhatsApp window and as text inside it; a client who paid in the meantime, or who wrote
//! "BAJA AVISOS", gets none.

mod common;

use common::payments::{payments_of, say, text, world, World, STAFF};
use redsol_actors::campaign;
use redsol_actors::engine::ConversationState;
use redsol_actors::model::{Channel, Client, ConversationKey, Outbound, ReplySink};
use redsol_actors::store::payments::PaymentStatus;
use redsol_actors::supervisor::Sinks;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
struct Collect(Mutex<Vec<Outbound>>);

impl ReplySink for Collect {
    fn deliver(&self, out: Outbound) {
        if let Ok(mut v) = self.0.lock() {
            v.push(out);
        }
    }
}

async fn released(w: &World, sink: &Arc<Collect>) -> Vec<Outbound> {
    let sinks: Sinks = [Channel::WhatsApp, Channel::Telegram]
        .into_iter()
        .map(|c| (c, sink.clone() as Arc<dyn ReplySink>))
        .collect();
    while campaign::release_once(w.store.as_ref(), &sinks, 1000, usize::MAX).await > 0 {}
    sink.0
        .lock()
        .map(|mut v| std::mem::take(&mut *v))
        .unwrap_or_default()
}

fn wa(c: &Client) -> ConversationKey {
    ConversationKey::new(Channel::WhatsApp, format!("52{}", c.phone))
}

/// The clients with a period pending and due on `due`.
async fn pending_on(w: &World, due: &str) -> HashSet<String> {
    let mut out = HashSet::new();
    for c in &w.clients {
        let p = payments_of(w, &c.id).await;
        if p.iter()
            .any(|p| p.status == PaymentStatus::Pendiente && p.due == due)
        {
            out.insert(c.id.clone());
        }
    }
    out
}

#[tokio::test(start_paused = true)]
async fn exactly_the_pending_clients_are_reminded_once_before_and_on_the_due_date() {
    let w = world();
    let sink = Arc::new(Collect::default());
    // Monday 7 December: this period is due on Thursday the 10th.
    let due = "2026-12-10";
    let pending = pending_on(&w, due).await;
    assert!(pending.len() > 100, "{} pending", pending.len());
    let mut pending_clients: Vec<&Client> = w
        .clients
        .iter()
        .filter(|c| pending.contains(&c.id))
        .collect();
    pending_clients.sort_by(|a, b| a.id.cmp(&b.id));
    let (wrote, opted_out, pays) = (pending_clients[0], pending_clients[1], pending_clients[2]);
    // One wrote just now (inside the window), one asked for no notices.
    say(
        &w,
        &mut ConversationState::default(),
        &wa(wrote),
        text("hola"),
    )
    .await;
    say(
        &w,
        &mut ConversationState::default(),
        &wa(opted_out),
        text("BAJA AVISOS"),
    )
    .await;

    assert_eq!(w.engine.queue_payment_reminders().await, pending.len() - 1);
    assert_eq!(
        w.engine.queue_payment_reminders().await,
        0,
        "the sweep again queues none"
    );
    let first = released(&w, &sink).await;
    let told: HashSet<String> = first.iter().map(|n| n.key.user.clone()).collect();
    assert_eq!(first.len(), told.len(), "each once");
    let expected: HashSet<String> = pending_clients
        .iter()
        .filter(|c| c.id != opted_out.id)
        .map(|c| wa(c).user)
        .collect();
    assert_eq!(
        told, expected,
        "exactly the clients with the period pending"
    );
    let inside = first.iter().find(|n| n.key == wa(wrote)).expect("reminded");
    assert!(
        inside.template.is_none() && inside.reply.text.contains("vence el 10/12/2026"),
        "{}",
        inside.reply.text
    );
    let outside = first.iter().find(|n| n.key != wa(wrote)).expect("another");
    let t = outside
        .template
        .as_ref()
        .expect("the template outside the window");
    assert_eq!(t.name, "recordatorio_pago");
    assert_eq!(t.params[1], "2026-12");
    assert_eq!(t.params[3], "10/12/2026");

    // One pays in the meantime: a receipt, confirmed by staff.
    let mut state = ConversationState::default();
    say(&w, &mut state, &wa(pays), text("ya pague")).await;
    let media = redsol_actors::model::Content::Media {
        kind: "image".into(),
        id: "media-pays".into(),
        caption: None,
    };
    say(&w, &mut state, &wa(pays), media).await;
    let report = payments_of(&w, &pays.id)
        .await
        .into_iter()
        .find(|p| p.status == PaymentStatus::PorConfirmar)
        .expect("reported");
    let staff = ConversationKey::new(Channel::Telegram, STAFF);
    say(
        &w,
        &mut ConversationState::default(),
        &staff,
        text(&format!("/pago {} ok", report.id)),
    )
    .await;

    // Thursday: the due date. Everyone still pending is reminded once more; not who paid.
    tokio::time::advance(Duration::from_secs(3 * 86_400)).await;
    let still = pending_on(&w, due).await;
    assert!(!still.contains(&pays.id));
    w.engine.queue_payment_reminders().await;
    w.engine.queue_payment_reminders().await;
    let second = released(&w, &sink).await;
    let told: HashSet<String> = second.iter().map(|n| n.key.user.clone()).collect();
    assert_eq!(second.len(), told.len(), "each once");
    assert!(
        !told.contains(&wa(pays).user),
        "paid in the meantime: no reminder"
    );
    assert!(!told.contains(&wa(opted_out).user));
    assert_eq!(told.len(), still.len() - 1);
    assert!(second
        .iter()
        .all(|n| n.template.is_some() || n.reply.text.contains("hoy vence")));
}
