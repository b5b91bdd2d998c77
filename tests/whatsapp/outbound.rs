//! The WhatsApp sender through its public API, against the fake Graph API: rendering on the
//! wire, retries, rate limits in virtual time, per-recipient order, outbox bookkeeping.
//!
//! Nothing here sleeps to wait for work: tests wait on the fake (`wait_for`, bounded by a
//! `Notify`) or on the sender (`drain`); timing is only asserted in paused (virtual) time.

use crate::fake_graph::{FakeGraph, Script};
use crate::sender_harness::*;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use redsol::settings::Secret;
use redsol::whatsapp::graph::{GraphClient, GraphError, GraphMessage};
use redsol_actors::model::Outbound;
use std::time::Duration;
use tokio::time::Instant;

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
