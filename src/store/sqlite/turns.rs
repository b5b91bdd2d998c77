//! What makes a turn durable: snapshots, the inbound journal, the turn commit and the outbox
//! of replies.

use super::*;

pub(super) fn load_snapshot(
    conn: &mut Connection,
    key: &ConversationKey,
) -> StoreResult<Option<String>> {
    conn.prepare_cached("SELECT state FROM snapshots WHERE channel = ?1 AND user = ?2")
        .and_then(|mut stmt| {
            stmt.query_row(params![key.channel.as_str(), key.user], |row| row.get(0))
                .optional()
        })
        .map_err(db_err)
}

pub(super) fn save_snapshot(
    conn: &mut Connection,
    key: &ConversationKey,
    state: &str,
) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO snapshots (channel, user, state, updated_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (channel, user) DO UPDATE SET \
         state = excluded.state, updated_at = excluded.updated_at",
    )
    .and_then(|mut stmt| stmt.execute(params![key.channel.as_str(), key.user, state, now_utc()]))
    .map(|_| ())
    .map_err(db_err)
}

pub(super) fn delete_snapshot(conn: &mut Connection, key: &ConversationKey) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM snapshots WHERE channel = ?1 AND user = ?2")
        .and_then(|mut stmt| stmt.execute(params![key.channel.as_str(), key.user]))
        .map(|_| ())
        .map_err(db_err)
}

pub(super) fn journal_inbound(conn: &Connection, entry: &JournalEntry) -> StoreResult<bool> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO journal (channel, user, message_id, payload, done, received_at) \
         VALUES (?1, ?2, ?3, ?4, 0, ?5)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            entry.key.channel.as_str(),
            entry.key.user,
            entry.message_id,
            entry.payload,
            now_utc()
        ])
    })
    .map(|changed| changed == 1)
    .map_err(db_err)
}

/// Journals a delivery's messages in one savepoint: all or none.
pub(super) fn journal_inbound_all(
    conn: &mut Connection,
    entries: &[JournalEntry],
) -> StoreResult<Vec<bool>> {
    let sp = savepoint(conn).map_err(db_err)?;
    let new = entries
        .iter()
        .map(|entry| journal_inbound(&sp, entry))
        .collect::<StoreResult<Vec<bool>>>()?;
    sp.commit().map_err(db_err)?;
    Ok(new)
}

pub(super) fn journal_done(
    conn: &mut Connection,
    key: &ConversationKey,
    message_id: &str,
) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE journal SET done = 1 WHERE channel = ?1 AND user = ?2 AND message_id = ?3",
    )
    .and_then(|mut stmt| stmt.execute(params![key.channel.as_str(), key.user, message_id]))
    .map(|_| ())
    .map_err(db_err)
}

pub(super) fn journal_pending(conn: &mut Connection) -> StoreResult<Vec<JournalEntry>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT channel, user, message_id, payload FROM journal \
             WHERE done = 0 ORDER BY seq",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
            ))
        })
        .map_err(db_err)?;
    let mut entries = Vec::new();
    for row in rows {
        let (channel, user, message_id, payload) = row.map_err(db_err)?;
        entries.push(JournalEntry {
            key: ConversationKey::new(parse_channel(&channel)?, user),
            message_id,
            payload,
        });
    }
    Ok(entries)
}

/// Commits a turn; returns how many replies were newly queued in the outbox.
/// Queues replies in the outbox (a reply already there, by id, is left alone); the ids of those
/// that were new.
pub(super) fn insert_replies(tx: &Connection, replies: &[OutboxEntry]) -> StoreResult<Vec<String>> {
    let mut queued = Vec::new();
    for reply in replies {
        let json = serde_json::to_string(&reply.reply)
            .map_err(|e| StoreError::Invalid(format!("outbox reply: {e}")))?;
        let template = match &reply.template {
            Some(t) => Some(
                serde_json::to_string(t)
                    .map_err(|e| StoreError::Invalid(format!("outbox template: {e}")))?,
            ),
            None => None,
        };
        let inserted = tx
            .prepare_cached(
                "INSERT OR IGNORE INTO outbox \
                 (id, channel, user, in_reply_to, reply, created_at, reply_to, edit, template) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    reply.id,
                    reply.key.channel.as_str(),
                    reply.key.user,
                    reply.in_reply_to,
                    json,
                    format_utc(reply.queued_at),
                    reply.reply_to,
                    reply.edit,
                    template
                ])
            })
            .map_err(db_err)?;
        if inserted > 0 {
            queued.push(reply.id.clone());
        }
    }
    Ok(queued)
}

