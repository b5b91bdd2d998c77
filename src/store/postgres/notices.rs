//! Contacts and campaigns of notices in PostgreSQL: a contact per (channel, user); notices keyed
//! by their id (`ON CONFLICT DO NOTHING`), released into the outbox in the transaction that
//! marks them. Replicas release together without releasing a notice twice: each takes the
//! waiting notices it marks with `FOR UPDATE SKIP LOCKED`, so the other passes over them.

use super::turns::insert_replies;
use super::{db_err, key_at, parse_channel, PgStore};
use deadpool_postgres::GenericClient;
use redsol_actors::model::{Channel, ConversationKey, Template};
use redsol_actors::store::notices::{Contact, Notice, NOTICE_PREFIX};
use redsol_actors::store::{now_utc, unix_now, OutboxEntry, StoreError, StoreResult};

/// Unix seconds as the database keeps them.
fn secs(at: u64) -> i64 {
    i64::try_from(at).unwrap_or(i64::MAX)
}

/// Notices in flight: handed to the platform, not marked sent.
fn in_flight() -> String {
    format!("id LIKE '{NOTICE_PREFIX}%' AND sent_at IS NULL AND attempted_at IS NOT NULL")
}

impl PgStore {
    /// Records that `key` wrote at `at`, with the phone they shared, if any (kept when none);
    /// an older time does not move the last message back.
    pub async fn touch_contact(
        &self,
        key: &ConversationKey,
        phone: Option<String>,
        at: u64,
    ) -> StoreResult<()> {
        self.execute(
            "touch_contact",
            "INSERT INTO contacts (channel, user_id, phone, last_inbound) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (channel, user_id) DO UPDATE SET \
             phone = COALESCE(excluded.phone, contacts.phone), \
             last_inbound = GREATEST(contacts.last_inbound, excluded.last_inbound)",
            &[&key.channel.as_str(), &key.user, &phone, &secs(at)],
        )
        .await
        .map(|_| ())
    }

    /// Turns notices off (or on again) for `key`; a contact not seen before is recorded.
    pub async fn set_opted_out(
        &self,
        key: &ConversationKey,
        opted_out: bool,
        at: u64,
    ) -> StoreResult<()> {
        self.execute(
            "set_opted_out",
            "INSERT INTO contacts (channel, user_id, last_inbound, opted_out) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (channel, user_id) DO UPDATE SET \
             opted_out = excluded.opted_out",
            &[&key.channel.as_str(), &key.user, &secs(at), &opted_out],
        )
        .await
        .map(|_| ())
    }

    /// Every contact.
    pub async fn contacts(&self) -> StoreResult<Vec<Contact>> {
        self.timed("contacts", async {
            let conn = self.conn().await?;
            let rows = conn
                .query(
                    "SELECT channel, user_id, phone, last_inbound, opted_out FROM contacts \
                     ORDER BY channel, user_id",
                    &[],
                )
                .await
                .map_err(db_err)?;
            rows.iter()
                .map(|row| {
                    Ok(Contact {
                        key: key_at(row, 0, 1)?,
                        phone: row.get(2),
                        last_inbound: u64::try_from(row.get::<_, i64>(3)).unwrap_or(0),
                        opted_out: row.get(4),
                    })
                })
                .collect()
        })
        .await
    }

    /// Queues notices; one queued before under the same id is left alone. Returns how many
    /// were new.
    pub async fn queue_notices(&self, notices: Vec<Notice>) -> StoreResult<usize> {
        self.timed("queue_notices", async {
            let mut conn = self.conn().await?;
            let tx = conn.transaction().await.map_err(db_err)?;
            let insert = tx
                .prepare(
                    "INSERT INTO notices (id, channel, user_id, reply, template, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING",
                )
                .await
                .map_err(db_err)?;
            let mut new = 0;
            for n in &notices {
                let reply = serde_json::to_string(&n.reply)
                    .map_err(|e| StoreError::Invalid(format!("notice reply: {e}")))?;
                let template = n
                    .template
                    .as_ref()
                    .map(serde_json::to_string)
                    .transpose()
                    .map_err(|e| StoreError::Invalid(format!("notice template: {e}")))?;
                let inserted = tx
                    .execute(
                        &insert,
                        &[
                            &n.id,
                            &n.key.channel.as_str(),
                            &n.key.user,
                            &reply,
                            &template,
                            &secs(n.queued_at),
                        ],
                    )
                    .await
                    .map_err(db_err)?;
                new += usize::try_from(inserted).unwrap_or(0);
            }
            tx.commit().await.map_err(db_err)?;
            Ok(new)
        })
        .await
    }

