//! Two replicas on one database at once: a campaign's notices released by both, none twice.

use super::tests::{drop_schema, replica_with, store};
use super::*;
use crate::store::conformance::notices::notice;
use redsol_actors::model::ConversationKey;
use redsol_actors::store::notices::Notice;
use std::collections::HashSet;

/// How many replies wait in the WhatsApp outbox.
async fn waiting(store: &PgStore) -> usize {
    store
        .outbox_page(Channel::WhatsApp, 0, 1_000)
        .await
        .expect("outbox")
        .entries
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_releasing_at_once_never_release_a_notice_twice() {
    let Some((store, schema)) = store(Vec::new()).await else {
        return;
    };
    let campaign: Vec<Notice> = (0..60)
        .map(|n| notice(&format!("5246400{n:04}"), n % 3 == 0))
        .collect();
    assert_eq!(
        store.queue_notices(campaign.clone()).await.expect("queue"),
        60
    );

    async fn drain(store: PgStore) -> Vec<String> {
        let mut released = Vec::new();
        loop {
            let batch = store.release_notices(7).await.expect("release");
            if batch.is_empty() {
                return released;
            }
            released.extend(batch.into_iter().map(|e| e.id));
        }
    }
    // Once a few at a time, then once all at once.
    let (a, b) = tokio::join!(
        tokio::spawn(drain(store.clone())),
        tokio::spawn(drain(store.clone()))
    );
    let (a, b) = (a.expect("replica a"), b.expect("replica b"));
    let mut all: Vec<String> = a.iter().chain(&b).cloned().collect();
    let distinct: HashSet<&String> = all.iter().collect();
    assert_eq!(distinct.len(), all.len(), "a notice released twice");
    all.sort();
    let mut expected: Vec<String> = campaign.iter().map(|n| n.id.clone()).collect();
    expected.sort();
    assert_eq!(all, expected, "every notice released, once");
    assert_eq!(store.notices_waiting().await.expect("waiting"), 0);
    assert_eq!(waiting(&store).await, 60);

    let more: Vec<Notice> = (0..40)
        .map(|n| notice(&format!("5246500{n:04}"), false))
        .collect();
    assert_eq!(store.queue_notices(more).await.expect("queue"), 40);
    let (a, b) = tokio::join!(
        tokio::spawn({
            let store = store.clone();
            async move { store.release_notices(40).await.expect("release a") }
        }),
        tokio::spawn({
            let store = store.clone();
            async move { store.release_notices(40).await.expect("release b") }
        })
    );
    let (a, b) = (a.expect("replica a"), b.expect("replica b"));
    let ids: HashSet<&str> = a.iter().chain(&b).map(|e| e.id.as_str()).collect();
    assert_eq!(ids.len(), a.len() + b.len(), "a notice released twice");
    let rest = store.release_notices(40).await.expect("rest");
    assert_eq!(ids.len() + rest.len(), 40, "every notice released, once");
    assert_eq!(waiting(&store).await, 100);

    // A replica in the middle of a release holds its notices: another passes over them at
    // once (no wait, no second release), and finds them released after its commit.
    let last: Vec<Notice> = (0..4)
        .map(|n| notice(&format!("5246600{n:04}"), false))
        .collect();
    assert_eq!(store.queue_notices(last.clone()).await.expect("queue"), 4);
    let mut conn = store.conn().await.expect("conn");
    let other = conn.transaction().await.expect("begin");
    let taken = other
        .query(
            "SELECT seq FROM notices WHERE released_at IS NULL ORDER BY seq LIMIT 2 FOR UPDATE",
            &[],
        )
        .await
        .expect("lock");
    assert_eq!(taken.len(), 2);
    let passed = store
        .release_notices(10)
        .await
        .expect("release past the locked");
    let ids: Vec<&str> = passed.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, [last[2].id.as_str(), last[3].id.as_str()]);
    other
        .execute(
            "UPDATE notices SET released_at = 1 WHERE released_at IS NULL AND seq IN \
             (SELECT seq FROM notices WHERE released_at IS NULL ORDER BY seq LIMIT 2)",
            &[],
        )
        .await
        .expect("released by the other");
    other.commit().await.expect("commit");
    drop(conn);
    assert!(store
        .release_notices(10)
        .await
        .expect("nothing left")
        .is_empty());
    drop_schema(store, &schema).await;
}

