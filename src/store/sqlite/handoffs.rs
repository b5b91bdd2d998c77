//! Handoffs to a person in SQLite: one open row per customer (a unique partial index), taken
//! by one conditional `UPDATE` so that two staff members tapping together cannot both win.

use super::records::parse_channel;
use super::*;
use redsol_actors::store::handoff::{
    handoff_id, Claim, Ended, Handoff, Handoffs, NewHandoff, Owner,
};

/// The columns [`read`] reads, in its order.
const COLUMNS: &str = "id, channel, user, name, topic, requested_at, owner_channel, owner_user, \
     owner_name, taken_at, last_activity, carded, source";

/// The raw columns, converted outside the row callback so that a bad channel is `Invalid`.
type Raw = (
    String,
    String,
    String,
    String,
    String,
    i64,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
    i64,
    bool,
    Option<String>,
);

fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<Raw> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
        row.get(8)?,
        row.get(9)?,
        row.get(10)?,
        row.get(11)?,
        row.get(12)?,
    ))
}

fn handoff(raw: Raw) -> StoreResult<Handoff> {
    let (id, channel, user, name, topic, requested, oc, ou, on, taken, last, carded, source) = raw;
    let owner = match (oc, ou) {
        (Some(c), Some(u)) => Some(Owner {
            key: ConversationKey::new(parse_channel(&c)?, u),
            name: on.unwrap_or_default(),
        }),
        _ => None,
    };
    let secs = |v: i64| u64::try_from(v).unwrap_or(0);
    Ok(Handoff {
        id,
        customer: ConversationKey::new(parse_channel(&channel)?, user),
        name,
        topic,
        requested_at: secs(requested),
        owner,
        taken_at: taken.map(secs),
        last_activity: secs(last),
        carded,
        source,
    })
}

fn select(
    conn: &Connection,
    filter: &str,
    args: impl rusqlite::Params,
) -> StoreResult<Vec<Handoff>> {
    let sql = format!("SELECT {COLUMNS} FROM handoffs WHERE {filter} ORDER BY seq");
    let mut stmt = conn.prepare_cached(&sql).map_err(db_err)?;
    let raws: Vec<Raw> = stmt
        .query_map(args, read)
        .map_err(db_err)?
        .collect::<rusqlite::Result<_>>()
        .map_err(db_err)?;
    raws.into_iter().map(handoff).collect()
}

fn by_id(conn: &Connection, id: &str) -> StoreResult<Option<Handoff>> {
    Ok(select(conn, "id = ?1", params![id])?.pop())
}

fn open_handoff(conn: &mut Connection, new: &NewHandoff) -> StoreResult<(Handoff, bool)> {
    let tx = savepoint(conn).map_err(db_err)?;
    let found = match &new.source {
        Some(source) => select(&tx, "source = ?1", params![source])?.pop(),
        None => None,
    };
    let found = match found {
        Some(h) => Some(h),
        None => select(
            &tx,
            "channel = ?1 AND user = ?2 AND ended IS NULL",
            params![new.customer.channel.as_str(), new.customer.user],
        )?
        .pop(),
    };
    if let Some(h) = found {
        return Ok((h, false));
    }
    tx.execute(
        "INSERT INTO handoffs (channel, user, name, topic, source, requested_at, carded, \
         last_activity) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?6)",
        params![
            new.customer.channel.as_str(),
            new.customer.user,
            new.name,
            new.topic,
            new.source,
            new.at as i64,
            new.carded
        ],
    )
    .map_err(db_err)?;
    let seq = tx.last_insert_rowid();
    let id = handoff_id(seq as u64);
    tx.execute(
        "UPDATE handoffs SET id = ?1 WHERE seq = ?2",
        params![id, seq],
    )
    .map_err(db_err)?;
    let h = by_id(&tx, &id)?
        .ok_or_else(|| StoreError::Unavailable("a handoff vanished as it was made".into()))?;
    tx.commit().map_err(db_err)?;
    Ok((h, true))
}

