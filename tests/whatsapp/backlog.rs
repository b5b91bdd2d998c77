//! The sender under a backlog larger than it holds in memory (an outage storm): the rest
//! waits in the outbox on disk and is read back in order, every reply leaves once, and a
//! restart reads a large backlog back a page at a time. Paused time: the platform's budget is
//! one message a second.

use crate::sender_harness::*;
use redsol::whatsapp::outbound;
use redsol_actors::model::{Outbound, ReplySink};
use std::sync::Arc;
use std::time::Duration;

/// Replies the sender holds in memory in these tests.
const MEMORY: usize = 4;

fn storm_tuning() -> redsol::settings::WhatsAppTuning {
    let mut t = tuning();
    t.send_per_second = 1;
    t.memory_queue = MEMORY;
    t
}

/// A phone of its own for reply `n`.
fn user(n: usize) -> String {
    format!("52155000{n:05}")
}

/// Reply `n` to a user of its own ("respuesta n"), committed to the outbox.
async fn to_user(h: &Harness, n: usize) -> Outbound {
    h.durable(
        &user(n),
        &format!("wamid.U{n}"),
        reply(&format!("respuesta {n}"), &[]),
    )
    .await
}

/// A new sender over the same outbox and fake, as after a kill -9.
async fn sender_after_a_kill(h: &Harness) -> outbound::WhatsAppOutbound {
    let client = redsol::whatsapp::graph::GraphClient::new(
        h.fake.base_url(),
        VERSION,
        PHONE_ID,
        redsol::settings::Secret::new(TOKEN),
        Duration::from_secs(10),
    )
    .expect("client");
    outbound::spawn(client, &storm_tuning(), h.store.clone(), None)
        .await
        .expect("sender starts")
}

/// Lets the sender take what was handed to it (virtual time moves only when all is idle).
async fn settle() {
    tokio::time::sleep(Duration::from_millis(1)).await;
}

