//! The WhatsApp sender's pacing, in paused (virtual) time: the number's rate, each
//! recipient's, and replies that wait together leaving as one message.

use crate::sender_harness::*;
use metrics_util::debugging::{DebugValue, DebuggingRecorder};
use redsol_actors::model::Outbound;
use std::time::Duration;
use tokio::time::Instant;

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
    // One every 0.5 s (the number's burst is a tenth of a second's worth, at least one).
    assert!(
        last >= Duration::from_secs(2) && last < Duration::from_secs(3),
        "{last:?}"
    );

    // One recipient: a burst of 2, then one a second, each reply handed over once the one
    // before it left (replies waiting together would leave as one message). Another
    // recipient is not held back.
    let mut t = tuning();
    t.recipient_burst = 2;
    t.recipient_per_second = 1.0;
    let h = start(t).await;
    let t0 = Instant::now();
    for n in 1..=4 {
        h.sink.deliver(plain(ANA, &format!("mensaje {n}")));
        let sent = h.fake.wait_for_within(n, Duration::from_secs(60)).await;
        assert_eq!(sent.len(), n, "one message per reply");
    }
    h.sink.deliver(plain(BETO, "a otro destinatario"));
    let beto_handed = Instant::now() - t0;
    let sent = h.fake.wait_for_within(5, Duration::from_secs(60)).await;
    let to_ana: Vec<_> = sent.iter().filter(|r| r.to == ANA).collect();
    let bodies: Vec<&str> = to_ana.iter().map(|r| r.body.as_str()).collect();
    assert_eq!(bodies, ["mensaje 1", "mensaje 2", "mensaje 3", "mensaje 4"]);
    assert!(to_ana[1].at - t0 < Duration::from_millis(100));
    assert!(to_ana[2].at - t0 >= Duration::from_secs(1));
    assert!(to_ana[3].at - t0 >= Duration::from_secs(2));
    let beto = sent.iter().find(|r| r.to == BETO).map(|r| r.at - t0);
    assert!(
        beto < Some(beto_handed + Duration::from_millis(100)),
        "{beto:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_recipient_waiting_for_their_own_pace_holds_no_token_of_the_number() {
    // One message a second for the number, one every 5 s for a recipient: Ana's second reply
    // waits for her pace without holding the number's next token, which goes to Beto.
    let mut t = tuning();
    t.send_per_second = 1;
    t.recipient_burst = 1;
    t.recipient_per_second = 0.2;
    let h = start(t).await;
    let t0 = Instant::now();
    h.sink.deliver(plain(ANA, "uno"));
    h.fake.wait_for_within(1, Duration::from_secs(10)).await;
    h.sink.deliver(plain(ANA, "dos"));
    h.sink.deliver(plain(BETO, "hola Beto"));
    let sent = h.fake.wait_for_within(3, Duration::from_secs(30)).await;
    let at = |to: &str, body: &str| {
        sent.iter()
            .find(|r| r.to == to && r.body == body)
            .map(|r| r.at - t0)
    };
    let beto = at(BETO, "hola Beto").expect("Beto's reply");
    assert!(beto < Duration::from_millis(1500), "Beto at {beto:?}");
    let ana = at(ANA, "dos").expect("Ana's second reply");
    assert!(ana >= Duration::from_secs(5), "Ana's pace: {ana:?}");
}

/// A sender of one message a second for the whole number, its first token spent on Beto and
/// his second reply waiting for the next: whatever comes now waits in its lane.
async fn beto_holds_the_number() -> Harness {
    let mut t = tuning();
    t.send_per_second = 1;
    let h = start(t).await;
    h.sink.deliver(plain(BETO, "hola Beto"));
    h.fake.wait_for_within(1, Duration::from_secs(10)).await;
    h.sink.deliver(plain(BETO, "otra para Beto"));
    h
}

