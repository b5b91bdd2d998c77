//! The WhatsApp sender through its public API, against the fake Graph API: rendering on the
//! wire, retries, rate limits in virtual time, per-recipient order, outbox bookkeeping.
//!
//! Nothing here sleeps to wait for work: tests wait on the fake (`wait_for`, bounded by a
//! `Notify`) or on the sender (`drain`); timing is only asserted in paused (virtual) time.

use crate::fake_graph::{FakeGraph, Script};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use redsol::settings::{Secret, Settings, WhatsAppTuning};
use redsol::whatsapp::graph::{GraphClient, GraphError, GraphMessage};
use redsol::whatsapp::outbound::WhatsAppOutbound;
use redsol_actors::model::{Channel, ConversationKey, Outbound, QuickReply, Reply, ReplySink};
use redsol_actors::store::{MemoryStore, OutboxEntry, Store, TurnCommit};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

const TOKEN: &str = "EAAG-test-access-token-0123456789";
const VERSION: &str = "v23.0";
const PHONE_ID: &str = "109876543210";
const ANA: &str = "5215512345678";
const BETO: &str = "5215587654321";
/// Bound of `drain` in the tests (reached only when a test fails).
const DRAIN: Duration = Duration::from_secs(20);

/// The default `[whatsapp]` tuning, with pacing lifted and fast retries.
fn tuning() -> WhatsAppTuning {
    let mut t = Settings::load_from(&HashMap::<String, String>::new())
        .expect("default settings load")
        .whatsapp_tuning;
    t.api_version = VERSION.to_string();
    t.send_per_second = 1000;
    t.recipient_burst = 1000;
    t.recipient_per_second = 1000.0;
    t.request_timeout_secs = 10;
    t.max_retries = 3;
    t.backoff_base_ms = 1;
    t.backoff_max_secs = 1;
    t.mark_read = true;
    t
}

struct Harness {
    fake: FakeGraph,
    store: Arc<MemoryStore>,
    sender: WhatsAppOutbound,
    sink: Arc<dyn ReplySink>,
}

async fn start(t: WhatsAppTuning) -> Harness {
    let fake = FakeGraph::start(TOKEN, VERSION, PHONE_ID).await;
    let client = GraphClient::new(
        fake.base_url(),
        &t.api_version,
        PHONE_ID,
        Secret::new(TOKEN),
        Duration::from_secs(t.request_timeout_secs),
    )
    .expect("client");
    let store = Arc::new(MemoryStore::new(Vec::new()));
    let sender = WhatsAppOutbound::spawn(client, &t, store.clone()).expect("sender starts");
    let sink = sender.sink();
    Harness {
        fake,
        store,
        sender,
        sink,
    }
}

impl Harness {
    async fn drain(&self) {
        assert!(self.sender.drain(DRAIN).await, "the sender drains");
    }

    /// Outbox ids not yet marked sent.
    async fn unsent(&self) -> Vec<String> {
        self.store
            .outbox_pending(Channel::WhatsApp)
            .await
            .expect("outbox")
            .into_iter()
            .map(|e| e.id)
            .collect()
    }

    /// A reply committed to the outbox, as a conversation commits it, and its `Outbound`.
    async fn durable(&self, user: &str, message_id: &str, reply: Reply) -> Outbound {
        let key = wa(user);
        let entry = OutboxEntry {
            id: OutboxEntry::id_for(&key, message_id, 0),
            key: key.clone(),
            reply: reply.clone(),
            in_reply_to: Some(message_id.to_string()),
            queued_at: 0,
            reply_to: None,
            attempted: false,
            edit: None,
        };
        self.store
            .commit_turn(TurnCommit {
                key: key.clone(),
                message_id: None,
                snapshot: "{}".to_string(),
                replies: vec![entry.clone()],
            })
            .await
            .expect("commit");
        Outbound {
            key,
            reply,
            in_reply_to: Some(message_id.to_string()),
            outbox_id: Some(entry.id),
            accepted_at: Instant::now(),
            reply_to: None,
            edit: None,
        }
    }
}

