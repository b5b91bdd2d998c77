//! What makes a turn durable: snapshots, the inbound journal (deduplicated by the platform's
//! message id with a unique key, so a redelivery to any replica is answered once), the turn
//! commit and the outbox of replies.

use super::claims::NOW;
use super::{db_err, key_at, PgStore};
use deadpool_postgres::GenericClient;
use redsol_actors::model::{Channel, ConversationKey};
use redsol_actors::store::{
    now_utc, JournalEntry, OutboxEntry, OutboxPage, StoreError, StoreResult, TurnCommit,
};

/// Journals one message; whether it is new.
async fn journal_one(conn: &impl GenericClient, entry: &JournalEntry) -> StoreResult<bool> {
    conn.execute(
        "INSERT INTO journal (channel, user_id, message_id, payload, received_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (channel, user_id, message_id) DO NOTHING",
        &[
            &entry.key.channel.as_str(),
            &entry.key.user,
            &entry.message_id,
            &entry.payload,
            &now_utc(),
        ],
    )
    .await
    .map(|n| n == 1)
    .map_err(db_err)
}

/// Queues replies in the outbox (one already there, by id, is left alone); the ids of those
/// that were new.
pub(super) async fn insert_replies(
    conn: &impl GenericClient,
    replies: &[OutboxEntry],
    (claimed_by, lease): &(String, i64),
) -> StoreResult<Vec<String>> {
    let mut queued = Vec::new();
    for reply in replies {
        let json = serde_json::to_string(&reply.reply)
            .map_err(|e| StoreError::Invalid(format!("outbox reply: {e}")))?;
        let template = reply
            .template
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| StoreError::Invalid(format!("outbox template: {e}")))?;
        let queued_at = i64::try_from(reply.queued_at).unwrap_or(i64::MAX);
        let inserted = conn
            .execute(
                &format!(
                    "INSERT INTO outbox (id, channel, user_id, in_reply_to, reply, created_at, \
                     reply_to, edit, template, claimed_by, claimed_until) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, {NOW} + $11) \
                     ON CONFLICT (id) DO NOTHING"
                ),
                &[
                    &reply.id,
                    &reply.key.channel.as_str(),
                    &reply.key.user,
                    &reply.in_reply_to,
                    &json,
                    &queued_at,
                    &reply.reply_to,
                    &reply.edit,
                    &template,
                    claimed_by,
                    lease,
                ],
            )
            .await
            .map_err(db_err)?;
        if inserted > 0 {
            queued.push(reply.id.clone());
        }
    }
    Ok(queued)
}

const SAVE_SNAPSHOT: &str = "INSERT INTO snapshots (channel, user_id, state, updated_at) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (channel, user_id) DO UPDATE SET \
     state = excluded.state, updated_at = excluded.updated_at";

impl PgStore {
    /// The last snapshot of a conversation's state, if any.
    pub async fn load_snapshot(&self, key: &ConversationKey) -> StoreResult<Option<String>> {
        self.timed("load_snapshot", async {
            let conn = self.conn().await?;
            conn.query_opt(
                "SELECT state FROM snapshots WHERE channel = $1 AND user_id = $2",
                &[&key.channel.as_str(), &key.user],
            )
            .await
            .map(|row| row.map(|r| r.get(0)))
            .map_err(db_err)
        })
        .await
    }

    /// Replaces the snapshot of a conversation.
    pub async fn save_snapshot(&self, key: &ConversationKey, state: String) -> StoreResult<()> {
        self.execute(
            "save_snapshot",
            SAVE_SNAPSHOT,
            &[&key.channel.as_str(), &key.user, &state, &now_utc()],
        )
        .await
        .map(|_| ())
    }

    /// Forgets a conversation's snapshot.
    pub async fn delete_snapshot(&self, key: &ConversationKey) -> StoreResult<()> {
        self.execute(
            "delete_snapshot",
            "DELETE FROM snapshots WHERE channel = $1 AND user_id = $2",
            &[&key.channel.as_str(), &key.user],
        )
        .await
        .map(|_| ())
    }

