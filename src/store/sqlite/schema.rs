//! The schema: its migrations (`PRAGMA user_version`), the connection's settings, and the
//! clients seeded at the first start.

use super::*;

/// The schema migrations, in order: migration `n` (1-based) brings `user_version` from `n - 1`
/// to `n`. Append new steps; never edit a released one.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: the initial schema.
    r#"
    CREATE TABLE clients (
        id          TEXT PRIMARY KEY NOT NULL,
        name        TEXT NOT NULL,
        email       TEXT NOT NULL,
        zone        TEXT NOT NULL,
        phone       TEXT NOT NULL,
        plan_mbps   INTEGER NOT NULL,
        price       INTEGER NOT NULL,
        status      TEXT NOT NULL,
        signup_date TEXT NOT NULL
    );
    CREATE TABLE prospects (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        id         TEXT UNIQUE,
        created_at TEXT NOT NULL,
        status     TEXT NOT NULL,
        name       TEXT NOT NULL,
        phone      TEXT,
        zone       TEXT NOT NULL,
        plan_mbps  INTEGER NOT NULL,
        price      INTEGER NOT NULL,
        channel    TEXT NOT NULL,
        user       TEXT NOT NULL
    );
    CREATE TABLE incidents (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        id          TEXT UNIQUE,
        status      TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        technician  TEXT NOT NULL,
        client_id   TEXT,
        client_name TEXT NOT NULL,
        kind        TEXT NOT NULL,
        description TEXT NOT NULL,
        priority    TEXT NOT NULL,
        zone        TEXT,
        phone       TEXT,
        channel     TEXT NOT NULL,
        user        TEXT NOT NULL
    );
    CREATE INDEX incidents_by_conversation ON incidents (channel, user);
    CREATE TABLE requests (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        kind       TEXT NOT NULL,
        text       TEXT NOT NULL,
        channel    TEXT NOT NULL,
        user       TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE snapshots (
        channel    TEXT NOT NULL,
        user       TEXT NOT NULL,
        state      TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (channel, user)
    );
    CREATE TABLE journal (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        channel     TEXT NOT NULL,
        user        TEXT NOT NULL,
        message_id  TEXT NOT NULL,
        payload     TEXT NOT NULL,
        done        INTEGER NOT NULL DEFAULT 0,
        received_at TEXT NOT NULL,
        UNIQUE (channel, user, message_id)
    );
    CREATE INDEX journal_by_done ON journal (done, seq);
    "#,
    // 2: the outbox of durable replies.
    r#"
    CREATE TABLE outbox (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        id          TEXT UNIQUE NOT NULL,
        channel     TEXT NOT NULL,
        user        TEXT NOT NULL,
        in_reply_to TEXT,
        reply       TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        sent_at     TEXT
    );
    CREATE INDEX outbox_unsent ON outbox (channel, sent_at, seq);
    "#,
    // 3: the Google Sheets backend: rows waiting to be appended, and the last good copy of
    // each tab (answers while Sheets is unreachable, across restarts).
    r#"
    CREATE TABLE sheet_outbox (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        id         TEXT UNIQUE NOT NULL,
        tab        TEXT NOT NULL,
        record     TEXT NOT NULL,
        created_at TEXT NOT NULL,
        uncertain  INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE sheet_cache (
        tab        TEXT PRIMARY KEY NOT NULL,
        rows       TEXT NOT NULL,
        fetched_at TEXT NOT NULL
    );
    "#,
    // 4: records keyed by the inbound message that made them, so a replayed message finds its
    // prospect, incident or request instead of writing a second one.
    r#"
    ALTER TABLE prospects ADD COLUMN source TEXT;
    CREATE UNIQUE INDEX prospects_by_source ON prospects (source) WHERE source IS NOT NULL;
    ALTER TABLE incidents ADD COLUMN source TEXT;
    CREATE UNIQUE INDEX incidents_by_source ON incidents (source) WHERE source IS NOT NULL;
    ALTER TABLE requests ADD COLUMN source TEXT;
    CREATE UNIQUE INDEX requests_by_source ON requests (source, kind) WHERE source IS NOT NULL;
    "#,
    // 5: the chat a reply goes to when not the user's own (a Telegram group), fixed when the
    // message came in, so a reply resent after a restart goes where it was meant to.
    r#"
    ALTER TABLE outbox ADD COLUMN reply_to TEXT;
    "#,
    // 6: when a sender first handed a reply to the platform: after a crash, only replies so
    // marked and not sent may reach the user twice.
    r#"
    ALTER TABLE outbox ADD COLUMN attempted_at TEXT;
    "#,
    // 7: handoffs to a person. One open handoff per customer; who holds it is decided by one
    // conditional UPDATE, so two staff tapping together cannot both win.
    r#"
    CREATE TABLE handoffs (
        seq           INTEGER PRIMARY KEY AUTOINCREMENT,
        id            TEXT UNIQUE,
        channel       TEXT NOT NULL,
        user          TEXT NOT NULL,
        name          TEXT NOT NULL,
        topic         TEXT NOT NULL,
        source        TEXT UNIQUE,
        requested_at  INTEGER NOT NULL,
        carded        INTEGER NOT NULL,
        owner_channel TEXT,
        owner_user    TEXT,
        owner_name    TEXT,
        taken_at      INTEGER,
        last_activity INTEGER NOT NULL,
        ended         TEXT,
        ended_at      INTEGER,
        taken_source  TEXT,
        ended_source  TEXT
    );
    CREATE UNIQUE INDEX handoffs_open_by_customer ON handoffs (channel, user) WHERE ended IS NULL;
    CREATE INDEX handoffs_open_by_owner ON handoffs (owner_channel, owner_user) WHERE ended IS NULL;
    "#,
    // 8: tickets' follow-up: when a ticket was closed, by which message, whether its rating is
    // awaited, the Estado last seen in the sheet; the ratings.
    r#"
    ALTER TABLE incidents ADD COLUMN closed_at INTEGER;
    ALTER TABLE incidents ADD COLUMN survey_pending INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE incidents ADD COLUMN close_source TEXT;
    ALTER TABLE incidents ADD COLUMN sheet_status TEXT;
    CREATE TABLE surveys (
        seq        INTEGER PRIMARY KEY AUTOINCREMENT,
        ticket     TEXT NOT NULL,
        client     TEXT NOT NULL,
        rating     INTEGER NOT NULL,
        comment    TEXT NOT NULL,
        created_at TEXT NOT NULL,
        source     TEXT UNIQUE
    );
    "#,
    // 9: zone outages (one open per zone) and the customers' reports linked to them.
    r#"
    CREATE TABLE outages (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        id          TEXT UNIQUE,
        zone        TEXT NOT NULL,
        cause       TEXT NOT NULL,
        eta         TEXT NOT NULL,
        source      TEXT UNIQUE,
        started_at  INTEGER NOT NULL,
        resolved_at INTEGER,
        reports     INTEGER NOT NULL DEFAULT 0
    );
    CREATE UNIQUE INDEX outages_open_by_zone ON outages (zone) WHERE resolved_at IS NULL;
    CREATE TABLE outage_reports (
        outage     TEXT NOT NULL,
        channel    TEXT NOT NULL,
        user       TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (outage, channel, user)
    );
    "#,
    // 10: the message a reply replaces, where the platform can edit (a staff card, once
    // taken).
    r#"
    ALTER TABLE outbox ADD COLUMN edit TEXT;
    "#,
    // 11: the WhatsApp template a notice is sent as (JSON), outside the 24-hour window.
    r#"
    ALTER TABLE outbox ADD COLUMN template TEXT;
    "#,
    // 12: who wrote (the WhatsApp window, opt-outs) and the campaigns of notices.
    r#"
    CREATE TABLE contacts (
        channel       TEXT NOT NULL,
        user          TEXT NOT NULL,
        phone         TEXT,
        last_inbound  INTEGER NOT NULL,
        opted_out     INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (channel, user)
    );
    CREATE TABLE notices (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        id          TEXT NOT NULL UNIQUE,
        channel     TEXT NOT NULL,
        user        TEXT NOT NULL,
        reply       TEXT NOT NULL,
        template    TEXT,
        created_at  INTEGER NOT NULL,
        released_at INTEGER
    );
    CREATE INDEX notices_waiting ON notices (seq) WHERE released_at IS NULL;
    "#,
    // 13: clients' payments by period (the sheet's Pagos).
    r#"
    CREATE TABLE payments (
        seq              INTEGER PRIMARY KEY AUTOINCREMENT,
        id               TEXT UNIQUE,
        client_id        TEXT NOT NULL,
        period           TEXT NOT NULL,
        amount           INTEGER NOT NULL,
        due              TEXT NOT NULL,
        status           TEXT NOT NULL,
        reference        TEXT NOT NULL,
        paid_on          TEXT,
        receipt          TEXT,
        reporter_channel TEXT,
        reporter_user    TEXT,
        UNIQUE (client_id, period)
    );
    CREATE INDEX payments_by_client ON payments (client_id, period);
    "#,
    // 14: the Pagos tab as redsol last saw each row (a row that differs, staff changed).
    r#"
    ALTER TABLE payments ADD COLUMN sheet_seen TEXT;
    "#,
    // 15: notices in flight at a stop, held for their platform's confirmation (Unix seconds).
    r#"
    ALTER TABLE notices ADD COLUMN hold_until INTEGER;
    "#,
];

/// How many prepared statements the connection keeps.
const STATEMENT_CACHE: usize = 128;

pub(super) fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // Every statement of the hot path stays prepared (rusqlite keeps 16 by default; the
    // store has more, and one evicted is prepared again at its next use).
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    // Pages freed by retention go back to the file system (`PRAGMA incremental_vacuum`). A
    // database made before this needs one VACUUM to switch; a new one switches at once.
    let vacuum: i64 = conn.pragma_query_value(None, "auto_vacuum", |row| row.get(0))?;
    if vacuum != 2 {
        conn.pragma_update(None, "auto_vacuum", "INCREMENTAL")?;
        conn.execute_batch("VACUUM")?;
    }
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(mode = %mode, "SQLite did not switch to WAL mode");
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(())
}