fn wa(user: &str) -> ConversationKey {
    ConversationKey::new(Channel::WhatsApp, user)
}

fn reply(text: &str, options: &[(&str, &str)]) -> Reply {
    Reply {
        text: text.to_string(),
        quick_replies: options
            .iter()
            .map(|(id, title)| QuickReply::new(*id, *title))
            .collect(),
    }
}

fn plain(user: &str, text: &str) -> Outbound {
    Outbound {
        key: wa(user),
        reply: reply(text, &[]),
        in_reply_to: None,
        outbox_id: None,
        accepted_at: Instant::now(),
        reply_to: None,
        edit: None,
    }
}

/// A text of numbered lines (`0001 ...`), at least `chars` long.
fn numbered_text(chars: usize) -> String {
    let mut lines = Vec::new();
    let mut len = 0;
    let mut n = 1;
    while len < chars {
        let line = format!("{n:04} Plan Estándar 50 Mbps, instalación en 24-48 h en tu zona.");
        len += line.chars().count() + 1;
        lines.push(line);
        n += 1;
    }
    lines.join("\n")
}

/// The numbers of the lines a text message carries.
fn line_numbers(body: &str) -> Vec<u32> {
    body.lines()
        .filter_map(|l| l.get(..4).and_then(|n| n.parse().ok()))
        .collect()
}

#[tokio::test]
async fn quick_replies_arrive_as_reply_buttons_or_as_a_list() {
    let h = start(tuning()).await;
    let three = [
        ("plan_20", "20 Mbps Básico"),
        ("plan_50", "50 Mbps Estándar"),
        ("plan_100", "100 Mbps Premium $600/mes"),
    ];
    let five = [
        ("norte", "Norte"),
        ("sur", "Sur"),
        ("centro", "Centro"),
        ("cerro_blanco", "Cerro Blanco"),
        ("tambor", "Tambor/Santa Ana, la zona de la presa"),
    ];
    h.sink.deliver(Outbound {
        reply: reply("📶 ¿Qué plan te interesa?", &three),
        ..plain(ANA, "")
    });
    h.sink.deliver(Outbound {
        reply: reply("📍 ¿En qué zona vives?", &five),
        ..plain(ANA, "")
    });
    let sent = h.fake.wait_for(2).await;

    assert_eq!(sent[0].kind, "button");
    assert_eq!(sent[0].to, ANA);
    assert_eq!(sent[0].body, "📶 ¿Qué plan te interesa?");
    assert_eq!(sent[0].ids, ["plan_20", "plan_50", "plan_100"]);
    assert!(sent[0].titles[2].ends_with('…'), "{:?}", sent[0].titles);

    assert_eq!(sent[1].kind, "list");
    assert_eq!(
        sent[1].ids,
        ["norte", "sur", "centro", "cerro_blanco", "tambor"]
    );
    assert_eq!(sent[1].titles[3], "Cerro Blanco");
    h.drain().await;
    assert_eq!(h.fake.requests().len(), 2, "nothing rejected or retried");
}

#[tokio::test]
async fn a_long_text_arrives_as_three_text_messages_in_order() {
    let h = start(tuning()).await;
    let text = numbered_text(9000);
    h.sink.deliver(plain(ANA, &text));
    let sent = h.fake.wait_for(3).await;
    h.drain().await;

    assert_eq!(h.fake.sent().len(), 3);
    assert!(sent.iter().all(|r| r.kind == "text" && r.to == ANA));
    let numbers: Vec<u32> = sent.iter().flat_map(|r| line_numbers(&r.body)).collect();
    let expected: Vec<u32> = (1..=numbers.len() as u32).collect();
    assert_eq!(numbers, expected, "every line once, in order, none cut");
    assert_eq!(
        sent.iter()
            .map(|r| r.body.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        text
    );
}

#[tokio::test]
async fn a_server_error_is_retried_and_the_outbox_entry_marked_sent() {
    let h = start(tuning()).await;
    h.fake.script(Script::server_error());
    let out = h.durable(ANA, "wamid.IN1", reply("¡Hola! 👋", &[])).await;
    assert_eq!(h.unsent().await.len(), 1);

    h.sink.deliver(out);
    h.fake.wait_for(1).await;
    h.drain().await;

    let statuses: Vec<u16> = h.fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [500, 200]);
    assert_eq!(h.fake.sent().len(), 1, "exactly one message arrived");
    assert!(
        h.unsent().await.is_empty(),
        "the outbox entry is marked sent"
    );
}