    /// Journals the messages of one delivery in one transaction: for each, whether it is new.
    pub async fn journal_inbound_all(&self, entries: Vec<JournalEntry>) -> StoreResult<Vec<bool>> {
        self.timed("journal_inbound", async {
            let mut conn = self.conn().await?;
            let tx = conn.transaction().await.map_err(db_err)?;
            let mut new = Vec::with_capacity(entries.len());
            for entry in &entries {
                new.push(journal_one(&tx, entry).await?);
            }
            tx.commit().await.map_err(db_err)?;
            Ok(new)
        })
        .await
    }

    /// Journals one message; `false` when its id was journaled before (a redelivery).
    pub async fn journal_inbound(&self, entry: JournalEntry) -> StoreResult<bool> {
        self.timed("journal_inbound", async {
            let conn = self.conn().await?;
            journal_one(&conn, &entry).await
        })
        .await
    }

    /// Marks a journaled message as answered.
    pub async fn journal_done(&self, key: &ConversationKey, message_id: &str) -> StoreResult<()> {
        self.execute(
            "journal_done",
            "UPDATE journal SET done = TRUE \
             WHERE channel = $1 AND user_id = $2 AND message_id = $3",
            &[&key.channel.as_str(), &key.user, &message_id],
        )
        .await
        .map(|_| ())
    }

    /// Journaled messages not yet answered, oldest first.
    pub async fn journal_pending(&self) -> StoreResult<Vec<JournalEntry>> {
        self.timed("journal_pending", async {
            let conn = self.conn().await?;
            let rows = conn
                .query(
                    "SELECT channel, user_id, message_id, payload FROM journal \
                     WHERE NOT done ORDER BY seq",
                    &[],
                )
                .await
                .map_err(db_err)?;
            rows.iter()
                .map(|row| {
                    Ok(JournalEntry {
                        key: key_at(row, 0, 1)?,
                        message_id: row.get(2),
                        payload: row.get(3),
                    })
                })
                .collect()
        })
        .await
    }

    /// Commits a turn: snapshot, journal entry done, replies into the outbox, at once.
    pub async fn commit_turn(&self, commit: TurnCommit) -> StoreResult<()> {
        self.timed("commit_turn", async {
            let mut conn = self.conn().await?;
            let tx = conn.transaction().await.map_err(db_err)?;
            let channel = commit.key.channel.as_str();
            if let Some(lease) = commit.lease {
                self.fence(&tx, &commit.key, lease).await?;
            }
            tx.execute(
                SAVE_SNAPSHOT,
                &[&channel, &commit.key.user, &commit.snapshot, &now_utc()],
            )
            .await
            .map_err(db_err)?;
            if let Some(id) = &commit.message_id {
                let answered = tx
                    .execute(
                        "UPDATE journal SET done = TRUE \
                         WHERE channel = $1 AND user_id = $2 AND message_id = $3 AND NOT done",
                        &[&channel, &commit.key.user, id],
                    )
                    .await
                    .map_err(db_err)?;
                // Under a lease, a message is answered once: a second turn for it (taken
                // twice in a takeover's race) is refused whole.
                if answered == 0 && commit.lease.is_some() {
                    return Err(StoreError::Fenced(
                        "the message was answered already".into(),
                    ));
                }
            }
            insert_replies(&tx, &commit.replies, &self.claim()).await?;
            tx.commit().await.map_err(db_err)
        })
        .await
    }

    /// Queues replies made outside any turn; the ids of those that were new.
    pub async fn queue_replies(&self, replies: Vec<OutboxEntry>) -> StoreResult<Vec<String>> {
        self.timed("queue_replies", async {
            let mut conn = self.conn().await?;
            let tx = conn.transaction().await.map_err(db_err)?;
            let queued = insert_replies(&tx, &replies, &self.claim()).await?;
            tx.commit().await.map_err(db_err)?;
            Ok(queued)
        })
        .await
    }