fn claim(
    conn: &mut Connection,
    id: &str,
    owner: &Owner,
    at: u64,
    source: Option<&str>,
) -> StoreResult<Claim> {
    let tx = savepoint(conn).map_err(db_err)?;
    let took = tx
        .execute(
            "UPDATE handoffs SET owner_channel = ?2, owner_user = ?3, owner_name = ?4, \
             taken_at = ?5, last_activity = ?5, taken_source = ?6 \
             WHERE id = ?1 AND ended IS NULL AND owner_user IS NULL \
             AND NOT (channel = ?2 AND user = ?3)",
            params![
                id,
                owner.key.channel.as_str(),
                owner.key.user,
                owner.name,
                at as i64,
                source
            ],
        )
        .map_err(db_err)?
        > 0;
    let replayed = |tx: &Connection| -> StoreResult<bool> {
        let Some(source) = source else {
            return Ok(false);
        };
        tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM handoffs WHERE id = ?1 AND taken_source = ?2)",
            params![id, source],
            |r| r.get(0),
        )
        .map_err(db_err)
    };
    let claim = match select(&tx, "id = ?1 AND ended IS NULL", params![id])?.pop() {
        None => Claim::Gone,
        Some(h) if h.owner.as_ref().is_some_and(|o| o.key == owner.key) => Claim::Taken {
            fresh: took || replayed(&tx)?,
            handoff: h,
        },
        // Nobody took it: the staff member asked for a person themselves.
        Some(h) if h.owner.is_none() => Claim::Gone,
        Some(h) => Claim::HeldBy(h),
    };
    tx.commit().map_err(db_err)?;
    Ok(claim)
}

fn end(
    conn: &mut Connection,
    id: &str,
    ended: Ended,
    at: u64,
    source: Option<&str>,
) -> StoreResult<Option<Handoff>> {
    let tx = savepoint(conn).map_err(db_err)?;
    let found = match select(&tx, "id = ?1 AND ended IS NULL", params![id])?.pop() {
        Some(open) => {
            tx.execute(
                "UPDATE handoffs SET ended = ?2, ended_at = ?3, ended_source = ?4 WHERE id = ?1",
                params![id, ended.as_str(), at as i64, source],
            )
            .map_err(db_err)?;
            Some(open)
        }
        // A replay of the message that ended it gets it again.
        None => match source {
            Some(source) => {
                select(&tx, "id = ?1 AND ended_source = ?2", params![id, source])?.pop()
            }
            None => None,
        },
    };
    tx.commit().map_err(db_err)?;
    Ok(found)
}

impl Handoffs for SqliteStore {
    fn open_handoff(&self, new: NewHandoff) -> BoxFuture<'_, StoreResult<(Handoff, bool)>> {
        Box::pin(self.run("open_handoff", move |conn| open_handoff(conn, &new)))
    }

    fn claim_handoff(
        &self,
        id: &str,
        owner: Owner,
        at: u64,
        source: Option<String>,
    ) -> BoxFuture<'_, StoreResult<Claim>> {
        let id = id.to_string();
        Box::pin(self.run("claim_handoff", move |conn| {
            claim(conn, &id, &owner, at, source.as_deref())
        }))
    }

    fn handoff_for(
        &self,
        customer: &ConversationKey,
    ) -> BoxFuture<'_, StoreResult<Option<Handoff>>> {
        let customer = customer.clone();
        Box::pin(self.run("handoff_for", move |conn| {
            Ok(select(
                conn,
                "channel = ?1 AND user = ?2 AND ended IS NULL",
                params![customer.channel.as_str(), customer.user],
            )?
            .pop())
        }))
    }

    fn handoffs_held(&self, owner: &ConversationKey) -> BoxFuture<'_, StoreResult<Vec<Handoff>>> {
        let owner = owner.clone();
        Box::pin(self.run("handoffs_held", move |conn| {
            select(
                conn,
                "owner_channel = ?1 AND owner_user = ?2 AND ended IS NULL",
                params![owner.channel.as_str(), owner.user],
            )
        }))
    }

    fn touch_handoff(&self, id: &str, at: u64) -> BoxFuture<'_, StoreResult<()>> {
        let id = id.to_string();
        Box::pin(self.run("touch_handoff", move |conn| {
            conn.execute(
                "UPDATE handoffs SET last_activity = MAX(last_activity, ?2) \
                 WHERE id = ?1 AND ended IS NULL",
                params![id, at as i64],
            )
            .map(|_| ())
            .map_err(db_err)
        }))
    }

    fn end_handoff(
        &self,
        id: &str,
        ended: Ended,
        at: u64,
        source: Option<String>,
    ) -> BoxFuture<'_, StoreResult<Option<Handoff>>> {
        let id = id.to_string();
        Box::pin(self.run("end_handoff", move |conn| {
            end(conn, &id, ended, at, source.as_deref())
        }))
    }

    fn open_handoffs(&self) -> BoxFuture<'_, StoreResult<Vec<Handoff>>> {
        Box::pin(self.run("open_handoffs", |conn| {
            select(conn, "ended IS NULL", params![])
        }))
    }

    fn mark_carded(&self, id: &str) -> BoxFuture<'_, StoreResult<bool>> {
        let id = id.to_string();
        Box::pin(self.run("mark_carded", move |conn| {
            conn.execute(
                "UPDATE handoffs SET carded = 1 WHERE id = ?1 AND carded = 0",
                params![id],
            )
            .map(|n| n > 0)
            .map_err(db_err)
        }))
    }
}
