//! A turn's durability, whatever keeps it: snapshots, the inbound journal (deduplicated, a
//! delivery at once), and the turn commit with its outbox, across a restart.

use super::{entry, key, Reopen};
use redsol_actors::model::{Channel, ConversationKey, QuickReply, Reply};
use redsol_actors::store::{OutboxEntry, Store, TurnCommit};
use std::sync::Arc;

/// On an empty store.
pub async fn snapshots_save_load_replace_delete(store: &dyn Store) {
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

/// On an empty store.
pub async fn a_delivery_is_journaled_at_once_with_each_message_deduplicated(store: &dyn Store) {
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

/// On an empty store; `reopen` opens its database again.
pub async fn journal_dedupes_across_reopening_and_tracks_pending(
    store: Arc<dyn Store>,
    reopen: Reopen,
) {
    {
        let store = &store;
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
    let store = reopen().await;
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

/// On an empty store; `reopen` opens its database again.
pub async fn a_turn_commits_snapshot_journal_and_outbox_at_once(
    store: Arc<dyn Store>,
    reopen: Reopen,
) {
    let e = entry("a", "m1");
    let reply = |text: &str| Reply {
        text: text.into(),
        quick_replies: vec![QuickReply::new("intent:plans", "Planes")],
        attachment: None,
    };
    let commit = TurnCommit {
        key: e.key.clone(),
        message_id: Some("m1".into()),
        snapshot: "{\"s\":1}".into(),
        lease: None,
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
        assert!(store.journal_inbound(e.clone()).await.expect("journal"));
        store.commit_turn(commit.clone()).await.expect("commit");
        // A replayed turn queues nothing twice.
        store
            .commit_turn(commit.clone())
            .await
            .expect("commit again");
    }
    drop(store);
    let store = reopen().await;
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
    // A sender may send what is queued, and nothing the outbox holds sent.
    assert!(store
        .outbox_attempted(&pending[0].id)
        .await
        .expect("attempted"));
    store.outbox_sent(&pending[0].id).await.expect("sent");
    assert!(store
        .outbox_pending(e.key.channel)
        .await
        .expect("outbox")
        .is_empty());
    assert!(!store
        .outbox_attempted(&pending[0].id)
        .await
        .expect("sent already"));
}