/// Applies the migrations the database has not seen yet, each in its own transaction.
pub(super) fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    let known = MIGRATIONS.len() as i64;
    if version > known {
        anyhow::bail!(
            "schema version {version} is newer than this build knows ({known}); \
             refusing to touch it"
        );
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version.max(0) as usize) {
        let to = i as i64 + 1;
        let tx = conn.transaction_with_behavior(TransactionBehavior::Exclusive)?;
        tx.execute_batch(sql)
            .with_context(|| format!("applying migration {to}"))?;
        tx.pragma_update(None, "user_version", to)?;
        tx.commit()?;
        tracing::info!(version = to, "SQLite schema migrated");
    }
    Ok(())
}

pub(super) fn seed_clients(
    conn: &mut Connection,
    seed: impl FnOnce() -> Vec<Client>,
) -> anyhow::Result<()> {
    let count: i64 = conn.query_row("SELECT COUNT(*) FROM clients", [], |row| row.get(0))?;
    if count > 0 {
        return Ok(());
    }
    let clients = seed();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    {
        let mut insert = tx.prepare(
            "INSERT INTO clients (id, name, email, zone, phone, plan_mbps, price, status, \
             signup_date) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        )?;
        for (i, c) in clients.iter().enumerate() {
            insert
                .execute(params![
                    c.id,
                    c.name,
                    c.email,
                    c.zone,
                    c.phone,
                    c.plan_mbps,
                    c.price,
                    c.status,
                    c.signup_date
                ])
                .with_context(|| format!("inserting seed client number {}", i + 1))?;
        }
    }
    tx.commit()?;
    if !clients.is_empty() {
        tracing::info!(clients = clients.len(), "clients seeded");
    }
    Ok(())
}

pub(super) fn load_clients(conn: &Connection) -> rusqlite::Result<Vec<Client>> {
    let mut stmt = conn.prepare(
        "SELECT id, name, email, zone, phone, plan_mbps, price, status, signup_date \
         FROM clients ORDER BY rowid",
    )?;
    let rows = stmt.query_map([], |row| {
        Ok(Client {
            id: row.get(0)?,
            name: row.get(1)?,
            email: row.get(2)?,
            zone: row.get(3)?,
            phone: row.get(4)?,
            plan_mbps: row.get(5)?,
            price: row.get(6)?,
            status: row.get(7)?,
            signup_date: row.get(8)?,
        })
    })?;
    rows.collect()
}
