//! Contacts and campaigns of notices in SQLite: a contact per (channel, user); notices keyed by
//! their id (`INSERT OR IGNORE`), released into the outbox in the transaction that marks them.

use super::*;
use redsol_actors::model::Template;
use redsol_actors::store::notices::{Contact, Notice, Notices, NOTICE_PREFIX};

fn touch(
    conn: &Connection,
    key: &ConversationKey,
    phone: Option<&str>,
    at: u64,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO contacts (channel, user, phone, last_inbound) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (channel, user) DO UPDATE SET \
         phone = COALESCE(excluded.phone, contacts.phone), \
         last_inbound = MAX(contacts.last_inbound, excluded.last_inbound)",
    )
    .and_then(|mut st| st.execute(params![key.channel.as_str(), key.user, phone, at as i64]))
    .map_err(db_err)?;
    Ok(())
}

fn opt_out(conn: &Connection, key: &ConversationKey, opted_out: bool, at: u64) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO contacts (channel, user, last_inbound, opted_out) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (channel, user) DO UPDATE SET opted_out = excluded.opted_out",
        params![key.channel.as_str(), key.user, at as i64, opted_out],
    )
    .map_err(db_err)?;
    Ok(())
}

fn contacts(conn: &Connection) -> StoreResult<Vec<Contact>> {
    let mut stmt = conn
        .prepare_cached("SELECT channel, user, phone, last_inbound, opted_out FROM contacts")
        .map_err(db_err)?;
    let rows = stmt
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Option<String>>(2)?,
                row.get::<_, i64>(3)?,
                row.get::<_, bool>(4)?,
            ))
        })
        .map_err(db_err)?;
    let mut out = Vec::new();
    for row in rows {
        let (channel, user, phone, last_inbound, opted_out) = row.map_err(db_err)?;
        out.push(Contact {
            key: ConversationKey::new(parse_channel(&channel)?, user),
            phone,
            last_inbound: u64::try_from(last_inbound).unwrap_or(0),
            opted_out,
        });
    }
    Ok(out)
}

fn queue(conn: &mut Connection, notices: &[Notice]) -> StoreResult<usize> {
    let tx = savepoint(conn).map_err(db_err)?;
    let mut new = 0;
    for n in notices {
        let reply = serde_json::to_string(&n.reply)
            .map_err(|e| StoreError::Invalid(format!("notice reply: {e}")))?;
        let template = n
            .template
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(|e| StoreError::Invalid(format!("notice template: {e}")))?;
        new += tx
            .prepare_cached(
                "INSERT OR IGNORE INTO notices (id, channel, user, reply, template, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    n.id,
                    n.key.channel.as_str(),
                    n.key.user,
                    reply,
                    template,
                    n.queued_at as i64
                ])
            })
            .map_err(db_err)?;
    }
    tx.commit().map_err(db_err)?;
    Ok(new)
}

fn release(conn: &mut Connection, limit: usize) -> StoreResult<Vec<OutboxEntry>> {
    let now = redsol_actors::store::unix_now();
    let tx = savepoint(conn).map_err(db_err)?;
    let waiting = {
        let mut stmt = tx
            .prepare_cached(
                "SELECT seq, id, channel, user, reply, template, created_at FROM notices \
                 WHERE released_at IS NULL AND COALESCE(hold_until, 0) <= ?2 \
                 ORDER BY seq LIMIT ?1",
            )
            .map_err(db_err)?;
        let rows = stmt
            .query_map(params![limit as i64, now as i64], |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, String>(2)?,
                    row.get::<_, String>(3)?,
                    row.get::<_, String>(4)?,
                    row.get::<_, Option<String>>(5)?,
                    row.get::<_, i64>(6)?,
                ))
            })
            .map_err(db_err)?;
        rows.collect::<rusqlite::Result<Vec<_>>>().map_err(db_err)?
    };
    let Some(last) = waiting.last().map(|w| w.0) else {
        return Ok(Vec::new());
    };
    let mut entries = Vec::with_capacity(waiting.len());
    for (_, id, channel, user, reply, template, created_at) in waiting {
        let reply = serde_json::from_str(&reply)
            .map_err(|e| StoreError::Invalid(format!("notice {id}: {e}")))?;
        let template: Option<Template> = template
            .map(|t| serde_json::from_str(&t))
            .transpose()
            .map_err(|e| StoreError::Invalid(format!("notice template {id}: {e}")))?;
        entries.push(OutboxEntry {
            key: ConversationKey::new(parse_channel(&channel)?, user),
            id,
            reply,
            in_reply_to: None,
            queued_at: u64::try_from(created_at).unwrap_or(0),
            reply_to: None,
            attempted: false,
            edit: None,
            template,
        });
    }
    let new = insert_replies(&tx, &entries)?;
    tx.execute(
        "UPDATE notices SET released_at = ?1, hold_until = NULL \
         WHERE released_at IS NULL AND COALESCE(hold_until, 0) <= ?1 AND seq <= ?2",
        params![now as i64, last],
    )
    .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    entries.retain(|e| new.contains(&e.id));
    Ok(entries)
}

fn requeue(conn: &mut Connection) -> StoreResult<u64> {
    let tx = savepoint(conn).map_err(db_err)?;
    let unsent = format!(
        "SELECT id FROM outbox WHERE id LIKE '{NOTICE_PREFIX}%' \
         AND sent_at IS NULL AND attempted_at IS NULL"
    );
    tx.execute(
        &format!("UPDATE notices SET released_at = NULL WHERE id IN ({unsent})"),
        [],
    )
    .map_err(db_err)?;
    let back = tx
        .execute(&format!("DELETE FROM outbox WHERE id IN ({unsent})"), [])
        .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    Ok(back as u64)
}