#[tokio::test(start_paused = true)]
async fn a_backlog_past_memory_waits_on_disk_and_leaves_in_order_once() {
    let h = start(storm_tuning()).await;
    // Ana's first reply is held in memory, her second waits on disk among the others', her
    // third comes once the backlog was read back.
    let mut order: Vec<(String, String)> = Vec::new();
    let mut replies: Vec<Outbound> = Vec::new();
    let mut add = |replies: &mut Vec<Outbound>, out: Outbound, to: &str| {
        order.push((to.to_string(), out.reply.text.clone()));
        replies.push(out);
    };
    let first = h.durable(ANA, "wamid.ANA1", reply("Ana uno", &[])).await;
    add(&mut replies, first, ANA);
    for n in 0..30 {
        let out = to_user(&h, n).await;
        add(&mut replies, out, &user(n));
    }
    let second = h.durable(ANA, "wamid.ANA2", reply("Ana dos", &[])).await;
    add(&mut replies, second, ANA);
    for out in replies {
        h.sink.deliver(out);
    }
    settle().await;
    let sink: Arc<dyn ReplySink> = h.sink.clone();
    assert!(
        h.sender.pending() <= MEMORY + 1,
        "memory holds at most {MEMORY} waiting and one sending: {}",
        h.sender.pending()
    );
    assert!(
        sink.backlog() >= 32 - MEMORY - 1,
        "the backlog on disk still counts (campaigns wait): {}",
        sink.backlog()
    );
    let sent = h.fake.wait_for_within(32, Duration::from_secs(120)).await;
    let third = h.durable(ANA, "wamid.ANA3", reply("Ana tres", &[])).await;
    h.sink.deliver(third);
    let sent_all = h.fake.wait_for_within(33, Duration::from_secs(10)).await;
    h.drain().await;

    let got: Vec<(String, String)> = sent
        .iter()
        .map(|r| (r.to.clone(), r.body.clone()))
        .collect();
    assert_eq!(got, order, "every reply once, in the order handed over");
    assert_eq!(sent_all.len(), 33);
    assert_eq!(sent_all[32].body, "Ana tres");
    assert!(h.unsent().await.is_empty());
    // At the configured rate: one a second after the first token.
    let span = sent[31].at - sent[0].at;
    assert!(span >= Duration::from_secs(31), "{span:?}");
    assert_eq!(h.sink.backlog(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_restart_reads_a_large_backlog_back_a_page_at_a_time() {
    let h = start(storm_tuning()).await;
    // The first sender has read back its (empty) outbox, and stops: the process is gone.
    settle().await;
    h.sender.stop();
    let mut expected = Vec::new();
    for n in 0..25 {
        let to = user(n);
        h.durable(
            &to,
            &format!("wamid.R{n}"),
            reply(&format!("pendiente {n}"), &[]),
        )
        .await;
        expected.push(format!("pendiente {n}"));
    }
    let again = sender_after_a_kill(&h).await;
    assert_eq!(again.resend_pending().await, 25, "all 25 waiting");
    settle().await;
    assert!(
        again.pending() <= MEMORY + 1,
        "read back a page at a time, not all at once: {}",
        again.pending()
    );
    let sent = h.fake.wait_for_within(25, Duration::from_secs(60)).await;
    let bodies: Vec<String> = sent.iter().map(|r| r.body.clone()).collect();
    assert_eq!(bodies, expected, "each once, oldest first");
    assert!(again.drain(DRAIN).await);
    assert!(h.unsent().await.is_empty());
}

#[tokio::test(start_paused = true)]
async fn while_the_backlog_is_on_disk_a_reply_joins_its_recipients_waiting_one() {
    let h = start(storm_tuning()).await;
    // Beto's reply takes the one token; Ana's first reply and three others fill memory; the
    // next one waits on disk.
    h.sink.deliver(plain(BETO, "hola Beto"));
    h.fake.wait_for_within(1, Duration::from_secs(10)).await;
    let mut handed = vec![h.durable(ANA, "wamid.ANA1", reply("Ana uno", &[])).await];
    for n in 0..4 {
        handed.push(to_user(&h, n).await);
    }
    // Ana writes again: her reply joins the one waiting in memory, ahead of the disk.
    handed.push(h.durable(ANA, "wamid.ANA2", reply("Ana dos", &[])).await);
    for out in handed {
        h.sink.deliver(out);
    }
    let sent = h.fake.wait_for_within(6, Duration::from_secs(60)).await;
    h.drain().await;
    let to_ana: Vec<&str> = sent
        .iter()
        .filter(|r| r.to == ANA)
        .map(|r| r.body.as_str())
        .collect();
    assert_eq!(to_ana, ["Ana uno\n\nAna dos"], "one message for both");
    let others: Vec<&str> = sent
        .iter()
        .filter(|r| r.to != ANA && r.to != BETO)
        .map(|r| r.body.as_str())
        .collect();
    assert_eq!(
        others,
        ["respuesta 0", "respuesta 1", "respuesta 2", "respuesta 3"]
    );
    assert_eq!(h.fake.sent().len(), 6);
    assert!(h.unsent().await.is_empty());
}

#[tokio::test(start_paused = true)]
async fn after_a_restart_a_new_reply_waits_behind_the_old_ones() {
    let h = start(storm_tuning()).await;
    settle().await;
    h.sender.stop();
    h.durable(ANA, "wamid.OLD", reply("Ana, lo de antes", &[]))
        .await;
    // The new process: a conversation answers Ana before anyone asked for the outbox.
    let again = sender_after_a_kill(&h).await;
    let new = h
        .durable(ANA, "wamid.NEW", reply("Ana, lo nuevo", &[]))
        .await;
    again.sink().deliver(new);
    let sent = h.fake.wait_for_within(1, Duration::from_secs(10)).await;
    assert!(again.drain(DRAIN).await);
    settle().await;
    let bodies: Vec<String> = h.fake.sent().iter().map(|r| r.body.clone()).collect();
    assert_eq!(
        sent[0].body, "Ana, lo de antes",
        "the old reply first: {bodies:?}"
    );
    assert!(h.unsent().await.is_empty());
}
