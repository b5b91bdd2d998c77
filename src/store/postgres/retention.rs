//! Retention in PostgreSQL: what is kept only for the conversations' sake is deleted once old
//! (answered journal rows, sent replies, idle snapshots, old requests, ended handoffs), and
//! `redsol_store_rows{table}` is published. Autovacuum reclaims the space.

use super::{db_err, PgStore};
use redsol_actors::store::{cutoff_utc, Retention, StoreResult};

/// The longest one retention pass may take.
const PRUNE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(300);

/// The tables whose rows are counted in `redsol_store_rows`.
const COUNTED: &[&str] = &[
    "journal",
    "outbox",
    "snapshots",
    "requests",
    "prospects",
    "incidents",
    "handoffs",
];

impl PgStore {
    /// Deletes what is older than `retention` at `now` (Unix seconds), in one transaction;
    /// how many rows went.
    pub async fn prune_at(&self, now: u64, retention: Retention) -> StoreResult<u64> {
        self.timed_within("prune", PRUNE_DEADLINE, async {
            let mut conn = self.conn().await?;
            let tx = conn.transaction().await.map_err(db_err)?;
            // A large backlog takes a while; the connection's short statement timeout is for
            // the conversations' operations.
            tx.batch_execute(&format!(
                "SET LOCAL statement_timeout = {}",
                PRUNE_DEADLINE.as_millis()
            ))
            .await
            .map_err(db_err)?;
            let mut deleted = 0;
            for (sql, days) in [
                (
                    "DELETE FROM journal WHERE done AND received_at < $1",
                    retention.journal_days,
                ),
                (
                    "DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < $1",
                    retention.outbox_days,
                ),
                (
                    "DELETE FROM snapshots WHERE updated_at < $1",
                    retention.snapshot_days,
                ),
                (
                    "DELETE FROM requests WHERE created_at < $1",
                    retention.request_days,
                ),
            ] {
                deleted += tx
                    .execute(sql, &[&cutoff_utc(now, days)])
                    .await
                    .map_err(db_err)?;
            }
            // Ended handoffs go with the requests (their times are Unix seconds).
            let handoffs_before =
                now.saturating_sub(u64::from(retention.request_days) * 86_400) as i64;
            deleted += tx
                .execute(
                    "DELETE FROM handoffs WHERE ended IS NOT NULL AND ended_at < $1",
                    &[&handoffs_before],
                )
                .await
                .map_err(db_err)?;
            for table in COUNTED {
                let n: i64 = tx
                    .query_one(&format!("SELECT COUNT(*) FROM {table}"), &[])
                    .await
                    .map_err(db_err)?
                    .get(0);
                metrics::gauge!("redsol_store_rows", "table" => *table).set(n as f64);
            }
            tx.commit().await.map_err(db_err)?;
            if deleted > 0 {
                tracing::info!(rows = deleted, "old store rows deleted (retention)");
            }
            Ok(deleted)
        })
        .await
    }
}
