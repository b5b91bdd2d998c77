//! The sheet outbox (prospects and incidents waiting to be appended to their tab), the last
//! good copy of each tab, and the ID reservations that keep new IDs above the sheet's.

use super::*;

/// A prospect or incident waiting in the outbox to be appended to its sheet tab.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SheetRow {
    /// The row's own ID (`PRO-000001`, `INC-000123`): how a retry finds it in the sheet.
    pub id: String,
    /// [`PROSPECTS`] or [`INCIDENTS`].
    pub tab: String,
    /// The record as JSON ([`Prospect`] or [`Incident`]).
    pub record: String,
    /// Whether an append of it may have landed (timeout, cut connection): check before retrying.
    pub uncertain: bool,
}

/// The `tab` of prospect rows in [`SheetRow`].
pub const PROSPECTS: &str = "prospects";
/// The `tab` of incident rows in [`SheetRow`].
pub const INCIDENTS: &str = "incidents";

impl SqliteStore {
    /// Rows waiting for the sheet, oldest first, at most `limit`.
    pub async fn sheet_rows_pending(&self, limit: usize) -> StoreResult<Vec<SheetRow>> {
        self.run("sheet_rows_pending", move |conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT id, tab, record, uncertain FROM sheet_outbox ORDER BY seq LIMIT ?1",
                )
                .map_err(db_err)?;
            let rows = stmt
                .query_map(params![limit as i64], |r| {
                    Ok(SheetRow {
                        id: r.get(0)?,
                        tab: r.get(1)?,
                        record: r.get(2)?,
                        uncertain: r.get::<_, i64>(3)? != 0,
                    })
                })
                .map_err(db_err)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db_err)?;
            Ok(rows)
        })
        .await
    }

    /// How many rows wait for the sheet.
    pub async fn sheet_rows_queued(&self) -> StoreResult<usize> {
        self.run("sheet_rows_queued", |conn| {
            conn.query_row("SELECT COUNT(*) FROM sheet_outbox", [], |r| {
                r.get::<_, i64>(0)
            })
            .map(|n| n.max(0) as usize)
            .map_err(db_err)
        })
        .await
    }

    /// Forgets rows that are in the sheet now.
    pub async fn sheet_rows_done(&self, ids: Vec<String>) -> StoreResult<()> {
        let removed = self
            .run("sheet_rows_done", move |conn| {
                let tx = savepoint(conn).map_err(db_err)?;
                let mut removed = 0;
                for id in &ids {
                    removed += tx
                        .execute("DELETE FROM sheet_outbox WHERE id = ?1", params![id])
                        .map_err(db_err)?;
                }
                tx.commit().map_err(db_err)?;
                Ok(removed as i64)
            })
            .await?;
        publish_unsent(&self.unsent, -removed);
        Ok(())
    }

    /// Marks rows whose append may have landed: the next attempt checks the sheet first.
    pub async fn sheet_rows_uncertain(&self, ids: Vec<String>) -> StoreResult<()> {
        self.run("sheet_rows_uncertain", move |conn| {
            let tx = savepoint(conn).map_err(db_err)?;
            for id in &ids {
                tx.execute(
                    "UPDATE sheet_outbox SET uncertain = 1 WHERE id = ?1",
                    params![id],
                )
                .map_err(db_err)?;
            }
            tx.commit().map_err(db_err)
        })
        .await
    }

    /// Marks rows whose append certainly did not land (refused, never sent): the next attempt
    /// need not look for them first.
    pub async fn sheet_rows_certain(&self, ids: Vec<String>) -> StoreResult<()> {
        self.run("sheet_rows_certain", move |conn| {
            let tx = savepoint(conn).map_err(db_err)?;
            for id in &ids {
                tx.execute(
                    "UPDATE sheet_outbox SET uncertain = 0 WHERE id = ?1",
                    params![id],
                )
                .map_err(db_err)?;
            }
            tx.commit().map_err(db_err)
        })
        .await
    }

    /// Keeps the last good copy of a sheet tab (JSON rows).
    pub async fn save_sheet_cache(&self, tab: String, rows: String) -> StoreResult<()> {
        self.run("save_sheet_cache", move |conn| {
            conn.execute(
                "INSERT INTO sheet_cache (tab, rows, fetched_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (tab) DO UPDATE SET rows = excluded.rows, fetched_at = excluded.fetched_at",
                params![tab, rows, now_utc()],
            )
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }

    /// The last good copy of a sheet tab and when it was fetched, if any.
    pub async fn load_sheet_cache(&self, tab: String) -> StoreResult<Option<(String, String)>> {
        self.run("load_sheet_cache", move |conn| {
            conn.query_row(
                "SELECT rows, fetched_at FROM sheet_cache WHERE tab = ?1",
                params![tab],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(db_err)
        })
        .await
    }

    /// Makes the next number of `table` ([`PROSPECTS`] or [`INCIDENTS`]) larger than `above`
    /// (the largest ID already in the sheet), so a new ID never repeats one staff can see.
    pub async fn reserve_ids(&self, table: &'static str, above: u64) -> StoreResult<()> {
        if table != PROSPECTS && table != INCIDENTS {
            return Err(StoreError::Invalid(format!("no ID sequence for {table}")));
        }
        self.run("reserve_ids", move |conn| {
            let tx = savepoint(conn).map_err(db_err)?;
            let current: i64 = tx
                .query_row(
                    "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = ?1), 0)",
                    params![table],
                    |r| r.get(0),
                )
                .map_err(db_err)?;
            let above = i64::try_from(above).unwrap_or(i64::MAX / 2);
            if above > current {
                tx.execute(
                    "DELETE FROM sqlite_sequence WHERE name = ?1",
                    params![table],
                )
                .map_err(db_err)?;
                tx.execute(
                    "INSERT INTO sqlite_sequence (name, seq) VALUES (?1, ?2)",
                    params![table, above],
                )
                .map_err(db_err)?;
            }
            tx.commit().map_err(db_err)
        })
        .await
    }

    /// The ID and priority of every incident redsol created.
    pub async fn incident_priorities(&self) -> StoreResult<Vec<(String, Priority)>> {
        self.run("incident_priorities", |conn| {
            let mut stmt = conn
                .prepare_cached("SELECT id, priority FROM incidents WHERE id IS NOT NULL")
                .map_err(db_err)?;
            let rows = stmt
                .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
                .map_err(db_err)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(db_err)?;
            rows.into_iter()
                .map(|(id, p)| Ok((id, parse_priority(&p)?)))
                .collect()
        })
        .await
    }
}
