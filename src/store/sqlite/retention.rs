//! Retention: the store forgets what it keeps only for the conversations' sake once it is old
//! ([`Retention`]): answered journal rows (raw customer text), sent outbox rows, snapshots of
//! idle conversations, old requests and ended handoffs; then it hands the freed pages back to the file system
//! (`PRAGMA incremental_vacuum`) and publishes `redsol_store_rows{table}`.

use super::*;
use redsol_actors::store::{cutoff_utc, Retention};

/// The tables whose rows are counted in `redsol_store_rows`.
pub(super) const COUNTED: &[&str] = &[
    "journal",
    "outbox",
    "snapshots",
    "requests",
    "prospects",
    "incidents",
    "sheet_outbox",
    "handoffs",
];

/// Rows deleted by one [`prune`], by table.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Pruned {
    pub journal: usize,
    pub outbox: usize,
    pub snapshots: usize,
    pub requests: usize,
    pub handoffs: usize,
}

/// Deletes what is older than the retention at `now`, in one transaction, then frees pages.
pub(super) fn prune(conn: &mut Connection, now: u64, r: Retention) -> StoreResult<Pruned> {
    let tx = savepoint(conn).map_err(db_err)?;
    let delete = |sql: &str, days: u32| -> StoreResult<usize> {
        tx.execute(sql, params![cutoff_utc(now, days)])
            .map_err(db_err)
    };
    let pruned = Pruned {
        journal: delete(
            "DELETE FROM journal WHERE done = 1 AND received_at < ?1",
            r.journal_days,
        )?,
        outbox: delete(
            "DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < ?1",
            r.outbox_days,
        )?,
        snapshots: delete(
            "DELETE FROM snapshots WHERE updated_at < ?1",
            r.snapshot_days,
        )?,
        requests: delete("DELETE FROM requests WHERE created_at < ?1", r.request_days)?,
        // Ended handoffs go with the requests (their times are Unix seconds).
        handoffs: tx
            .execute(
                "DELETE FROM handoffs WHERE ended IS NOT NULL AND ended_at < ?1",
                params![now.saturating_sub(u64::from(r.request_days) * 86_400) as i64],
            )
            .map_err(db_err)?,
    };
    tx.commit().map_err(db_err)?;
    // Hand the freed pages back (the database is in incremental auto-vacuum mode).
    conn.execute_batch("PRAGMA incremental_vacuum")
        .map_err(db_err)?;
    Ok(pruned)
}

/// How many rows each of [`COUNTED`] holds.
pub(super) fn row_counts(conn: &Connection) -> StoreResult<Vec<(&'static str, i64)>> {
    COUNTED
        .iter()
        .map(|table| {
            conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
                .map(|n| (*table, n))
                .map_err(db_err)
        })
        .collect()
}

impl SqliteStore {
    /// [`prune`]s at `now` and publishes `redsol_store_rows{table}`; what was deleted.
    pub async fn prune_at(&self, now: u64, retention: Retention) -> StoreResult<Pruned> {
        let (pruned, counts) = self
            .run_alone("prune", move |conn| {
                let pruned = prune(conn, now, retention)?;
                Ok((pruned, row_counts(conn)?))
            })
            .await?;
        for (table, n) in counts {
            metrics::gauge!("redsol_store_rows", "table" => table).set(n as f64);
        }
        if pruned != Pruned::default() {
            tracing::info!(
                journal = pruned.journal,
                outbox = pruned.outbox,
                snapshots = pruned.snapshots,
                requests = pruned.requests,
                handoffs = pruned.handoffs,
                "old store rows deleted (retention)"
            );
        }
        Ok(pruned)
    }
}
