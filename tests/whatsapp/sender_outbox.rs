//! The WhatsApp sender and the durable outbox: a reply sent once whatever repeats it, resumed
//! after a failure halfway, swept while the process runs, sent again after a kill or a
//! restart of the sender.

use crate::fake_graph::Script;
use crate::sender_harness::*;
use metrics_util::debugging::DebuggingRecorder;
use redsol_actors::model::Channel;
use redsol_actors::store::Store;
use std::time::Duration;

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
async fn a_reply_another_replica_took_over_or_sent_already_does_not_leave_from_here() {
    let h = start(tuning()).await;
    // Started, with nothing left from a last run.
    assert_eq!(h.sender.resend_pending().await, 0);
    h.drain().await;
    // This replica could not renew its claim for a while, and another took the reply over.
    let taken = h
        .durable(ANA, "wamid.IN1", reply("de otra réplica", &[]))
        .await;
    let taken_id = taken.outbox_id.clone().unwrap_or_default();
    h.store.take_elsewhere(&taken_id);
    // A replayed turn hands over a reply the outbox holds sent.
    let done = h.durable(BETO, "wamid.IN2", reply("ya salió", &[])).await;
    h.store
        .outbox_sent(done.outbox_id.as_deref().unwrap_or_default())
        .await
        .expect("mark sent");
    h.sink.deliver(taken);
    h.sink.deliver(done);
    h.sink.deliver(plain(ANA, "nuevo"));
    h.fake.wait_for(1).await;
    h.drain().await;
    let sent: Vec<(String, String)> = h.fake.sent().into_iter().map(|r| (r.to, r.body)).collect();
    assert_eq!(sent, [(ANA.to_string(), "nuevo".to_string())]);
    assert_eq!(
        h.unsent().await,
        [taken_id],
        "the reply taken over waits for its replica"
    );
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

#[tokio::test]
async fn a_sender_that_died_is_down_until_restarted_and_then_resumes_from_the_outbox() {
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _local = metrics::set_default_local_recorder(&recorder);

    let h = start(tuning()).await;
    // One reply was handed to Graph and never accepted (Graph down for all its tries).
    h.fake.script(Script::server_error().times(4));
    let tried = h.durable(ANA, "wamid.IN1", reply("primero", &[])).await;
    h.sink.deliver(tried);
    h.fake.wait_for_requests(4).await;
    h.drain().await;

    // The actor dies (a bug): the handle says so, for `/ready`.
    h.sender.cell().kill();
    let mut down = false;
    for _ in 0..1000 {
        if h.sender.stopped() {
            down = true;
            break;
        }
        tokio::task::yield_now().await;
    }
    assert!(down, "a dead sender is reported down");
    // A reply the conversations commit meanwhile is not lost: it waits in the outbox.
    let meanwhile = h.durable(BETO, "wamid.IN2", reply("segundo", &[])).await;
    h.sink.deliver(meanwhile);
    assert_eq!(h.unsent().await.len(), 2);

    // What the root supervisor does: a new instance behind the same handle.
    h.sender.restart(None).await.expect("restarts");
    assert!(!h.sender.stopped());
    // The reply whose retries ran out waits its backoff (kept across the restart), then the
    // sweep offers it.
    let sweep = h.sender.sweep_outbox(Duration::from_millis(20));
    let sent = h.fake.wait_for(2).await;
    h.drain().await;
    let mut bodies: Vec<(&str, &str)> = sent
        .iter()
        .map(|r| (r.to.as_str(), r.body.as_str()))
        .collect();
    bodies.sort();
    assert_eq!(bodies, [(ANA, "primero"), (BETO, "segundo")]);
    assert_eq!(h.fake.sent().len(), 2, "each sent exactly once");
    assert!(h.unsent().await.is_empty());
    assert_eq!(
        counter(
            &snapshotter,
            "redsol_resent_after_restart_total",
            &[("channel", "whatsapp")]
        ),
        1,
        "only the reply handed to Graph before may have arrived twice"
    );

    // The new instance takes new replies as before.
    h.sink.deliver(plain(ANA, "tercero"));
    h.fake.wait_for(3).await;
    h.drain().await;
    sweep.abort();
}

#[tokio::test(start_paused = true)]
async fn read_receipts_run_in_lanes_of_their_own_beside_the_replies() {
    let h = start(tuning()).await;
    // Graph takes 5 s (virtual) to answer each read receipt.
    h.fake
        .script(Script::delayed(Duration::from_secs(5)).times(usize::MAX));
    let started = tokio::time::Instant::now();
    for i in 0..8 {
        h.sender.mark_read(format!("wamid.R{i}"));
    }
    h.drain().await;
    let took = started.elapsed();
    // Eight receipts over four lanes: two rounds of 5 s, not eight.
    assert!(
        took >= Duration::from_secs(10) && took < Duration::from_secs(15),
        "{took:?}"
    );
    assert_eq!(h.fake.requests().len(), 8);
}