#[tokio::test(start_paused = true)]
async fn replies_waiting_for_the_platform_leave_as_one_message() {
    // One message a second for the whole number: while Beto's reply takes the token, Ana's
    // three replies wait in her lane and leave together, the same text said once, with the
    // buttons of the latest.
    let h = beto_holds_the_number().await;
    let known = "⚠️ Ya sabemos de la falla en Norte.";
    let first = h.durable(ANA, "wamid.A1", reply(known, &[])).await;
    let second = h.durable(ANA, "wamid.A2", reply(known, &[])).await;
    let third = h
        .durable(
            ANA,
            "wamid.A3",
            reply("Tu reporte es FALLA-000001.", &[("menu", "Menú")]),
        )
        .await;
    for out in [first, second, third] {
        h.sink.deliver(out);
    }
    h.drain().await;
    let sent = h.fake.sent();
    let to_ana: Vec<_> = sent.iter().filter(|r| r.to == ANA).collect();
    assert_eq!(to_ana.len(), 1, "one message to Ana: {to_ana:?}");
    assert_eq!(to_ana[0].kind, "button");
    assert_eq!(
        to_ana[0].body,
        format!("{known}\n\nTu reporte es FALLA-000001.")
    );
    assert_eq!(sent.iter().filter(|r| r.to == BETO).count(), 2);
    assert!(
        h.unsent().await.is_empty(),
        "every joined reply is marked sent"
    );

    // A reply that cannot ride in one message (a long text) leaves on its own.
    let h = start({
        let mut t = tuning();
        t.send_per_second = 1;
        t
    })
    .await;
    h.sink.deliver(plain(BETO, "hola Beto"));
    h.fake.wait_for_within(1, Duration::from_secs(10)).await;
    h.sink.deliver(plain(BETO, "otra para Beto"));
    h.sink.deliver(plain(ANA, "corto"));
    h.sink.deliver(plain(ANA, &numbered_text(5_000)));
    h.drain().await;
    let to_ana: Vec<_> = h.fake.sent().into_iter().filter(|r| r.to == ANA).collect();
    assert_eq!(to_ana[0].body, "corto");
    assert_eq!(
        to_ana.len(),
        3,
        "the short reply, then the long one in two parts"
    );
}

#[tokio::test(start_paused = true)]
async fn a_notice_leads_its_message_and_carries_its_id_for_graphs_statuses() {
    // While Beto's reply takes the only token, Ana has a reply waiting, then a notice, then
    // another reply. The notice does not join the reply ahead of it (the message's callback
    // data would name that reply): it leads a message of its own, which carries its id, and
    // the reply after it joins it. The notice answers no message: it is not timed as a
    // response.
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let _local = metrics::set_default_local_recorder(&recorder);
    let h = beto_holds_the_number().await;
    let id = "notice:FALLA-000001:declared:whatsapp:5214641234567";
    let notice = Outbound {
        outbox_id: Some(id.to_string()),
        ..plain(ANA, "⚠️ Aviso: falla en la zona Norte.")
    };
    h.sink.deliver(plain(ANA, "Tu reporte es FALLA-000001."));
    h.sink.deliver(notice);
    h.sink.deliver(plain(ANA, "¿Algo más?"));
    h.drain().await;
    let to_ana: Vec<_> = h.fake.sent().into_iter().filter(|r| r.to == ANA).collect();
    let bodies: Vec<&str> = to_ana.iter().map(|r| r.body.as_str()).collect();
    assert_eq!(
        bodies,
        [
            "Tu reporte es FALLA-000001.",
            "⚠️ Aviso: falla en la zona Norte.\n\n¿Algo más?"
        ]
    );
    let callbacks: Vec<Option<&str>> = to_ana.iter().map(|r| r.callback.as_deref()).collect();
    assert_eq!(callbacks, [None, Some(id)]);
    let timed: usize = snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(k, _, _, _)| k.key().name() == "redsol_response_seconds")
        .map(|(_, _, _, v)| match v {
            DebugValue::Histogram(samples) => samples.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(timed, 4, "Beto's two replies and Ana's two, not the notice");
}