    /// Moves up to `limit` queued notices, oldest first, into the reply outbox (same ids) and
    /// marks them released, at once. Returns the outbox entries that were new.
    ///
    /// The notices taken are locked (`FOR UPDATE SKIP LOCKED`) until the commit: a replica
    /// releasing at the same time takes the next ones, never these.
    pub async fn release_notices(&self, limit: usize) -> StoreResult<Vec<OutboxEntry>> {
        self.timed("release_notices", async {
            let now = secs(unix_now());
            let limit = i64::try_from(limit).unwrap_or(i64::MAX);
            let mut conn = self.conn().await?;
            let tx = conn.transaction().await.map_err(db_err)?;
            let rows = tx
                .query(
                    "SELECT seq, id, channel, user_id, reply, template, created_at FROM notices \
                     WHERE released_at IS NULL AND COALESCE(hold_until, 0) <= $2 \
                     ORDER BY seq LIMIT $1 FOR UPDATE SKIP LOCKED",
                    &[&limit, &now],
                )
                .await
                .map_err(db_err)?;
            if rows.is_empty() {
                return Ok(Vec::new());
            }
            let mut seqs: Vec<i64> = Vec::with_capacity(rows.len());
            let mut entries = Vec::with_capacity(rows.len());
            for row in &rows {
                seqs.push(row.get(0));
                let id: String = row.get(1);
                let channel: String = row.get(2);
                let reply: String = row.get(4);
                let template: Option<String> = row.get(5);
                let reply = serde_json::from_str(&reply)
                    .map_err(|e| StoreError::Invalid(format!("notice {id}: {e}")))?;
                let template: Option<Template> = template
                    .map(|t| serde_json::from_str(&t))
                    .transpose()
                    .map_err(|e| StoreError::Invalid(format!("notice template {id}: {e}")))?;
                entries.push(OutboxEntry {
                    key: ConversationKey::new(parse_channel(&channel)?, row.get::<_, String>(3)),
                    id,
                    reply,
                    in_reply_to: None,
                    queued_at: u64::try_from(row.get::<_, i64>(6)).unwrap_or(0),
                    reply_to: None,
                    attempted: false,
                    edit: None,
                    template,
                });
            }
            let new = insert_replies(&tx, &entries, &self.claim()).await?;
            tx.execute(
                "UPDATE notices SET released_at = $1, hold_until = NULL WHERE seq = ANY($2)",
                &[&now, &seqs],
            )
            .await
            .map_err(db_err)?;
            tx.commit().await.map_err(db_err)?;
            entries.retain(|e| new.contains(&e.id));
            Ok(entries)
        })
        .await
    }

    /// Notices queued and not yet released.
    pub async fn notices_waiting(&self) -> StoreResult<u64> {
        self.timed("notices_waiting", async {
            let conn = self.conn().await?;
            let n: i64 = conn
                .query_one(
                    "SELECT COUNT(*) FROM notices WHERE released_at IS NULL",
                    &[],
                )
                .await
                .map_err(db_err)?
                .get(0);
            Ok(u64::try_from(n).unwrap_or(0))
        })
        .await
    }

    /// At start: notices released into the outbox and never handed to a platform go back to
    /// their campaign. Returns how many.
    ///
    /// The outbox rows are deleted first (`RETURNING` their ids): one a sender marks attempted
    /// meanwhile is either deleted before or left alone, never requeued and sent too.
    pub async fn requeue_notices(&self) -> StoreResult<u64> {
        self.timed("requeue_notices", async {
            let mut conn = self.conn().await?;
            let tx = conn.transaction().await.map_err(db_err)?;
            let ids: Vec<String> = tx
                .query(
                    &format!(
                        "DELETE FROM outbox WHERE id LIKE '{NOTICE_PREFIX}%' \
                         AND sent_at IS NULL AND attempted_at IS NULL AND {} RETURNING id",
                        self.claimable()
                    ),
                    &[],
                )
                .await
                .map_err(db_err)?
                .iter()
                .map(|row| row.get(0))
                .collect();
            tx.execute(
                "UPDATE notices SET released_at = NULL WHERE id = ANY($1)",
                &[&ids],
            )
            .await
            .map_err(db_err)?;
            tx.commit().await.map_err(db_err)?;
            Ok(ids.len() as u64)
        })
        .await
    }