/// Queues replies made outside any turn (a notice from staff's tools or a sweep); the ids of
/// those that were new.
pub(super) fn queue_replies(
    conn: &mut Connection,
    replies: &[OutboxEntry],
) -> StoreResult<Vec<String>> {
    let tx = savepoint(conn).map_err(db_err)?;
    let queued = insert_replies(&tx, replies)?;
    tx.commit().map_err(db_err)?;
    Ok(queued)
}

pub(super) fn commit_turn(conn: &mut Connection, commit: &TurnCommit) -> StoreResult<usize> {
    let tx = savepoint(conn).map_err(db_err)?;
    let channel = commit.key.channel.as_str();
    tx.prepare_cached(
        "INSERT INTO snapshots (channel, user, state, updated_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (channel, user) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
    )
    .and_then(|mut st| st.execute(params![channel, commit.key.user, commit.snapshot, now_utc()]))
    .map_err(db_err)?;
    if let Some(id) = &commit.message_id {
        tx.prepare_cached(
            "UPDATE journal SET done = 1 WHERE channel = ?1 AND user = ?2 AND message_id = ?3",
        )
        .and_then(|mut st| st.execute(params![channel, commit.key.user, id]))
        .map_err(db_err)?;
    }
    let queued = insert_replies(&tx, &commit.replies)?.len();
    tx.commit().map_err(db_err)?;
    Ok(queued)
}

/// Marks a reply attempted; whether it may be sent (not when it was sent already).
pub(super) fn outbox_attempted(conn: &mut Connection, id: &str) -> StoreResult<bool> {
    let marked = conn
        .prepare_cached(
            "UPDATE outbox SET attempted_at = COALESCE(attempted_at, ?2) \
             WHERE id = ?1 AND sent_at IS NULL",
        )
        .and_then(|mut st| st.execute(params![id, now_utc()]))
        .map_err(db_err)?;
    if marked > 0 {
        return Ok(true);
    }
    let held = conn
        .prepare_cached("SELECT 1 FROM outbox WHERE id = ?1")
        .and_then(|mut st| st.exists(params![id]))
        .map_err(db_err)?;
    Ok(!held)
}

pub(super) fn outbox_sent(conn: &mut Connection, id: &str) -> StoreResult<bool> {
    let changed = conn
        .prepare_cached("UPDATE outbox SET sent_at = ?2 WHERE id = ?1 AND sent_at IS NULL")
        .and_then(|mut st| st.execute(params![id, now_utc()]))
        .map_err(db_err)?;
    Ok(changed > 0)
}

/// Replies not yet sent plus rows not yet in the sheet: `redsol_outbox_pending`.
pub(super) fn count_unsent(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT (SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL) \
         + (SELECT COUNT(*) FROM sheet_outbox)",
        [],
        |r| r.get(0),
    )
}

/// Unsent replies of a channel after position `after` (the outbox's `seq`), oldest first, at
/// most `limit` of them, and the position of the last one read (`after` when none was).
pub(super) fn outbox_page(
    conn: &mut Connection,
    channel: Channel,
    after: u64,
    limit: usize,
) -> StoreResult<OutboxPage> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, user, in_reply_to, reply, \
             COALESCE(CAST(strftime('%s', created_at) AS INTEGER), 0), reply_to, \
             attempted_at IS NOT NULL, edit, template, seq FROM outbox \
             WHERE channel = ?1 AND sent_at IS NULL AND seq > ?2 ORDER BY seq LIMIT ?3",
        )
        .map_err(db_err)?;
    let after_seq = i64::try_from(after).unwrap_or(i64::MAX);
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    let rows = stmt
        .query_map(params![channel.as_str(), after_seq, limit], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Option<String>>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, i64>(4)?,
                row.get::<_, Option<String>>(5)?,
                row.get::<_, bool>(6)?,
                row.get::<_, Option<String>>(7)?,
                row.get::<_, Option<String>>(8)?,
                row.get::<_, i64>(9)?,
            ))
        })
        .map_err(db_err)?;
    let mut out = Vec::new();
    let mut next = after;
    for row in rows {
        let (id, user, in_reply_to, json, queued_at, reply_to, attempted, edit, template, seq) =
            row.map_err(db_err)?;
        next = u64::try_from(seq).unwrap_or(next);
        let reply = serde_json::from_str(&json)
            .map_err(|e| StoreError::Invalid(format!("outbox reply {id}: {e}")))?;
        let template = match template {
            Some(t) => Some(
                serde_json::from_str(&t)
                    .map_err(|e| StoreError::Invalid(format!("outbox template {id}: {e}")))?,
            ),
            None => None,
        };
        out.push(OutboxEntry {
            id,
            key: ConversationKey::new(channel, user),
            reply,
            in_reply_to,
            queued_at: u64::try_from(queued_at).unwrap_or(0),
            reply_to,
            attempted,
            edit,
            template,
        });
    }
    Ok(OutboxPage { entries: out, next })
}
