//! The SQLite store's turns against a real database file: snapshots, requests, the journal,
//! the turn commit, concurrency and a panicking operation.

use super::tests::{key, open_and_reopen, prospect};
use super::*;
use crate::store::conformance;

#[tokio::test]
async fn snapshots_save_load_replace_delete() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path(), Vec::new).expect("open");
    conformance::turns::snapshots_save_load_replace_delete(&store).await;
}

#[tokio::test]
async fn journal_dedupes_across_reopening_and_tracks_pending() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, reopen) = open_and_reopen(dir.path());
    conformance::turns::journal_dedupes_across_reopening_and_tracks_pending(store, reopen).await;
}

#[tokio::test]
async fn a_delivery_is_journaled_at_once_with_each_message_deduplicated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path(), Vec::new).expect("open");
    conformance::turns::a_delivery_is_journaled_at_once_with_each_message_deduplicated(&store)
        .await;
}

#[tokio::test]
async fn a_turn_commits_snapshot_journal_and_outbox_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, reopen) = open_and_reopen(dir.path());
    conformance::turns::a_turn_commits_snapshot_journal_and_outbox_at_once(store, reopen).await;
}

#[tokio::test]
async fn requests_are_recorded() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path(), Vec::new).expect("open");
    store
        .record_request(PendingRequest {
            kind: "billing".into(),
            text: "¿cuánto debo?".into(),
            key: key("9"),
            source: None,
        })
        .await
        .expect("record");
    let conn =
        Connection::open(store.path()).expect("a second connection, as an operator would open");
    let (kind, text, channel): (String, String, String) = conn
        .query_row("SELECT kind, text, channel FROM requests", [], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .expect("row");
    assert_eq!(
        (kind.as_str(), text.as_str(), channel.as_str()),
        ("billing", "¿cuánto debo?", "telegram")
    );
}

#[tokio::test]
async fn a_panicking_operation_fails_and_the_store_goes_on() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path(), Vec::new).expect("open");
    let err = store
        .run("test", |_conn| -> StoreResult<()> {
            panic!("a bug in an operation")
        })
        .await
        .expect_err("failed");
    assert!(matches!(err, StoreError::Unavailable(_)), "{err}");
    assert_eq!(
        store.load_snapshot(&key("1")).await.expect("still working"),
        None
    );
}

#[tokio::test]
async fn retention_forgets_old_rows_and_keeps_records_and_pending_work() {
    use redsol_actors::store::{unix_now, Retention};
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path(), Vec::new).expect("open");
    let (a, b) = (key("1"), key("2"));
    // Answered, and one still pending.
    for (k, id) in [(&a, "m1"), (&b, "m2")] {
        let entry = JournalEntry {
            key: k.clone(),
            message_id: id.into(),
            payload: "{}".into(),
        };
        assert!(store.journal_inbound(entry).await.expect("journal"));
    }
    let reply = |k: &ConversationKey, id: &str| OutboxEntry {
        id: OutboxEntry::id_for(k, id, 0),
        key: k.clone(),
        reply: redsol_actors::model::Reply {
            text: "hola".into(),
            quick_replies: vec![],
            attachment: None,
        },
        in_reply_to: Some(id.into()),
        queued_at: unix_now(),
        reply_to: None,
        attempted: false,
        edit: None,
        template: None,
    };
    store
        .commit_turn(TurnCommit {
            key: a.clone(),
            message_id: Some("m1".into()),
            snapshot: "{}".into(),
            lease: None,
            replies: vec![reply(&a, "m1")],
        })
        .await
        .expect("commit");
    store
        .outbox_sent(&OutboxEntry::id_for(&a, "m1", 0))
        .await
        .expect("sent");
    store
        .commit_turn(TurnCommit {
            key: b.clone(),
            message_id: None,
            snapshot: "{}".into(),
            lease: None,
            replies: vec![reply(&b, "m9")],
        })
        .await
        .expect("an unsent reply");
    store
        .save_prospect(prospect("1", "Ana"))
        .await
        .expect("prospect");
    store
        .record_request(PendingRequest {
            kind: "billing".into(),
            text: "¿cuánto debo?".into(),
            key: a.clone(),
            source: None,
        })
        .await
        .expect("request");
    let retention = Retention {
        journal_days: 7,
        outbox_days: 7,
        snapshot_days: 180,
        request_days: 365,
    };
    let day = 86_400;

    // Today nothing is old.
    assert_eq!(
        store.prune_at(unix_now(), retention).await.expect("prune"),
        Pruned::default()
    );
    // Eight days on: the answered journal row and the sent reply go; the pending message, the
    // unsent reply, the snapshots, the request and the prospect stay.
    let pruned = store
        .prune_at(unix_now() + 8 * day, retention)
        .await
        .expect("prune");
    assert_eq!((pruned.journal, pruned.outbox), (1, 1));
    assert_eq!((pruned.snapshots, pruned.requests), (0, 0));
    assert_eq!(store.journal_pending().await.expect("pending").len(), 1);
    assert_eq!(
        store
            .outbox_pending(Channel::Telegram)
            .await
            .expect("unsent")
            .len(),
        1
    );
    // Half a year idle: snapshots go; a year on, requests too. Prospects never.
    let pruned = store
        .prune_at(unix_now() + 181 * day, retention)
        .await
        .expect("prune");
    assert_eq!((pruned.snapshots, pruned.requests), (2, 0));
    assert_eq!(store.load_snapshot(&a).await.expect("load"), None);
    let pruned = store
        .prune_at(unix_now() + 366 * day, retention)
        .await
        .expect("prune");
    assert_eq!(pruned.requests, 1);
    let conn = Connection::open(store.path()).expect("a second connection");
    let prospects: i64 = conn
        .query_row("SELECT COUNT(*) FROM prospects", [], |r| r.get(0))
        .expect("count");
    assert_eq!(prospects, 1);
    let vacuum: i64 = conn
        .query_row("PRAGMA auto_vacuum", [], |r| r.get(0))
        .expect("pragma");
    assert_eq!(vacuum, 2, "incremental auto-vacuum");
}
