//! Zone outages in SQLite: one open per zone (a unique partial index), declared once per source
//! (Alertmanager's fingerprint, the staff message), reports linked once per customer.

use super::*;
use redsol_actors::store::outages::{outage_id, NewOutage, Outage, Outages};

const COLUMNS: &str = "id, zone, cause, eta, started_at, resolved_at, reports";

fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<Outage> {
    let secs = |v: i64| u64::try_from(v).unwrap_or(0);
    Ok(Outage {
        id: row.get(0)?,
        zone: row.get(1)?,
        cause: row.get(2)?,
        eta: row.get(3)?,
        started_at: secs(row.get(4)?),
        resolved_at: row.get::<_, Option<i64>>(5)?.map(secs),
        reports: secs(row.get(6)?),
    })
}

fn select(
    conn: &Connection,
    filter: &str,
    args: impl rusqlite::Params,
) -> StoreResult<Vec<Outage>> {
    let sql = format!("SELECT {COLUMNS} FROM outages WHERE {filter} ORDER BY seq");
    let mut stmt = conn.prepare_cached(&sql).map_err(db_err)?;
    let rows = stmt
        .query_map(args, read)
        .map_err(db_err)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(db_err)?;
    Ok(rows)
}

fn declare(conn: &mut Connection, new: &NewOutage) -> StoreResult<(Outage, bool)> {
    let tx = savepoint(conn).map_err(db_err)?;
    if let Some(source) = &new.source {
        if let Some(o) = select(&tx, "source = ?1", params![source])?.pop() {
            return Ok((o, false));
        }
    }
    let open = select(&tx, "zone = ?1 AND resolved_at IS NULL", params![new.zone])?.pop();
    if let Some(o) = open {
        // Declared again (a new ETA, a better cause): the same outage, updated.
        tx.execute(
            "UPDATE outages SET cause = ?2, eta = ?3 WHERE id = ?1",
            params![o.id, new.cause, new.eta],
        )
        .map_err(db_err)?;
        let updated = select(&tx, "id = ?1", params![o.id])?.pop().unwrap_or(o);
        tx.commit().map_err(db_err)?;
        return Ok((updated, false));
    }
    tx.execute(
        "INSERT INTO outages (zone, cause, eta, source, started_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![new.zone, new.cause, new.eta, new.source, new.at as i64],
    )
    .map_err(db_err)?;
    let seq = tx.last_insert_rowid();
    let id = outage_id(seq.max(0) as u64);
    tx.execute(
        "UPDATE outages SET id = ?1 WHERE seq = ?2",
        params![id, seq],
    )
    .map_err(db_err)?;
    let made = select(&tx, "id = ?1", params![id])?
        .pop()
        .ok_or_else(|| StoreError::Unavailable("an outage vanished as it was made".into()))?;
    tx.commit().map_err(db_err)?;
    Ok((made, true))
}

fn resolve(
    conn: &mut Connection,
    zone: Option<&str>,
    source: Option<&str>,
    at: u64,
) -> StoreResult<Option<Outage>> {
    let tx = savepoint(conn).map_err(db_err)?;
    let open = match (zone, source) {
        (_, Some(source)) => select(&tx, "source = ?1 AND resolved_at IS NULL", params![source])?,
        (Some(zone), None) => select(&tx, "zone = ?1 AND resolved_at IS NULL", params![zone])?,
        (None, None) => Vec::new(),
    };
    let Some(mut o) = open.into_iter().next() else {
        return Ok(None);
    };
    tx.execute(
        "UPDATE outages SET resolved_at = ?2 WHERE id = ?1",
        params![o.id, at as i64],
    )
    .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    o.resolved_at = Some(at);
    Ok(Some(o))
}

fn link(
    conn: &mut Connection,
    outage: &str,
    customer: &ConversationKey,
    at: u64,
) -> StoreResult<bool> {
    let tx = savepoint(conn).map_err(db_err)?;
    let new = tx
        .execute(
            "INSERT OR IGNORE INTO outage_reports (outage, channel, user, created_at) \
             VALUES (?1, ?2, ?3, ?4)",
            params![outage, customer.channel.as_str(), customer.user, at as i64],
        )
        .map_err(db_err)?
        > 0;
    if new {
        tx.execute(
            "UPDATE outages SET reports = reports + 1 WHERE id = ?1",
            params![outage],
        )
        .map_err(db_err)?;
    }
    tx.commit().map_err(db_err)?;
    Ok(new)
}

impl Outages for SqliteStore {
    fn declare_outage(&self, new: NewOutage) -> BoxFuture<'_, StoreResult<(Outage, bool)>> {
        Box::pin(self.run("declare_outage", move |conn| declare(conn, &new)))
    }

    fn resolve_outage(
        &self,
        zone: Option<&str>,
        source: Option<&str>,
        at: u64,
    ) -> BoxFuture<'_, StoreResult<Option<Outage>>> {
        let (zone, source) = (zone.map(str::to_string), source.map(str::to_string));
        Box::pin(self.run("resolve_outage", move |conn| {
            resolve(conn, zone.as_deref(), source.as_deref(), at)
        }))
    }

    fn open_outages(&self) -> BoxFuture<'_, StoreResult<Vec<Outage>>> {
        Box::pin(self.run("open_outages", |conn| {
            select(conn, "resolved_at IS NULL", params![])
        }))
    }

    fn link_report(
        &self,
        outage: &str,
        customer: &ConversationKey,
        at: u64,
    ) -> BoxFuture<'_, StoreResult<bool>> {
        let (outage, customer) = (outage.to_string(), customer.clone());
        Box::pin(self.run("link_report", move |conn| {
            link(conn, &outage, &customer, at)
        }))
    }
}