    /// Marks a reply handed to the platform (before its first request); whether this replica
    /// may send it (see `Store::outbox_attempted`).
    pub async fn outbox_attempted(&self, id: &str) -> StoreResult<bool> {
        self.timed("outbox_attempted", async {
            let conn = self.conn().await?;
            // Takes (and renews) the claim, unless another live replica holds it: that one
            // took the reply over while this one could not renew its claim, and sends it.
            let (me, lease) = self.claim();
            let marked = conn
                .execute(
                    &format!(
                        "UPDATE outbox SET attempted_at = COALESCE(attempted_at, $2), \
                         claimed_by = $3, claimed_until = {NOW} + $4 \
                         WHERE id = $1 AND sent_at IS NULL AND {}",
                        self.claimable()
                    ),
                    &[&id, &now_utc(), &me, &lease],
                )
                .await
                .map_err(db_err)?;
            if marked > 0 {
                return Ok(true);
            }
            let held = conn
                .query_opt("SELECT 1 FROM outbox WHERE id = $1", &[&id])
                .await
                .map_err(db_err)?;
            Ok(held.is_none())
        })
        .await
    }

    /// Marks a reply sent.
    pub async fn outbox_sent(&self, id: &str) -> StoreResult<()> {
        self.execute(
            "outbox_sent",
            "UPDATE outbox SET sent_at = $2 WHERE id = $1 AND sent_at IS NULL",
            &[&id, &now_utc()],
        )
        .await
        .map(|_| ())
    }

    /// At most `limit` unsent replies of a channel queued after position `after`, oldest first.
    pub async fn outbox_page(
        &self,
        channel: Channel,
        after: u64,
        limit: usize,
    ) -> StoreResult<OutboxPage> {
        self.timed("outbox_page", async {
            let conn = self.conn().await?;
            let after_seq = i64::try_from(after).unwrap_or(i64::MAX);
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            // Takes (and renews) the claim on what it reads: replies another live replica
            // made stay with it, and two replicas never read the same free reply at once.
            let (me, lease) = self.claim();
            let mut rows = conn
                .query(
                    &format!(
                        "WITH page AS (SELECT seq FROM outbox WHERE channel = $1 \
                         AND sent_at IS NULL AND seq > $2 AND {} ORDER BY seq LIMIT $3 \
                         FOR UPDATE SKIP LOCKED) \
                         UPDATE outbox SET claimed_by = $4, claimed_until = {NOW} + $5 FROM page \
                         WHERE outbox.seq = page.seq RETURNING outbox.id, outbox.user_id, \
                         outbox.in_reply_to, outbox.reply, outbox.created_at, outbox.reply_to, \
                         outbox.attempted_at IS NOT NULL, outbox.edit, outbox.template, \
                         outbox.seq",
                        self.claimable()
                    ),
                    &[&channel.as_str(), &after_seq, &limit, &me, &lease],
                )
                .await
                .map_err(db_err)?;
            rows.sort_by_key(|row| row.get::<_, i64>(9));
            let mut entries = Vec::with_capacity(rows.len());
            let mut next = after;
            for row in rows {
                let id: String = row.get(0);
                let json: String = row.get(3);
                let template: Option<String> = row.get(8);
                next = u64::try_from(row.get::<_, i64>(9)).unwrap_or(next);
                entries.push(OutboxEntry {
                    reply: serde_json::from_str(&json)
                        .map_err(|e| StoreError::Invalid(format!("outbox reply {id}: {e}")))?,
                    template: template
                        .map(|t| serde_json::from_str(&t))
                        .transpose()
                        .map_err(|e| StoreError::Invalid(format!("outbox template {id}: {e}")))?,
                    key: ConversationKey::new(channel, row.get::<_, String>(1)),
                    in_reply_to: row.get(2),
                    queued_at: u64::try_from(row.get::<_, i64>(4)).unwrap_or(0),
                    reply_to: row.get(5),
                    attempted: row.get(6),
                    edit: row.get(7),
                    id,
                });
            }
            Ok(OutboxPage { entries, next })
        })
        .await
    }
}
