//! Conversations shared by replicas: one owner at a time, messages handed to it in order,
//! stale turns fenced, a dead owner's conversations taken over.

use super::tests::{drop_schema, key, replica_with, store};
use super::*;
use redsol_actors::store::ownership::{Admission, Ownership, Taken};
use redsol_actors::store::{JournalEntry, StoreError, TurnCommit};

/// Another process on the database of `schema`, its conversation leases lasting `lease`.
async fn replica(schema: &str, name: &str, lease: Duration) -> PgStore {
    let settings = PgSettings {
        conversation_lease: lease,
        ..PgSettings::default()
    };
    replica_with(schema, name, settings).await
}

/// A fresh schema (its first store, to drop it by) and two replicas on it, `aa` and `bb`;
/// `None` when no test database is configured.
async fn two_replicas(lease: Duration) -> Option<(PgStore, String, PgStore, PgStore)> {
    let (first, schema) = store(Vec::new()).await?;
    let a = replica(&schema, "aa", lease).await;
    let b = replica(&schema, "bb", lease).await;
    Some((first, schema, a, b))
}

fn message(user: &str, id: &str) -> JournalEntry {
    JournalEntry {
        key: key(user),
        message_id: id.into(),
        payload: format!("{{\"text\":\"{id}\"}}"),
    }
}

async fn admit(store: &PgStore, user: &str, id: &str) -> Admission {
    let mut admitted = store
        .admit_all(vec![message(user, id)])
        .await
        .expect("admit");
    assert_eq!(admitted.len(), 1);
    admitted.remove(0)
}

fn ids(taken: &[Taken]) -> Vec<&str> {
    taken.iter().map(|t| t.entry.message_id.as_str()).collect()
}

fn turn(user: &str, id: &str, lease: u64) -> TurnCommit {
    TurnCommit {
        key: key(user),
        message_id: Some(id.into()),
        snapshot: format!("{{\"after\":\"{id}\"}}"),
        lease: Some(lease),
        replies: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_owner_takes_what_other_replicas_accept_in_order_and_stale_turns_are_fenced() {
    let lease = Duration::from_secs(30);
    let Some((first, schema, a, b)) = two_replicas(lease).await else {
        return;
    };

    // The first replica a conversation's message reaches owns it.
    let Admission::Here { lease: token } = admit(&a, "u1", "m1").await else {
        panic!("the first message is handled where it arrived");
    };
    // Another replica journals the next ones and wakes the owner; a redelivery anywhere is
    // a duplicate.
    assert_eq!(admit(&b, "u1", "m2").await, Admission::Elsewhere);
    assert_eq!(admit(&b, "u1", "m1").await, Admission::Duplicate);
    assert_eq!(
        a.handed(Duration::from_secs(10)).await,
        vec![key("u1")],
        "the owner is told which conversation"
    );
    assert_eq!(admit(&b, "u1", "m3").await, Admission::Elsewhere);
    assert!(b.waiting().await.expect("waiting").is_empty());
    assert!(b.take(key("u1")).await.expect("take").is_empty());
    // A message reaching the owner while earlier ones wait is taken with them, in order.
    assert_eq!(admit(&a, "u1", "m4").await, Admission::Pull);
    assert_eq!(a.waiting().await.expect("waiting"), vec![key("u1")]);
    let taken = a.take(key("u1")).await.expect("take");
    assert_eq!(ids(&taken), ["m2", "m3", "m4"]);
    assert!(taken.iter().all(|t| t.lease == token));
    assert!(a.take(key("u1")).await.expect("again").is_empty());
    assert!(a.waiting().await.expect("waiting").is_empty());

    // The owner commits under its token, once per message; anyone else is fenced.
    a.commit_turn(turn("u1", "m1", token))
        .await
        .expect("commit");
    assert!(matches!(
        a.commit_turn(turn("u1", "m1", token)).await,
        Err(StoreError::Fenced(_))
    ));
    assert!(matches!(
        b.commit_turn(turn("u1", "m2", token)).await,
        Err(StoreError::Fenced(_))
    ));
    assert!(matches!(
        a.commit_turn(turn("u1", "m2", token + 1)).await,
        Err(StoreError::Fenced(_))
    ));
    let snapshot = first.load_snapshot(&key("u1")).await.expect("snapshot");
    assert_eq!(snapshot.as_deref(), Some("{\"after\":\"m1\"}"));
    drop_schema(first, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_owners_conversations_are_taken_over_with_the_next_token() {
    let lease = Duration::from_millis(400);
    let Some((first, schema, a, b)) = two_replicas(lease).await else {
        return;
    };
    let Admission::Here { lease: old } = admit(&a, "u2", "m1").await else {
        panic!("handled where it arrived");
    };
    assert_eq!(admit(&b, "u2", "m2").await, Admission::Elsewhere);
    // While the owner lives (it renews its lease), nobody else takes the conversation.
    tokio::time::sleep(lease * 3).await;
    assert!(b.waiting().await.expect("waiting").is_empty());

    // The owner dies with both messages unanswered: once its lease lapses, another replica
    // takes the conversation over, under a new token, and finds both.
    drop(a);
    let waited = tokio::time::Instant::now();
    let taken = loop {
        if b.waiting().await.expect("waiting").contains(&key("u2")) {
            break b.take(key("u2")).await.expect("take");
        }
        assert!(
            waited.elapsed() < Duration::from_secs(10),
            "never taken over"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(ids(&taken), ["m1", "m2"]);
    let new = taken[0].lease;
    assert!(new > old);
    // A turn of the dead owner's epoch is refused; the new owner's lands.
    let stale = replica(&schema, "aa", lease).await;
    assert!(matches!(
        stale.commit_turn(turn("u2", "m1", old)).await,
        Err(StoreError::Fenced(_))
    ));
    b.commit_turn(turn("u2", "m1", new)).await.expect("commit");
    // Messages of the new epoch are handled by the new owner where they land.
    assert_eq!(admit(&b, "u2", "m3").await, Admission::Here { lease: new });
    assert_eq!(admit(&stale, "u2", "m4").await, Admission::Elsewhere);
    drop_schema(first, &schema).await;
}