    /// At start, on a channel whose platform confirms deliveries: notices handed to it before
    /// the stop and not marked sent go back to their campaign, held until `until` (Unix
    /// seconds). Returns how many were held.
    pub async fn hold_attempted_notices(&self, channel: Channel, until: u64) -> StoreResult<u64> {
        self.timed("hold_attempted_notices", async {
            let mut conn = self.conn().await?;
            let tx = conn.transaction().await.map_err(db_err)?;
            let ids: Vec<String> = tx
                .query(
                    &format!(
                        "DELETE FROM outbox WHERE {} AND {} AND channel = $1 RETURNING id",
                        in_flight(),
                        self.claimable()
                    ),
                    &[&channel.as_str()],
                )
                .await
                .map_err(db_err)?
                .iter()
                .map(|row| row.get(0))
                .collect();
            tx.execute(
                "UPDATE notices SET released_at = NULL, hold_until = $2 WHERE id = ANY($1)",
                &[&ids, &secs(until)],
            )
            .await
            .map_err(db_err)?;
            tx.commit().await.map_err(db_err)?;
            Ok(ids.len() as u64)
        })
        .await
    }

    /// The platform confirmed these notices arrived: those held are closed, never released
    /// again, and those handed over in this run and not marked sent yet are marked sent. Any
    /// other id changes nothing. Returns how many were held.
    pub async fn confirm_notices(&self, ids: Vec<String>) -> StoreResult<u64> {
        self.timed("confirm_notices", async {
            let ids: Vec<String> = ids
                .into_iter()
                .filter(|id| id.starts_with(NOTICE_PREFIX))
                .collect();
            if ids.is_empty() {
                return Ok(0);
            }
            let now = secs(unix_now());
            let mut conn = self.conn().await?;
            let tx = conn.transaction().await.map_err(db_err)?;
            // Handed to the platform in this run, its answer not in yet (the status came first).
            tx.execute(
                "UPDATE outbox SET sent_at = $2 \
                 WHERE id = ANY($1) AND sent_at IS NULL AND attempted_at IS NOT NULL",
                &[&ids, &now_utc()],
            )
            .await
            .map_err(db_err)?;
            let confirmed = tx
                .execute(
                    "UPDATE notices SET released_at = $2, hold_until = NULL \
                     WHERE id = ANY($1) AND released_at IS NULL AND hold_until IS NOT NULL",
                    &[&ids, &now],
                )
                .await
                .map_err(db_err)?;
            tx.commit().await.map_err(db_err)?;
            Ok(confirmed)
        })
        .await
    }

    /// At start, after the holds: notices handed to a platform before the stop and never
    /// confirmed are closed, not sent again. Returns how many, per channel.
    pub async fn close_attempted_notices(&self) -> StoreResult<Vec<(Channel, u64)>> {
        self.timed("close_attempted_notices", async {
            let conn = self.conn().await?;
            // One statement: what is counted is exactly what was closed.
            let rows = conn
                .query(
                    &format!(
                        "WITH closed AS (UPDATE outbox SET sent_at = $1 WHERE {} AND {} \
                         RETURNING channel) \
                         SELECT channel, COUNT(*) FROM closed GROUP BY channel ORDER BY channel",
                        in_flight(),
                        self.claimable()
                    ),
                    &[&now_utc()],
                )
                .await
                .map_err(db_err)?;
            rows.iter()
                .map(|row| {
                    let channel: String = row.get(0);
                    let n: i64 = row.get(1);
                    Ok((parse_channel(&channel)?, u64::try_from(n).unwrap_or(0)))
                })
                .collect()
        })
        .await
    }
}
