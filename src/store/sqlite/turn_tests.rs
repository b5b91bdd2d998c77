//! The SQLite store's turns against a real database file: snapshots, requests, the journal,
//! the turn commit, concurrency and a panicking operation.

use super::tests::{key, prospect};
use super::*;
use std::collections::HashSet;

#[tokio::test]
async fn snapshots_save_load_replace_delete() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path(), Vec::new).expect("open");
    let k = key("7");
    let other = ConversationKey::new(Channel::Console, "7");
    assert_eq!(store.load_snapshot(&k).await.expect("load"), None);
    store
        .save_snapshot(&k, "{\"step\":1}".into())
        .await
        .expect("save");
    store
        .save_snapshot(&other, "otro".into())
        .await
        .expect("save other");
    assert_eq!(
        store.load_snapshot(&k).await.expect("load").as_deref(),
        Some("{\"step\":1}")
    );
    store
        .save_snapshot(&k, "{\"step\":2}".into())
        .await
        .expect("replace");
    assert_eq!(
        store.load_snapshot(&k).await.expect("load").as_deref(),
        Some("{\"step\":2}")
    );
    store.delete_snapshot(&k).await.expect("delete");
    assert_eq!(store.load_snapshot(&k).await.expect("load"), None);
    store.delete_snapshot(&k).await.expect("delete twice");
    assert_eq!(
        store.load_snapshot(&other).await.expect("other").as_deref(),
        Some("otro")
    );
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

fn entry(user: &str, message_id: &str) -> JournalEntry {
    JournalEntry {
        key: ConversationKey::new(Channel::WhatsApp, user),
        message_id: message_id.into(),
        payload: format!("{{\"text\":\"{message_id}\"}}"),
    }
}

#[tokio::test]
async fn journal_dedupes_across_reopening_and_tracks_pending() {
    let dir = tempfile::tempdir().expect("tempdir");
    {
        let store = SqliteStore::open(dir.path(), Vec::new).expect("open");
        assert!(store.journal_inbound(entry("a", "m1")).await.expect("m1"));
        assert!(store.journal_inbound(entry("a", "m2")).await.expect("m2"));
        // Same message id from another user is another message.
        assert!(store.journal_inbound(entry("b", "m1")).await.expect("b m1"));
        assert!(!store.journal_inbound(entry("a", "m1")).await.expect("dup"));
        store
            .journal_done(&entry("a", "m1").key, "m1")
            .await
            .expect("done");
    }
    let store = SqliteStore::open(dir.path(), Vec::new).expect("reopen");
    // A redelivery after a restart, answered or not, is still a duplicate.
    assert!(!store.journal_inbound(entry("a", "m1")).await.expect("dup"));
    assert!(!store.journal_inbound(entry("a", "m2")).await.expect("dup"));
    assert!(store.journal_inbound(entry("c", "m9")).await.expect("m9"));
    let pending = store.journal_pending().await.expect("pending");
    assert_eq!(
        pending,
        vec![entry("a", "m2"), entry("b", "m1"), entry("c", "m9")]
    );
    store
        .journal_done(&entry("b", "m1").key, "m1")
        .await
        .expect("done");
    // Marking an unknown message is harmless.
    store
        .journal_done(&entry("z", "nope").key, "nope")
        .await
        .expect("unknown");
    let pending = store.journal_pending().await.expect("pending");
    assert_eq!(pending, vec![entry("a", "m2"), entry("c", "m9")]);
}

#[tokio::test]
async fn a_delivery_is_journaled_at_once_with_each_message_deduplicated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path(), Vec::new).expect("open");
    assert!(store.journal_inbound(entry("a", "m1")).await.expect("m1"));
    let delivery = vec![
        entry("a", "m1"),
        entry("a", "m2"),
        entry("b", "m2"),
        // Meta may repeat a message within one delivery.
        entry("a", "m2"),
    ];
    let new = store.journal_inbound_all(delivery).await.expect("delivery");
    assert_eq!(new, [false, true, true, false]);
    let pending = store.journal_pending().await.expect("pending");
    assert_eq!(
        pending,
        vec![entry("a", "m1"), entry("a", "m2"), entry("b", "m2")]
    );
    assert!(store
        .journal_inbound_all(Vec::new())
        .await
        .expect("empty")
        .is_empty());
}

#[tokio::test]
async fn a_turn_commits_snapshot_journal_and_outbox_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let e = entry("a", "m1");
    let reply = |text: &str| redsol_actors::model::Reply {
        text: text.into(),
        quick_replies: vec![redsol_actors::model::QuickReply::new(
            "intent:plans",
            "Planes",
        )],
        attachment: None,
    };
    let commit = TurnCommit {
        key: e.key.clone(),
        message_id: Some("m1".into()),
        snapshot: "{\"s\":1}".into(),
        replies: vec![OutboxEntry {
            id: OutboxEntry::id_for(&e.key, "m1", 0),
            key: e.key.clone(),
            reply: reply("hola"),
            in_reply_to: Some("m1".into()),
            queued_at: 0,
            reply_to: None,
            attempted: false,
            edit: None,
            template: None,
        }],
    };
    {
        let store = SqliteStore::open(dir.path(), Vec::new).expect("open");
        assert!(store.journal_inbound(e.clone()).await.expect("journal"));
        store.commit_turn(commit.clone()).await.expect("commit");
        // A replayed turn queues nothing twice.
        store
            .commit_turn(commit.clone())
            .await
            .expect("commit again");
    }
    let store = SqliteStore::open(dir.path(), Vec::new).expect("reopen");
    assert!(store.journal_pending().await.expect("pending").is_empty());
    assert_eq!(
        store.load_snapshot(&e.key).await.expect("load").as_deref(),
        Some("{\"s\":1}")
    );
    let pending = store.outbox_pending(e.key.channel).await.expect("outbox");
    assert_eq!(pending, commit.replies);
    assert!(store
        .outbox_pending(Channel::Telegram)
        .await
        .expect("other channel")
        .is_empty());
    store.outbox_sent(&pending[0].id).await.expect("sent");
    assert!(store
        .outbox_pending(e.key.channel)
        .await
        .expect("outbox")
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_prospects_all_land_with_distinct_ids() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Arc::new(SqliteStore::open(dir.path(), Vec::new).expect("open"));
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                store
                    .save_prospect(prospect(&i.to_string(), &format!("Persona {i}")))
                    .await
            })
        })
        .collect();
    let mut ids = HashSet::new();
    for task in tasks {
        let p = task.await.expect("join").expect("save");
        assert!(ids.insert(p.id));
    }
    assert_eq!(ids.len(), 50);
    let expected: HashSet<_> = (1..=50).map(prospect_id).collect();
    assert_eq!(ids, expected);
    let conn =
        Connection::open(store.path()).expect("a second connection, as an operator would open");
    let n: i64 = conn
        .query_row(
            "SELECT COUNT(DISTINCT id) FROM prospects WHERE id IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(n, 50);
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