/// Notices in flight: handed to the platform, not marked sent.
fn in_flight() -> String {
    format!("id LIKE '{NOTICE_PREFIX}%' AND sent_at IS NULL AND attempted_at IS NOT NULL")
}

fn hold_attempted(conn: &mut Connection, channel: Channel, until: u64) -> StoreResult<u64> {
    let tx = savepoint(conn).map_err(db_err)?;
    let held = format!(
        "SELECT id FROM outbox WHERE {} AND channel = ?1",
        in_flight()
    );
    tx.execute(
        &format!("UPDATE notices SET released_at = NULL, hold_until = ?2 WHERE id IN ({held})"),
        params![channel.as_str(), until as i64],
    )
    .map_err(db_err)?;
    let n = tx
        .execute(
            &format!("DELETE FROM outbox WHERE id IN ({held})"),
            params![channel.as_str()],
        )
        .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    Ok(n as u64)
}

fn confirm(conn: &mut Connection, ids: &[String]) -> StoreResult<u64> {
    let tx = savepoint(conn).map_err(db_err)?;
    let now = redsol_actors::store::unix_now();
    let mut confirmed = 0;
    for id in ids.iter().filter(|id| id.starts_with(NOTICE_PREFIX)) {
        // Handed to Graph in this run, its answer not in yet (the status came first).
        tx.prepare_cached(
            "UPDATE outbox SET sent_at = ?2 \
             WHERE id = ?1 AND sent_at IS NULL AND attempted_at IS NOT NULL",
        )
        .and_then(|mut st| st.execute(params![id, redsol_actors::store::now_utc()]))
        .map_err(db_err)?;
        confirmed += tx
            .prepare_cached(
                "UPDATE notices SET released_at = ?2, hold_until = NULL \
                 WHERE id = ?1 AND released_at IS NULL AND hold_until IS NOT NULL",
            )
            .and_then(|mut st| st.execute(params![id, now as i64]))
            .map_err(db_err)? as u64;
    }
    tx.commit().map_err(db_err)?;
    Ok(confirmed)
}

fn close_attempted(conn: &mut Connection) -> StoreResult<Vec<(Channel, u64)>> {
    let tx = savepoint(conn).map_err(db_err)?;
    let filter = in_flight();
    let counts = {
        let mut stmt = tx
            .prepare(&format!(
                "SELECT channel, COUNT(*) FROM outbox WHERE {filter} GROUP BY channel"
            ))
            .map_err(db_err)?;
        let rows = stmt
            .query_map([], |row| {
                Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
            })
            .map_err(db_err)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_err)?;
        rows.into_iter()
            .map(|(c, n)| Ok((parse_channel(&c)?, u64::try_from(n).unwrap_or(0))))
            .collect::<StoreResult<Vec<_>>>()?
    };
    tx.execute(
        &format!("UPDATE outbox SET sent_at = ?1 WHERE {filter}"),
        params![redsol_actors::store::now_utc()],
    )
    .map_err(db_err)?;
    tx.commit().map_err(db_err)?;
    Ok(counts)
}

impl Notices for SqliteStore {
    fn touch_contact(
        &self,
        key: &ConversationKey,
        phone: Option<String>,
        at: u64,
    ) -> BoxFuture<'_, StoreResult<()>> {
        let key = key.clone();
        Box::pin(self.run("touch_contact", move |conn| {
            touch(conn, &key, phone.as_deref(), at)
        }))
    }

    fn set_opted_out(
        &self,
        key: &ConversationKey,
        opted_out: bool,
        at: u64,
    ) -> BoxFuture<'_, StoreResult<()>> {
        let key = key.clone();
        Box::pin(self.run("set_opted_out", move |conn| {
            opt_out(conn, &key, opted_out, at)
        }))
    }

    fn contacts(&self) -> BoxFuture<'_, StoreResult<Vec<Contact>>> {
        Box::pin(self.run("contacts", |conn| contacts(conn)))
    }

    fn queue_notices(&self, notices: Vec<Notice>) -> BoxFuture<'_, StoreResult<usize>> {
        Box::pin(self.run("queue_notices", move |conn| queue(conn, &notices)))
    }

    fn release_notices(&self, limit: usize) -> BoxFuture<'_, StoreResult<Vec<OutboxEntry>>> {
        Box::pin(self.run("release_notices", move |conn| release(conn, limit)))
    }

    fn requeue_notices(&self) -> BoxFuture<'_, StoreResult<u64>> {
        Box::pin(self.run("requeue_notices", requeue))
    }

    fn hold_attempted_notices(
        &self,
        channel: Channel,
        until: u64,
    ) -> BoxFuture<'_, StoreResult<u64>> {
        Box::pin(self.run("hold_attempted_notices", move |conn| {
            hold_attempted(conn, channel, until)
        }))
    }

    fn confirm_notices(&self, ids: Vec<String>) -> BoxFuture<'_, StoreResult<u64>> {
        Box::pin(self.run("confirm_notices", move |conn| confirm(conn, &ids)))
    }

    fn close_attempted_notices(&self) -> BoxFuture<'_, StoreResult<Vec<(Channel, u64)>>> {
        Box::pin(self.run("close_attempted_notices", close_attempted))
    }

    fn notices_waiting(&self) -> BoxFuture<'_, StoreResult<u64>> {
        Box::pin(self.run("notices_waiting", |conn| {
            conn.query_row(
                "SELECT COUNT(*) FROM notices WHERE released_at IS NULL",
                [],
                |row| row.get::<_, i64>(0),
            )
            .map(|n| u64::try_from(n).unwrap_or(0))
            .map_err(db_err)
        }))
    }
}