/// Lapses `replica`'s claims on its replies (as if it stopped long ago), through `store`.
async fn lapse(store: &PgStore, replica: &str) {
    store
        .conn()
        .await
        .expect("conn")
        .execute(
            "UPDATE outbox SET claimed_until = 0 WHERE claimed_by = $1",
            &[&replica],
        )
        .await
        .expect("lapse");
}

/// Another replica named `name` on the database of `schema`.
async fn replica(schema: &str, name: &str) -> PgStore {
    replica_with(schema, name, PgSettings::default()).await
}

/// A reply of `user`'s conversation, as a turn commits it.
fn reply(user: &str, n: usize) -> redsol_actors::store::OutboxEntry {
    let key = ConversationKey::new(Channel::WhatsApp, user);
    redsol_actors::store::OutboxEntry {
        id: redsol_actors::store::OutboxEntry::id_for(&key, &format!("wamid.{n}"), 0),
        key,
        reply: redsol_actors::model::Reply {
            text: format!("respuesta {n}"),
            quick_replies: Vec::new(),
            attachment: None,
        },
        in_reply_to: Some(format!("wamid.{n}")),
        queued_at: 1_000,
        reply_to: None,
        attempted: false,
        edit: None,
        template: None,
    }
}

async fn page(store: &PgStore) -> Vec<String> {
    store
        .outbox_page(Channel::WhatsApp, 0, 1_000)
        .await
        .expect("page")
        .entries
        .into_iter()
        .map(|e| e.id)
        .collect()
}

#[tokio::test]
async fn each_replica_reads_back_its_own_replies_until_its_claim_lapses() {
    let Some((first, schema)) = store(Vec::new()).await else {
        return;
    };
    drop(first);
    let (a, b) = (
        replica(&schema, "aaaa").await,
        replica(&schema, "bbbb").await,
    );
    a.queue_replies(vec![reply("5214641", 1)])
        .await
        .expect("a's reply");
    b.queue_replies(vec![reply("5214642", 2)])
        .await
        .expect("b's reply");
    // Each reads back only what it made: the other's live replica sends its own.
    assert_eq!(page(&a).await, [reply("5214641", 1).id]);
    assert_eq!(page(&b).await, [reply("5214642", 2).id]);
    // A stopped a while ago: its claim lapsed, and B takes its reply over, once.
    lapse(&b, "aaaa").await;
    assert_eq!(
        page(&b).await,
        [reply("5214641", 1).id, reply("5214642", 2).id]
    );
    assert!(page(&a).await.is_empty(), "taken over: no longer a's");
    // A's sender, back from a stall with the reply in hand, does not send it: B does, once.
    let taken = reply("5214641", 1).id;
    assert!(!a.outbox_attempted(&taken).await.expect("a's try"));
    assert!(b.outbox_attempted(&taken).await.expect("b's try"));
    b.outbox_sent(&taken).await.expect("sent");
    assert!(!b.outbox_attempted(&taken).await.expect("sent already"));
    // B's own reply is still its own to send; an id the outbox does not hold may go.
    assert!(b
        .outbox_attempted(&reply("5214642", 2).id)
        .await
        .expect("b's own"));
    assert!(!a
        .outbox_attempted(&reply("5214642", 2).id)
        .await
        .expect("not a's"));
    assert!(a.outbox_attempted("wa:unknown:0").await.expect("unknown"));
    // A restarted under the same name finds nothing of its own to send twice.
    let a_again = replica(&schema, "aaaa").await;
    assert!(page(&a_again).await.is_empty());

    // Fifty replies of a replica that stopped: two replicas read them back at once, and
    // every one goes to exactly one of them.
    let orphans: Vec<_> = (100..150).map(|n| reply("5214643", n)).collect();
    a.queue_replies(orphans.clone()).await.expect("orphans");
    lapse(&b, "aaaa").await;
    let c = replica(&schema, "cccc").await;
    let (from_b, from_c) = tokio::join!(page(&b), page(&c));
    let taken: HashSet<String> = from_b
        .iter()
        .chain(&from_c)
        .filter(|id| orphans.iter().any(|o| &o.id == *id))
        .cloned()
        .collect();
    let twice = from_b.iter().filter(|id| from_c.contains(id)).count();
    assert_eq!(twice, 0, "a reply read back by two replicas");
    assert_eq!(taken.len(), orphans.len(), "every orphan taken over");
    drop_schema(b, &schema).await;
}
