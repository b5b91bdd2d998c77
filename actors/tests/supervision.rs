//! Supervision: a failing conversation is restarted from its snapshot with its unanswered
//! messages redelivered; past the restart budget the poison message is dropped with an
//! apology and the conversation starts clean. Counted in `redsol_actor_restarts_total`.

mod common;

use common::{start_with, tg};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use std::sync::atomic::Ordering;
use std::sync::OnceLock;

fn snapshotter() -> &'static Snapshotter {
    static S: OnceLock<Snapshotter> = OnceLock::new();
    S.get_or_init(|| {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        recorder.install().expect("recorder installs once");
        snapshotter
    })
}

fn restarts() -> u64 {
    snapshotter()
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(k, _, _, _)| {
            k.key().name() == "redsol_actor_restarts_total"
                && k.key()
                    .labels()
                    .any(|l| l.key() == "actor" && l.value() == "conversation")
        })
        .map(|(_, _, _, v)| match v {
            DebugValue::Counter(n) => n,
            _ => 0,
        })
        .sum()
}

// One test function: the restart counter is process-wide.
#[tokio::test]
async fn crashed_conversations_restart_from_snapshot_within_a_budget() {
    snapshotter();

    // 1. One crash: restarted, the dialogue resumes and the message is answered.
    let mut h = start_with(common::default_rules(), 1).await;
    let key = tg("5001");
    h.ask(&key, "quiero contratar").await;
    h.ask(&key, "Ana López").await;
    let before = restarts();
    let t = h.ask(&key, "boom vivo en la norte").await;
    assert_eq!(h.brain.panics.load(Ordering::SeqCst), 1);
    assert!(
        t.contains("plan"),
        "the crashed message was redelivered and the flow resumed: {t}"
    );
    assert_eq!(restarts(), before + 1);
    let t = h.ask(&key, "el de 50").await;
    assert!(
        t.contains("Ana López") && t.contains("Norte"),
        "snapshot restored: {t}"
    );

    // 2. A poison message: crashes every time; past the budget it is dropped with an apology,
    // the conversation starts clean, and the message queued behind it is still answered.
    let budget = h.rules.limits.restart_max as usize;
    let mut h = start_with(common::default_rules(), usize::MAX).await;
    let key = tg("5002");
    h.ask(&key, "quiero contratar").await;
    let before = restarts();
    h.send(&key, "boom");
    h.send(&key, "hola");
    let apology = h.reply().await.reply.text;
    assert!(apology.contains("Perdón"), "{apology}");
    assert_eq!(
        h.brain.panics.load(Ordering::SeqCst),
        budget + 1,
        "tried 1 + restart_max times"
    );
    assert_eq!(restarts(), before + budget as u64 + 1);
    let t = h.reply().await.reply.text;
    assert!(t.contains("Hola"), "the next message is answered: {t}");
    let t = h.ask(&key, "Ana López").await;
    assert!(
        !t.contains("zona"),
        "the registration was dropped with the poison: {t}"
    );
}
