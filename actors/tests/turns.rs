//! What makes a turn durable, seen from the conversation: journaled messages answered once
//! across a restart, a turn whose commit fails, and a turn fenced because another replica took
//! the conversation over.

mod common;

use common::{start_with_store, wa, Harness};
use redsol_actors::model::{ConversationKey, Inbound};
use redsol_actors::store::{MemoryStore, Store};
use redsol_actors::supervisor::{accept, replay_journal, Accepted};
use std::sync::Arc;
use std::time::Duration;

/// A message of `key` with a platform id (so it is journaled).
fn journaled(key: &ConversationKey, id: &str, text: &str) -> Inbound {
    Inbound {
        message_id: Some(id.to_string()),
        ..Inbound::text(key.clone(), text)
    }
}

/// Walks `key` through a registration up to the plan's question (wanting one, the name, the
/// zone: ids `<prefix>1` to `<prefix>3`), each message accepted and answered.
async fn register_up_to_the_plan(
    h: &mut Harness,
    store: &Arc<MemoryStore>,
    key: &ConversationKey,
    prefix: &str,
) {
    for (n, text) in ["quiero contratar", "Lucía Méndez", "en la norte"]
        .into_iter()
        .enumerate()
    {
        let message = journaled(key, &format!("{prefix}{}", n + 1), text);
        accept(store.as_ref(), &h.router, message)
            .await
            .expect("accepted");
        h.reply().await;
    }
}

#[tokio::test]
async fn journaled_messages_are_answered_once_even_across_a_restart() {
    let rules = common::default_rules();
    let store = common::demo_store(&rules);
    let mut h = start_with_store(rules.clone(), 0, store.clone()).await;
    let key = wa("5214641230000");
    let msg = |id: &str, text: &str| journaled(&key, id, text);
    assert_eq!(
        accept(store.as_ref(), &h.router, msg("wamid.1", "hola"))
            .await
            .expect("accepted"),
        Accepted::New
    );
    assert!(h.reply().await.reply.text.contains("Hola"));
    assert_eq!(
        accept(store.as_ref(), &h.router, msg("wamid.1", "hola"))
            .await
            .expect("accepted"),
        Accepted::Duplicate
    );
    h.no_reply_within(Duration::from_millis(200)).await;

    // Journaled, then the process stopped before answering: the next start answers it, once.
    let entry = msg("wamid.2", "cuanto cuesta el de 50?")
        .journal_entry()
        .expect("has an id");
    assert!(store.journal_inbound(entry).await.expect("journaled"));
    let mut h2 = start_with_store(rules, 0, store.clone()).await;
    assert_eq!(
        replay_journal(store.as_ref(), &h2.router)
            .await
            .expect("replayed"),
        1
    );
    let t = h2.reply().await.reply.text;
    assert!(t.contains("$450"), "{t}");
    assert!(
        store.journal_pending().await.expect("pending").is_empty(),
        "marked answered"
    );
    assert_eq!(
        accept(
            store.as_ref(),
            &h2.router,
            msg("wamid.2", "cuanto cuesta el de 50?")
        )
        .await
        .expect("accepted"),
        Accepted::Duplicate
    );
}

#[tokio::test(start_paused = true)]
async fn a_turn_that_cannot_be_committed_sends_nothing_and_its_retry_writes_no_second_record() {
    let rules = common::default_rules();
    let store = common::demo_store(&rules);
    let mut h = start_with_store(rules, 0, store.clone()).await;
    let key = wa("5214641239999");
    let msg = |id: &str, text: &str| journaled(&key, id, text);
    register_up_to_the_plan(&mut h, &store, &key, "wamid.r").await;
    accept(store.as_ref(), &h.router, msg("wamid.r4", "el de 50"))
        .await
        .expect("accepted");
    let summary = h.reply().await.reply.text;
    assert!(summary.contains("Confirmo"), "{summary}");

    // The disk is full for every try of the confirming turn: the prospect is written, the
    // turn is not committed, and nothing is sent.
    store.fail_next_commits(3);
    accept(store.as_ref(), &h.router, msg("wamid.r5", "sí"))
        .await
        .expect("accepted");
    // The conversation restarts from its snapshot and the message is tried again: one reply,
    // one prospect (found again by its source, not written twice).
    let done = h.reply().await.reply.text;
    assert!(done.contains("PRO-000001"), "{done}");
    h.no_reply_within(Duration::from_secs(5)).await;
    assert_eq!(store.prospects().len(), 1, "{:?}", store.prospects());
    assert!(
        store.journal_pending().await.expect("pending").is_empty(),
        "the message is answered"
    );
}

#[tokio::test(start_paused = true)]
async fn a_fenced_turn_sends_nothing_and_its_changes_are_forgotten() {
    let rules = common::default_rules();
    let store = common::demo_store(&rules);
    let mut h = start_with_store(rules, 0, store.clone()).await;
    let key = wa("5214641238888");
    let msg = |id: &str, text: &str| journaled(&key, id, text);
    register_up_to_the_plan(&mut h, &store, &key, "wamid.f").await;
    // Another replica took the conversation over: the turn that chose the plan is refused,
    // nothing is sent, and the plan it chose is not kept.
    store.fence_next_commits(1);
    accept(store.as_ref(), &h.router, msg("wamid.f4", "el de 50"))
        .await
        .expect("accepted");
    h.no_reply_within(Duration::from_secs(5)).await;
    accept(store.as_ref(), &h.router, msg("wamid.f5", "sí"))
        .await
        .expect("accepted");
    let t = h.reply().await.reply.text;
    assert!(
        !t.contains("PRO-"),
        "registered with a plan never committed: {t}"
    );
    assert!(store.prospects().is_empty(), "{:?}", store.prospects());
}
