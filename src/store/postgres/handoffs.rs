//! Handoffs to a person in PostgreSQL: one open row per customer (a unique partial index),
//! taken by one conditional `UPDATE` and ended by another, so two staff members tapping
//! together, on any replicas, cannot both win.

use super::{db_err, key_at, name_row, parse_channel, PgStore};
use deadpool_postgres::GenericClient;
use redsol_actors::model::ConversationKey;
use redsol_actors::store::handoff::{handoff_id, Claim, Ended, Handoff, NewHandoff, Owner};
use redsol_actors::store::{StoreError, StoreResult};
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

/// The columns [`handoff`] reads, in its order.
const COLUMNS: &str = "id, channel, user_id, name, topic, requested_at, owner_channel, \
     owner_user, owner_name, taken_at, last_activity, carded, source";

fn secs(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn at(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn handoff(row: &Row) -> StoreResult<Handoff> {
    let owner = match (
        row.get::<_, Option<String>>(6),
        row.get::<_, Option<String>>(7),
    ) {
        (Some(channel), Some(user)) => Some(Owner {
            key: ConversationKey::new(parse_channel(&channel)?, user),
            name: row.get::<_, Option<String>>(8).unwrap_or_default(),
        }),
        _ => None,
    };
    Ok(Handoff {
        id: row.get::<_, Option<String>>(0).unwrap_or_default(),
        customer: key_at(row, 1, 2)?,
        name: row.get(3),
        topic: row.get(4),
        requested_at: secs(row.get(5)),
        owner,
        taken_at: row.get::<_, Option<i64>>(9).map(secs),
        last_activity: secs(row.get(10)),
        carded: row.get::<_, i64>(11) != 0,
        source: row.get(12),
    })
}

async fn select(
    conn: &impl GenericClient,
    filter: &str,
    args: &[&(dyn ToSql + Sync)],
) -> StoreResult<Vec<Handoff>> {
    let sql = format!("SELECT {COLUMNS} FROM handoffs WHERE {filter} ORDER BY seq");
    let rows = conn.query(&sql, args).await.map_err(db_err)?;
    rows.iter().map(handoff).collect()
}

async fn one(
    conn: &impl GenericClient,
    filter: &str,
    args: &[&(dyn ToSql + Sync)],
) -> StoreResult<Option<Handoff>> {
    Ok(select(conn, filter, args).await?.pop())
}

/// The handoff `new` stands for already: the one its source opened, or the customer's open one.
async fn existing(conn: &impl GenericClient, new: &NewHandoff) -> StoreResult<Option<Handoff>> {
    if let Some(source) = &new.source {
        if let Some(h) = one(conn, "source = $1", &[source]).await? {
            return Ok(Some(h));
        }
    }
    one(
        conn,
        "channel = $1 AND user_id = $2 AND ended IS NULL",
        &[&new.customer.channel.as_str(), &new.customer.user],
    )
    .await
}

impl PgStore {
    /// Opens a handoff for the customer, or returns the one already open for them (or the
    /// one `source` opened); with whether it was opened now.
    pub async fn open_handoff(&self, new: NewHandoff) -> StoreResult<(Handoff, bool)> {
        self.timed("open_handoff", async {
            let mut conn = self.conn().await?;
            let tx = conn.transaction().await.map_err(db_err)?;
            if let Some(found) = existing(&tx, &new).await? {
                tx.commit().await.map_err(db_err)?;
                return Ok((found, false));
            }
            // The unique keys (the source, one open per customer) decide if a replica opened
            // it meanwhile: then this insert is a no-op and that one is found.
            let inserted = tx
                .query_opt(
                    "INSERT INTO handoffs (channel, user_id, name, topic, source, requested_at, \
                     carded, last_activity) VALUES ($1, $2, $3, $4, $5, $6, $7, $6) \
                     ON CONFLICT DO NOTHING RETURNING seq",
                    &[
                        &new.customer.channel.as_str(),
                        &new.customer.user,
                        &new.name,
                        &new.topic,
                        &new.source,
                        &at(new.at),
                        &i64::from(new.carded),
                    ],
                )
                .await
                .map_err(db_err)?;
            let found = match inserted {
                Some(row) => {
                    let id = name_row(&tx, "handoffs", row.get(0), handoff_id).await?;
                    one(&tx, "id = $1", &[&id]).await?.map(|h| (h, true))
                }
                None => existing(&tx, &new).await?.map(|h| (h, false)),
            };
            let found = found.ok_or_else(|| {
                StoreError::Unavailable("a handoff vanished as it was opened".into())
            })?;
            tx.commit().await.map_err(db_err)?;
            Ok(found)
        })
        .await
    }

    /// Gives a waiting handoff to `owner`, unless someone else has it.
    pub async fn claim_handoff(
        &self,
        id: &str,
        owner: Owner,
        taken_at: u64,
        source: Option<String>,
    ) -> StoreResult<Claim> {
        self.timed("claim_handoff", async {
            let mut conn = self.conn().await?;
            let tx = conn.transaction().await.map_err(db_err)?;
            let owner_channel = owner.key.channel.as_str();
            let took = tx
                .execute(
                    "UPDATE handoffs SET owner_channel = $2, owner_user = $3, owner_name = $4, \
                     taken_at = $5, last_activity = $5, taken_source = $6 \
                     WHERE id = $1 AND ended IS NULL AND owner_user IS NULL \
                     AND NOT (channel = $2 AND user_id = $3)",
                    &[
                        &id,
                        &owner_channel,
                        &owner.key.user,
                        &owner.name,
                        &at(taken_at),
                        &source,
                    ],
                )
                .await
                .map_err(db_err)?
                > 0;
            let claim = match one(&tx, "id = $1 AND ended IS NULL", &[&id]).await? {
                None => Claim::Gone,
                Some(h) if h.owner.as_ref().is_some_and(|o| o.key == owner.key) => {
                    // A replay of the tap that took it is that tap.
                    let replayed = match &source {
                        Some(source) if !took => tx
                            .query_one(
                                "SELECT EXISTS (SELECT 1 FROM handoffs \
                                 WHERE id = $1 AND taken_source = $2)",
                                &[&id, source],
                            )
                            .await
                            .map_err(db_err)?
                            .get(0),
                        _ => false,
                    };
                    Claim::Taken {
                        fresh: took || replayed,
                        handoff: h,
                    }
                }
                // Nobody took it: the staff member asked for a person themselves.
                Some(h) if h.owner.is_none() => Claim::Gone,
                Some(h) => Claim::HeldBy(h),
            };
            tx.commit().await.map_err(db_err)?;
            Ok(claim)
        })
        .await
    }

    /// The customer's open handoff, if any.
    pub async fn handoff_for(&self, customer: &ConversationKey) -> StoreResult<Option<Handoff>> {
        self.timed("handoff_for", async {
            let conn = self.conn().await?;
            one(
                &conn,
                "channel = $1 AND user_id = $2 AND ended IS NULL",
                &[&customer.channel.as_str(), &customer.user],
            )
            .await
        })
        .await
    }

    /// The handoffs a staff member holds, oldest first.
    pub async fn handoffs_held(&self, owner: &ConversationKey) -> StoreResult<Vec<Handoff>> {
        self.timed("handoffs_held", async {
            let conn = self.conn().await?;
            select(
                &conn,
                "owner_channel = $1 AND owner_user = $2 AND ended IS NULL",
                &[&owner.channel.as_str(), &owner.user],
            )
            .await
        })
        .await
    }

    /// Notes a staff member's message relayed at `at`.
    pub async fn touch_handoff(&self, id: &str, when: u64) -> StoreResult<()> {
        self.execute(
            "touch_handoff",
            "UPDATE handoffs SET last_activity = GREATEST(last_activity, $2) \
             WHERE id = $1 AND ended IS NULL",
            &[&id, &at(when)],
        )
        .await
        .map(|_| ())
    }

    /// Ends an open handoff; the handoff as it was, or `None` when it had ended already
    /// (unless `source` ended it: a replay gets it again).
    pub async fn end_handoff(
        &self,
        id: &str,
        ended: Ended,
        when: u64,
        source: Option<String>,
    ) -> StoreResult<Option<Handoff>> {
        self.timed("end_handoff", async {
            let conn = self.conn().await?;
            // One statement: of two replicas ending it together, one gets it.
            let row = conn
                .query_opt(
                    &format!(
                        "UPDATE handoffs SET ended = $2, ended_at = $3, ended_source = $4 \
                         WHERE id = $1 AND ended IS NULL RETURNING {COLUMNS}"
                    ),
                    &[&id, &ended.as_str(), &at(when), &source],
                )
                .await
                .map_err(db_err)?;
            match (row, &source) {
                (Some(row), _) => handoff(&row).map(Some),
                (None, Some(source)) => {
                    one(&conn, "id = $1 AND ended_source = $2", &[&id, source]).await
                }
                (None, None) => Ok(None),
            }
        })
        .await
    }

    /// Every open handoff, oldest first.
    pub async fn open_handoffs(&self) -> StoreResult<Vec<Handoff>> {
        self.timed("open_handoffs", async {
            let conn = self.conn().await?;
            select(&conn, "ended IS NULL", &[]).await
        })
        .await
    }

    /// Notes that staff were shown the handoff's card; `false` when they had been already.
    pub async fn mark_carded(&self, id: &str) -> StoreResult<bool> {
        self.execute(
            "mark_carded",
            "UPDATE handoffs SET carded = 1 WHERE id = $1 AND carded = 0",
            &[&id],
        )
        .await
        .map(|n| n > 0)
    }
}