fn counter(snapshotter: &Snapshotter, name: &str, labels: &[(&str, &str)]) -> u64 {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(k, _, _, _)| {
            k.key().name() == name
                && labels
                    .iter()
                    .all(|(lk, lv)| k.key().labels().any(|l| l.key() == *lk && l.value() == *lv))
        })
        .map(|(_, _, _, v)| match v {
            DebugValue::Counter(n) => n,
            _ => 0,
        })
        .sum()
}

// The one test with a metrics recorder: a local one, on this test's thread (the runtime of
// `#[tokio::test]` is single-threaded, so the sender's tasks record into it too).
#[tokio::test]
async fn a_permanent_rejection_is_not_retried_and_counted_as_rejected() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _local = metrics::set_default_local_recorder(&recorder);

    let h = start(tuning()).await;
    h.fake.script(Script::graph_error(
        400,
        131026,
        "Message undeliverable (test-scripted)",
    ));
    let rejected = h.durable(ANA, "wamid.IN1", reply("hola", &[])).await;
    h.sink.deliver(rejected);
    h.fake.wait_for_requests(1).await;
    h.drain().await;

    assert_eq!(
        h.fake.requests().len(),
        1,
        "a permanent rejection is not retried"
    );
    assert!(h.fake.sent().is_empty());
    let sent_total = |outcome| {
        counter(
            &snapshotter,
            "redsol_messages_sent_total",
            &[("channel", "whatsapp"), ("outcome", outcome)],
        )
    };
    assert_eq!(sent_total("rejected"), 1);
    assert_eq!(sent_total("error"), 0);
    assert!(
        h.unsent().await.is_empty(),
        "a message Graph will never accept is not kept for the next start"
    );

    // The next reply goes through: counted ok, its response time observed.
    h.sink.deliver(plain(BETO, "segundo"));
    h.fake.wait_for(1).await;
    h.drain().await;
    let snapshot = snapshotter.snapshot().into_hashmap();
    let ok = snapshot.iter().find(|(k, _)| {
        k.key().name() == "redsol_messages_sent_total"
            && k.key().labels().any(|l| l.value() == "ok")
    });
    assert!(
        matches!(ok, Some((_, (_, _, DebugValue::Counter(1))))),
        "{ok:?}"
    );
    let response = snapshot
        .iter()
        .find(|(k, _)| k.key().name() == "redsol_response_seconds");
    assert!(
        matches!(response, Some((_, (_, _, DebugValue::Histogram(v)))) if v.len() == 1),
        "{response:?}"
    );
    // No label carries a phone number.
    assert!(snapshot
        .keys()
        .all(|k| k.key().labels().all(|l| !l.value().contains("5215"))));
}

#[tokio::test]
async fn a_rejection_of_our_credentials_keeps_the_reply_for_the_next_start() {
    let h = start(tuning()).await;
    h.fake.script(Script::graph_error(
        401,
        190,
        "Error validating access token: Session has expired",
    ));
    let out = h.durable(ANA, "wamid.IN1", reply("hola", &[])).await;
    let id = out.outbox_id.clone();
    h.sink.deliver(out);
    h.fake.wait_for_requests(1).await;
    h.drain().await;
    assert_eq!(h.fake.requests().len(), 1);
    assert_eq!(h.unsent().await, id.into_iter().collect::<Vec<_>>());
}

