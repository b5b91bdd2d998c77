//! Zone outages in PostgreSQL: one open per zone (a unique partial index), declared once per
//! source (Alertmanager's fingerprint, the staff message), reports linked once per customer.
//! The unique keys decide between replicas declaring or linking together.

use super::{db_err, name_row, PgStore};
use deadpool_postgres::GenericClient;
use redsol_actors::model::ConversationKey;
use redsol_actors::store::outages::{outage_id, NewOutage, Outage};
use redsol_actors::store::{StoreError, StoreResult};
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

const COLUMNS: &str = "id, zone, cause, eta, started_at, resolved_at, reports";

fn secs(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

fn at(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn outage(row: &Row) -> Outage {
    Outage {
        id: row.get::<_, Option<String>>(0).unwrap_or_default(),
        zone: row.get(1),
        cause: row.get(2),
        eta: row.get(3),
        started_at: secs(row.get(4)),
        resolved_at: row.get::<_, Option<i64>>(5).map(secs),
        reports: secs(row.get(6)),
    }
}

async fn one(
    conn: &impl GenericClient,
    filter: &str,
    args: &[&(dyn ToSql + Sync)],
) -> StoreResult<Option<Outage>> {
    let sql = format!("SELECT {COLUMNS} FROM outages WHERE {filter} ORDER BY seq LIMIT 1");
    conn.query_opt(&sql, args)
        .await
        .map(|row| row.as_ref().map(outage))
        .map_err(db_err)
}

/// The outage `new` stands for already: the one its source declared, or the zone's open one
/// (declared again with a new ETA or a better cause: updated).
async fn existing(conn: &impl GenericClient, new: &NewOutage) -> StoreResult<Option<Outage>> {
    if let Some(source) = &new.source {
        if let Some(o) = one(conn, "source = $1", &[source]).await? {
            return Ok(Some(o));
        }
    }
    conn.query_opt(
        &format!(
            "UPDATE outages SET cause = $2, eta = $3 \
             WHERE zone = $1 AND resolved_at IS NULL RETURNING {COLUMNS}"
        ),
        &[&new.zone, &new.cause, &new.eta],
    )
    .await
    .map(|row| row.as_ref().map(outage))
    .map_err(db_err)
}

impl PgStore {
    /// Declares an outage, or returns the one `source` declared, or the zone's open one with
    /// its cause and ETA updated; with whether it was declared now.
    pub async fn declare_outage(&self, new: NewOutage) -> StoreResult<(Outage, bool)> {
        self.timed("declare_outage", async {
            let mut conn = self.conn().await?;
            let tx = conn.transaction().await.map_err(db_err)?;
            if let Some(found) = existing(&tx, &new).await? {
                tx.commit().await.map_err(db_err)?;
                return Ok((found, false));
            }
            // The unique keys (the source, one open per zone) decide if a replica declared it
            // meanwhile: then this insert is a no-op and that one is found.
            let inserted = tx
                .query_opt(
                    "INSERT INTO outages (zone, cause, eta, source, started_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING seq",
                    &[&new.zone, &new.cause, &new.eta, &new.source, &at(new.at)],
                )
                .await
                .map_err(db_err)?;
            let declared = match inserted {
                Some(row) => {
                    let id = name_row(&tx, "outages", row.get(0), outage_id).await?;
                    one(&tx, "id = $1", &[&id]).await?.map(|o| (o, true))
                }
                None => existing(&tx, &new).await?.map(|o| (o, false)),
            };
            let declared = declared.ok_or_else(|| {
                StoreError::Unavailable("an outage vanished as it was declared".into())
            })?;
            tx.commit().await.map_err(db_err)?;
            Ok(declared)
        })
        .await
    }

    /// Ends the zone's open outage (or the one `source` declared); `None` when none was open.
    pub async fn resolve_outage(
        &self,
        zone: Option<&str>,
        source: Option<&str>,
        when: u64,
    ) -> StoreResult<Option<Outage>> {
        self.timed("resolve_outage", async {
            let (column, value) = match (zone, source) {
                (_, Some(source)) => ("source", source),
                (Some(zone), None) => ("zone", zone),
                (None, None) => return Ok(None),
            };
            let conn = self.conn().await?;
            conn.query_opt(
                &format!(
                    "UPDATE outages SET resolved_at = $2 WHERE seq = \
                     (SELECT seq FROM outages WHERE {column} = $1 AND resolved_at IS NULL \
                     ORDER BY seq LIMIT 1) AND resolved_at IS NULL RETURNING {COLUMNS}"
                ),
                &[&value, &at(when)],
            )
            .await
            .map(|row| row.as_ref().map(outage))
            .map_err(db_err)
        })
        .await
    }

    /// Every open outage, oldest first.
    pub async fn open_outages(&self) -> StoreResult<Vec<Outage>> {
        self.timed("open_outages", async {
            let conn = self.conn().await?;
            let rows = conn
                .query(
                    &format!(
                        "SELECT {COLUMNS} FROM outages WHERE resolved_at IS NULL ORDER BY seq"
                    ),
                    &[],
                )
                .await
                .map_err(db_err)?;
            Ok(rows.iter().map(outage).collect())
        })
        .await
    }

    /// Links a customer's report to an outage; `false` when they had reported it already.
    pub async fn link_report(
        &self,
        outage_id: &str,
        customer: &ConversationKey,
        when: u64,
    ) -> StoreResult<bool> {
        self.timed("link_report", async {
            let mut conn = self.conn().await?;
            let tx = conn.transaction().await.map_err(db_err)?;
            let new = tx
                .execute(
                    "INSERT INTO outage_reports (outage, channel, user_id, created_at) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                    &[
                        &outage_id,
                        &customer.channel.as_str(),
                        &customer.user,
                        &at(when),
                    ],
                )
                .await
                .map_err(db_err)?
                > 0;
            if new {
                tx.execute(
                    "UPDATE outages SET reports = reports + 1 WHERE id = $1",
                    &[&outage_id],
                )
                .await
                .map_err(db_err)?;
            }
            tx.commit().await.map_err(db_err)?;
            Ok(new)
        })
        .await
    }
}