#[tokio::test(start_paused = true)]
async fn a_429_with_retry_after_is_retried_only_after_it_in_virtual_time() {
    let h = start(tuning()).await;
    h.fake.script(Script::rate_limited(130429).retry_after(30));
    let t0 = Instant::now();
    let out = h.durable(ANA, "wamid.IN1", reply("hola", &[])).await;
    h.sink.deliver(out);

    let sent = h.fake.wait_for_within(1, Duration::from_secs(300)).await;
    h.drain().await;
    let requests = h.fake.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(requests[0].status, 429);
    assert!(requests[0].at - t0 < Duration::from_secs(1));
    assert!(
        requests[1].at - requests[0].at >= Duration::from_secs(30),
        "retried after {:?}",
        requests[1].at - requests[0].at
    );
    assert!(requests[1].at - requests[0].at < Duration::from_secs(31));
    assert_eq!(sent.len(), 1);
    assert_eq!(h.fake.sent().len(), 1, "the message arrives once");
    assert!(h.unsent().await.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_rate_limited_recipient_waits_alone_and_its_messages_keep_their_order() {
    let h = start(tuning()).await;
    // Ana's second request hits the pair rate limit: the second part of her first reply.
    h.fake.script(
        Script::rate_limited(131056)
            .retry_after(30)
            .to(ANA)
            .after(1),
    );
    let t0 = Instant::now();
    let long = numbered_text(6000);
    h.sink.deliver(plain(ANA, &long));
    h.sink.deliver(plain(ANA, "¿Algo más?"));
    h.sink.deliver(plain(BETO, "Hola Beto"));

    let sent = h.fake.wait_for_within(4, Duration::from_secs(300)).await;
    h.drain().await;
    let to_ana: Vec<_> = sent.iter().filter(|r| r.to == ANA).collect();
    let to_beto: Vec<_> = sent.iter().filter(|r| r.to == BETO).collect();
    assert_eq!((to_ana.len(), to_beto.len()), (3, 1));

    // Beto is served at once while Ana waits out her limit.
    assert!(to_beto[0].at - t0 < Duration::from_secs(1));
    assert!(to_ana[0].at - t0 < Duration::from_secs(1));
    assert!(to_ana[1].at - t0 >= Duration::from_secs(30));
    assert!(to_beto[0].at < to_ana[1].at);

    // Ana's messages in order: both parts of the long reply, then the next reply.
    let mut numbers = line_numbers(&to_ana[0].body);
    numbers.extend(line_numbers(&to_ana[1].body));
    let expected: Vec<u32> = (1..=numbers.len() as u32).collect();
    assert_eq!(numbers, expected);
    assert_eq!(to_ana[2].body, "¿Algo más?");
    assert!(to_ana[2].at >= to_ana[1].at);
}

#[tokio::test(start_paused = true)]
async fn sends_are_paced_per_number_and_per_recipient_in_virtual_time() {
    let mut t = tuning();
    t.send_per_second = 2;
    let h = start(t).await;
    let t0 = Instant::now();
    for n in 0..6 {
        h.sink.deliver(plain(&format!("52155000000{n:02}"), "hola"));
    }
    let sent = h.fake.wait_for_within(6, Duration::from_secs(60)).await;
    let last = sent.iter().map(|r| r.at - t0).max().unwrap_or_default();
    // A burst of 2, then one every 0.5 s.
    assert!(
        last >= Duration::from_secs(2) && last < Duration::from_secs(3),
        "{last:?}"
    );

    let mut t = tuning();
    t.recipient_burst = 2;
    t.recipient_per_second = 1.0;
    let h = start(t).await;
    let t0 = Instant::now();
    for n in 1..=4 {
        h.sink.deliver(plain(ANA, &format!("mensaje {n}")));
    }
    h.sink.deliver(plain(BETO, "a otro destinatario"));
    let sent = h.fake.wait_for_within(5, Duration::from_secs(60)).await;
    let to_ana: Vec<_> = sent.iter().filter(|r| r.to == ANA).collect();
    let bodies: Vec<&str> = to_ana.iter().map(|r| r.body.as_str()).collect();
    assert_eq!(bodies, ["mensaje 1", "mensaje 2", "mensaje 3", "mensaje 4"]);
    assert!(to_ana[1].at - t0 < Duration::from_millis(100));
    assert!(to_ana[3].at - t0 >= Duration::from_secs(2));
    let beto = sent.iter().find(|r| r.to == BETO).map(|r| r.at - t0);
    assert!(beto < Some(Duration::from_millis(100)), "{beto:?}");
}

#[tokio::test]
async fn the_same_outbox_id_delivered_twice_is_sent_once() {
    let h = start(tuning()).await;
    let out = h
        .durable(ANA, "wamid.IN1", reply("Tu folio es INC-000123", &[]))
        .await;
    h.sink.deliver(out.clone());
    h.sink.deliver(out.clone());
    h.fake.wait_for(1).await;
    h.drain().await;
    // A replay later on.
    h.sink.deliver(out);
    h.drain().await;
    assert_eq!(h.fake.requests().len(), 1);
    assert!(h.unsent().await.is_empty());
}

#[tokio::test]
async fn a_reply_that_failed_halfway_is_resumed_without_resending_accepted_parts() {
    let mut t = tuning();
    t.max_retries = 1;
    let h = start(t).await;
    // The second part fails twice: retries run out.
    h.fake
        .script(Script::server_error().to(ANA).after(1).times(2));
    let out = h
        .durable(ANA, "wamid.IN1", reply(&numbered_text(6000), &[]))
        .await;
    h.sink.deliver(out.clone());
    h.fake.wait_for_requests(3).await;
    h.drain().await;
    assert_eq!(h.fake.sent().len(), 1, "only the first part went");
    assert!(h
        .fake
        .requests()
        .iter()
        .all(|r| r.to.as_deref() == Some(ANA)));
    assert_eq!(h.unsent().await.len(), 1, "the reply stays in the outbox");

    // The reply comes again (a replay): only the missing part is sent.
    h.sink.deliver(out);
    h.fake.wait_for(2).await;
    h.drain().await;
    let sent = h.fake.sent();
    assert_eq!(sent.len(), 2);
    let mut numbers = line_numbers(&sent[0].body);
    numbers.extend(line_numbers(&sent[1].body));
    let expected: Vec<u32> = (1..=numbers.len() as u32).collect();
    assert_eq!(numbers, expected, "each part once, in order");
    assert!(h.unsent().await.is_empty());
}

#[tokio::test]
async fn a_reply_whose_retries_ran_out_leaves_at_the_next_sweep_without_a_restart() {
    let h = start(tuning()).await;
    // Graph is down for every try of the first attempt (1 + max_retries requests).
    h.fake.script(Script::server_error().times(4));
    let out = h.durable(ANA, "wamid.IN1", reply("ya volvimos", &[])).await;
    h.sink.deliver(out);
    h.fake.wait_for_requests(4).await;
    h.drain().await;
    assert_eq!(
        h.fake.sent().len(),
        0,
        "nothing was accepted while Graph was down"
    );
    assert_eq!(h.unsent().await.len(), 1, "the reply waits in the outbox");

    // Graph is back: the sweep sends it, once, while the process runs.
    let sweep = h.sender.sweep_outbox(Duration::from_millis(20));
    let sent = h.fake.wait_for(1).await;
    h.drain().await;
    assert_eq!(
        (sent[0].to.as_str(), sent[0].body.as_str()),
        (ANA, "ya volvimos")
    );
    assert!(
        h.unsent().await.is_empty(),
        "the outbox entry is marked sent"
    );
    // Later sweeps find nothing to send.
    let before = h.fake.requests().len();
    assert_eq!(h.sender.resend_pending().await, 0);
    sweep.abort();
    assert_eq!(h.fake.requests().len(), before);
    assert_eq!(h.fake.sent().len(), 1, "sent exactly once");
}

#[tokio::test]
async fn replies_in_flight_at_a_kill_are_sent_again_and_counted_as_maybe_twice() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _local = metrics::set_default_local_recorder(&recorder);

    let h = start(tuning()).await;
    // The last run handed one reply to Graph and died before Graph's answer; the other it
    // never got to.
    let in_flight = h.durable(ANA, "wamid.IN1", reply("en vuelo", &[])).await;
    h.durable(BETO, "wamid.IN2", reply("nunca salió", &[]))
        .await;
    let id = in_flight.outbox_id.clone().unwrap_or_default();
    h.store.outbox_attempted(&id).await.expect("mark");
    let pending = h
        .store
        .outbox_pending(Channel::WhatsApp)
        .await
        .expect("outbox");
    let attempted: Vec<bool> = pending.iter().map(|e| e.attempted).collect();
    assert_eq!(attempted, [true, false]);

    assert_eq!(h.sender.resend_pending().await, 2);
    h.fake.wait_for(2).await;
    h.drain().await;
    assert_eq!(
        counter(
            &snapshotter,
            "redsol_resent_after_restart_total",
            &[("channel", "whatsapp")]
        ),
        1,
        "only the reply handed to Graph before may arrive twice"
    );
    assert!(h.unsent().await.is_empty());
    // Sending marks a reply as attempted before its first request.
    let third = h.durable(ANA, "wamid.IN3", reply("otra", &[])).await;
    let third_id = third.outbox_id.clone().unwrap_or_default();
    h.fake.script(Script::server_error().times(4));
    h.sink.deliver(third);
    h.fake.wait_for_requests(6).await;
    h.drain().await;
    let left = h
        .store
        .outbox_pending(Channel::WhatsApp)
        .await
        .expect("outbox");
    assert_eq!(left.len(), 1);
    assert!(left[0].attempted && left[0].id == third_id);
}

#[tokio::test]
async fn resend_pending_sends_what_the_store_has_unsent() {
    let h = start(tuning()).await;
    let unsent = h.durable(ANA, "wamid.IN1", reply("pendiente", &[])).await;
    let done = h.durable(BETO, "wamid.IN2", reply("ya enviado", &[])).await;
    h.store
        .outbox_sent(done.outbox_id.as_deref().unwrap_or_default())
        .await
        .expect("mark sent");

    assert_eq!(h.sender.resend_pending().await, 1);
    let sent = h.fake.wait_for(1).await;
    h.drain().await;
    assert_eq!(h.fake.sent().len(), 1);
    assert_eq!(
        (sent[0].to.as_str(), sent[0].body.as_str()),
        (ANA, "pendiente")
    );
    assert!(h.unsent().await.is_empty());
    assert_eq!(h.sender.resend_pending().await, 0);

    // The original delivery arriving late does not send it again.
    h.sink.deliver(unsent);
    h.drain().await;
    assert_eq!(h.fake.requests().len(), 1);
}

#[tokio::test]
async fn read_receipts_are_posted_unless_turned_off() {
    let h = start(tuning()).await;
    h.sender
        .mark_read("wamid.HBgNNTIxNTUxMjM0NTY3OBUCABIYFjNFQjA=".to_string());
    let sent = h.fake.wait_for(1).await;
    assert_eq!(sent[0].kind, "read");
    assert_eq!(sent[0].body, "wamid.HBgNNTIxNTUxMjM0NTY3OBUCABIYFjNFQjA=");
    h.drain().await;

    let mut t = tuning();
    t.mark_read = false;
    let h = start(t).await;
    h.sender.mark_read("wamid.X".to_string());
    h.drain().await;
    assert!(h.fake.requests().is_empty());
}

#[tokio::test]
async fn the_client_is_refused_with_a_wrong_token_and_never_shows_it() {
    let fake = FakeGraph::start(TOKEN, VERSION, PHONE_ID).await;
    let client = GraphClient::new(
        fake.base_url(),
        VERSION,
        PHONE_ID,
        Secret::new("EAAG-wrong-token-secret"),
        Duration::from_secs(10),
    )
    .expect("client");
    let msg = GraphMessage::Text {
        to: ANA.to_string(),
        body: "hola".to_string(),
    };
    let err = client.send(&msg).await.expect_err("401");
    assert!(
        matches!(
            &err,
            GraphError::Permanent {
                status: 401,
                code: Some(190),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_auth());
    let shown = format!("{err} {err:?} {client:?}");
    assert!(!shown.contains("wrong-token"), "{shown}");

    let good = GraphClient::new(
        fake.base_url(),
        VERSION,
        PHONE_ID,
        Secret::new(TOKEN),
        Duration::from_secs(10),
    )
    .expect("client");
    assert_eq!(good.send(&msg).await, Ok(Some("wamid.1".to_string())));
    let read = GraphMessage::MarkRead {
        message_id: "wamid.IN".to_string(),
    };
    assert_eq!(good.send(&read).await, Ok(None));
}

#[tokio::test(start_paused = true)]
async fn the_client_times_out_on_a_slow_graph() {
    let fake = FakeGraph::start(TOKEN, VERSION, PHONE_ID).await;
    fake.script(Script::delayed(Duration::from_secs(60)));
    let client = GraphClient::new(
        fake.base_url(),
        VERSION,
        PHONE_ID,
        Secret::new(TOKEN),
        Duration::from_secs(5),
    )
    .expect("client");
    let t0 = Instant::now();
    let msg = GraphMessage::Text {
        to: ANA.to_string(),
        body: "hola".to_string(),
    };
    assert_eq!(client.send(&msg).await, Err(GraphError::Timeout));
    let waited = t0.elapsed();
    assert!(
        waited >= Duration::from_secs(5) && waited < Duration::from_secs(60),
        "{waited:?}"
    );
}

#[tokio::test]
async fn the_fake_checks_requests_like_graph() {
    let fake = FakeGraph::start(TOKEN, VERSION, PHONE_ID).await;
    let http = reqwest::Client::new();
    let post = |path: String, body: serde_json::Value| {
        http.post(format!("{}{path}", fake.base_url()))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
    };
    let messages = format!("/{VERSION}/{PHONE_ID}/messages");
    let four_buttons: Vec<_> = (0..4)
        .map(|i| serde_json::json!({"type": "reply", "reply": {"id": format!("b{i}"), "title": "Sí"}}))
        .collect();
    let cases = [
        (
            messages.clone(),
            serde_json::json!({"messaging_product": "whatsapp", "to": ANA, "type": "sticker"}),
        ),
        (
            messages.clone(),
            serde_json::json!({"messaging_product": "whatsapp", "to": ANA, "type": "interactive",
                "interactive": {"type": "button", "body": {"text": "x"},
                "action": {"buttons": four_buttons}}}),
        ),
        (
            messages.clone(),
            serde_json::json!({"messaging_product": "whatsapp", "to": ANA, "type": "text",
                "text": {"body": "x".repeat(4097)}}),
        ),
        (
            format!("/v1.0/{PHONE_ID}/messages"),
            serde_json::json!({"messaging_product": "whatsapp", "to": ANA, "type": "text",
                "text": {"body": "hola"}}),
        ),
    ];
    for (path, body) in cases {
        let response = post(path, body).await.expect("answer");
        assert_eq!(response.status(), 400);
        let error: serde_json::Value = response.json().await.expect("json");
        assert_eq!(error["error"]["code"], 100, "{error}");
    }
    assert!(fake.sent().is_empty());
}

#[tokio::test]
async fn a_stopped_sender_says_so_for_the_readiness_check() {
    let h = start(tuning()).await;
    assert!(!h.sender.stopped());
    h.sender.stop();
    for _ in 0..1000 {
        if h.sender.stopped() {
            return;
        }
        tokio::task::yield_now().await;
    }
    panic!("the sender never reported stopped");
}
