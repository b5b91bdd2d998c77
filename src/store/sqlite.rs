//! The embedded SQLite store: one database file (`redsol.db`) in the data directory.
//!
//! One [`rusqlite::Connection`] lives behind a mutex; every operation runs on tokio's blocking
//! pool, so the async workers never wait on the disk. The database is in WAL mode with
//! `synchronous=NORMAL`: a crash of the bot loses nothing committed, a power loss may lose the
//! last transactions but never corrupts the file, and readers outside the bot (an operator's
//! `sqlite3` shell) do not block it.
//!
//! The schema is versioned with `PRAGMA user_version`; `MIGRATIONS` lists every step, applied
//! in order, each in its own transaction.

use anyhow::Context as _;
use redsol_actors::model::{
    Channel, Client, ConversationKey, Incident, IncidentKind, NewIncident, NewProspect,
    PendingRequest, Priority, Prospect,
};
use redsol_actors::store::{
    format_utc, incident_id, now_utc, prospect_id, BoxFuture, JournalEntry, OutboxEntry, Store,
    StoreError, StoreResult, TurnCommit,
};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The file name of the database inside the data directory.
pub const DB_FILE: &str = "redsol.db";

/// How long a statement waits for a lock held by another connection (say, an operator's
/// `sqlite3` shell) before failing with `SQLITE_BUSY`.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The status of a new prospect or incident, and the technician of a new incident.
const NEW_STATUS: &str = "Nuevo";
const UNASSIGNED: &str = "Sin asignar";

/// The schema migrations, in order: migration `n` (1-based) brings `user_version` from `n - 1`
/// to `n`. Append new steps; never edit a released one.
const MIGRATIONS: &[&str] = &[
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
];

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

/// The SQLite implementation of [`Store`]. Cheap to clone (it shares one connection).
#[derive(Clone)]
pub struct SqliteStore {
    jobs: std::sync::mpsc::Sender<Job>,
    /// Replies not yet sent plus rows not yet in the sheet: `redsol_outbox_pending`.
    unsent: Arc<std::sync::atomic::AtomicI64>,
    clients: Arc<Vec<Client>>,
    path: Arc<PathBuf>,
    /// Whether new prospects and incidents also go to the sheet outbox (Sheets backend).
    sheet_rows: bool,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .field("clients", &self.clients.len())
            .finish()
    }
}

impl SqliteStore {
    /// Opens (creating it and `dir` if needed) `dir/redsol.db`, migrates its schema and loads
    /// the clients. When the clients table is empty, `seed()` is called and its clients are
    /// inserted in one transaction, so seeding happens once, at the first start.
    ///
    /// Blocking: call it at startup (or inside `spawn_blocking`).
    pub fn open(dir: &Path, seed: impl FnOnce() -> Vec<Client>) -> anyhow::Result<SqliteStore> {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating the data directory {}", dir.display()))?;
        let path = dir.join(DB_FILE);
        let mut conn = Connection::open(&path)
            .with_context(|| format!("opening the SQLite database {}", path.display()))?;
        configure(&conn)
            .with_context(|| format!("configuring the SQLite database {}", path.display()))?;
        migrate(&mut conn)
            .with_context(|| format!("migrating the SQLite database {}", path.display()))?;
        seed_clients(&mut conn, seed)
            .with_context(|| format!("seeding the clients of {}", path.display()))?;
        let clients = load_clients(&conn)
            .with_context(|| format!("loading the clients of {}", path.display()))?;
        tracing::info!(
            path = %path.display(),
            clients = clients.len(),
            "SQLite store open"
        );
        Ok(SqliteStore {
            unsent: {
                let n = count_unsent(&conn)
                    .with_context(|| format!("counting the outbox of {}", path.display()))?;
                metrics::gauge!("redsol_outbox_pending").set(n as f64);
                Arc::new(std::sync::atomic::AtomicI64::new(n))
            },
            jobs: spawn_worker(conn, &path)?,
            clients: Arc::new(clients),
            path: Arc::new(path),
            sheet_rows: false,
        })
    }

    /// From now on, every new prospect and incident is also queued, in the same transaction,
    /// in the sheet outbox (the Sheets backend drains it).
    pub fn with_sheet_rows(mut self) -> SqliteStore {
        self.sheet_rows = true;
        self
    }

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
                let tx = conn.transaction().map_err(db_err)?;
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
            let tx = conn.transaction().map_err(db_err)?;
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
            let tx = conn.transaction().map_err(db_err)?;
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
            let tx = conn.transaction().map_err(db_err)?;
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

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` with the connection on the store's own thread, timing it and logging a failure.
    async fn run<T, F>(&self, op: &'static str, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let started = Instant::now();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let _ = tx.send(f(conn));
        });
        let result = if self.jobs.send(job).is_err() {
            Err(StoreError::Unavailable(
                "the sqlite thread has stopped".into(),
            ))
        } else {
            // A dropped sender means the operation panicked (the thread caught it).
            rx.await.unwrap_or_else(|_| {
                Err(StoreError::Unavailable(
                    "a sqlite operation failed unexpectedly".into(),
                ))
            })
        };
        observe(op, started, &result);
        result
    }
}

fn publish_unsent(unsent: &std::sync::atomic::AtomicI64, delta: i64) {
    let n = unsent.fetch_add(delta, std::sync::atomic::Ordering::AcqRel) + delta;
    metrics::gauge!("redsol_outbox_pending").set(n.max(0) as f64);
}

/// One operation for the store's thread.
type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// Starts the thread that owns the connection and runs the operations one after another.
/// One thread instead of the blocking pool: operations on one SQLite connection are serial
/// anyway, and a burst would otherwise park hundreds of pool threads on a lock. A panicking
/// operation is caught (its transaction rolls back as it unwinds) and the thread goes on.
fn spawn_worker(mut conn: Connection, path: &Path) -> anyhow::Result<std::sync::mpsc::Sender<Job>> {
    let (tx, rx) = std::sync::mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("redsol-sqlite".into())
        .spawn(move || {
            for job in rx {
                let outcome =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut conn)));
                if outcome.is_err() {
                    tracing::error!(
                        backend = "sqlite",
                        "a store operation panicked; it failed and the store goes on"
                    );
                }
            }
        })
        .with_context(|| format!("starting the SQLite thread for {}", path.display()))?;
    Ok(tx)
}

/// Records `redsol_store_request_seconds` and logs a failure (the op and the error, never user
/// text: errors name tables and constraints, not values).
fn observe<T>(op: &'static str, started: Instant, result: &StoreResult<T>) {
    let outcome = if result.is_ok() { "ok" } else { "error" };
    metrics::histogram!(
        "redsol_store_request_seconds",
        "backend" => "sqlite",
        "op" => op,
        "outcome" => outcome
    )
    .record(started.elapsed().as_secs_f64());
    if let Err(e) = result {
        tracing::error!(backend = "sqlite", op, error = %e, "store operation failed");
    }
}

/// Maps a rusqlite error: bad data read back is `Invalid`, anything else (I/O, locks, full
/// disk, constraint) is `Unavailable`.
fn db_err(e: rusqlite::Error) -> StoreError {
    match e {
        rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::IntegralValueOutOfRange(..)
        | rusqlite::Error::InvalidColumnType(..)
        | rusqlite::Error::ToSqlConversionFailure(..) => {
            StoreError::Invalid(format!("sqlite: {e}"))
        }
        e => StoreError::Unavailable(format!("sqlite: {e}")),
    }
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(mode = %mode, "SQLite did not switch to WAL mode");
    }
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(())
}

/// Applies the migrations the database has not seen yet, each in its own transaction.
fn migrate(conn: &mut Connection) -> anyhow::Result<()> {
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

fn seed_clients(conn: &mut Connection, seed: impl FnOnce() -> Vec<Client>) -> anyhow::Result<()> {
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

fn load_clients(conn: &Connection) -> rusqlite::Result<Vec<Client>> {
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

fn parse_channel(s: &str) -> StoreResult<Channel> {
    Channel::parse(s).ok_or_else(|| StoreError::Invalid("unknown channel in the store".into()))
}

fn parse_kind(s: &str) -> StoreResult<IncidentKind> {
    IncidentKind::parse(s)
        .ok_or_else(|| StoreError::Invalid("unknown incident kind in the store".into()))
}

fn parse_priority(s: &str) -> StoreResult<Priority> {
    Priority::parse(s).ok_or_else(|| StoreError::Invalid("unknown priority in the store".into()))
}

/// The raw incident columns, converted to an [`Incident`] outside the row callback so that bad
/// enum values become `StoreError::Invalid`.
struct IncidentRow {
    id: String,
    status: String,
    created_at: String,
    technician: String,
    client_id: Option<String>,
    client_name: String,
    kind: String,
    description: String,
    priority: String,
    zone: Option<String>,
    phone: Option<String>,
    channel: String,
    user: String,
}

impl IncidentRow {
    fn into_incident(self) -> StoreResult<Incident> {
        Ok(Incident {
            id: self.id,
            status: self.status,
            created_at: self.created_at,
            technician: self.technician,
            data: NewIncident {
                client_id: self.client_id,
                client_name: self.client_name,
                kind: parse_kind(&self.kind)?,
                description: self.description,
                priority: parse_priority(&self.priority)?,
                zone: self.zone,
                phone: self.phone,
                key: ConversationKey::new(parse_channel(&self.channel)?, self.user),
            },
        })
    }
}

fn save_prospect(conn: &mut Connection, data: NewProspect, queue: bool) -> StoreResult<Prospect> {
    let created_at = now_utc();
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    tx.execute(
        "INSERT INTO prospects (created_at, status, name, phone, zone, plan_mbps, price, \
         channel, user) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            created_at,
            data.initial_status(),
            data.name,
            data.phone,
            data.zone,
            data.plan_mbps,
            data.price,
            data.key.channel.as_str(),
            data.key.user
        ],
    )
    .map_err(db_err)?;
    let seq = tx.last_insert_rowid();
    let id = prospect_id(seq.max(0) as u64);
    tx.execute(
        "UPDATE prospects SET id = ?1 WHERE seq = ?2",
        params![id, seq],
    )
    .map_err(db_err)?;
    let prospect = Prospect {
        id,
        created_at,
        status: data.initial_status().to_string(),
        data,
    };
    if queue {
        queue_sheet_row(&tx, &prospect.id, PROSPECTS, &prospect)?;
    }
    tx.commit().map_err(db_err)?;
    Ok(prospect)
}

fn create_incident(conn: &mut Connection, data: NewIncident, queue: bool) -> StoreResult<Incident> {
    let created_at = now_utc();
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    tx.execute(
        "INSERT INTO incidents (status, created_at, technician, client_id, client_name, kind, \
         description, priority, zone, phone, channel, user) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        params![
            NEW_STATUS,
            created_at,
            UNASSIGNED,
            data.client_id,
            data.client_name,
            data.kind.as_str(),
            data.description,
            data.priority.as_str(),
            data.zone,
            data.phone,
            data.key.channel.as_str(),
            data.key.user
        ],
    )
    .map_err(db_err)?;
    let seq = tx.last_insert_rowid();
    let id = incident_id(seq.max(0) as u64);
    tx.execute(
        "UPDATE incidents SET id = ?1 WHERE seq = ?2",
        params![id, seq],
    )
    .map_err(db_err)?;
    let incident = Incident {
        id,
        status: NEW_STATUS.to_string(),
        created_at,
        technician: UNASSIGNED.to_string(),
        data,
    };
    if queue {
        queue_sheet_row(&tx, &incident.id, INCIDENTS, &incident)?;
    }
    tx.commit().map_err(db_err)?;
    Ok(incident)
}

/// Queues a record for its sheet tab, in the transaction that saves it.
fn queue_sheet_row(
    tx: &rusqlite::Transaction<'_>,
    id: &str,
    tab: &str,
    record: &impl serde::Serialize,
) -> StoreResult<()> {
    let json = serde_json::to_string(record)
        .map_err(|e| StoreError::Invalid(format!("cannot serialize a {tab} row: {e}")))?;
    tx.execute(
        "INSERT INTO sheet_outbox (id, tab, record, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![id, tab, json, now_utc()],
    )
    .map_err(db_err)?;
    Ok(())
}

fn incidents_for(conn: &mut Connection, key: &ConversationKey) -> StoreResult<Vec<Incident>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, status, created_at, technician, client_id, client_name, kind, \
             description, priority, zone, phone, channel, user \
             FROM incidents WHERE channel = ?1 AND user = ?2 ORDER BY seq DESC",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map(params![key.channel.as_str(), key.user], |row| {
            Ok(IncidentRow {
                // A row inserted by hand without an id still shows (as an empty id).
                id: row.get::<_, Option<String>>(0)?.unwrap_or_default(),
                status: row.get(1)?,
                created_at: row.get(2)?,
                technician: row.get(3)?,
                client_id: row.get(4)?,
                client_name: row.get(5)?,
                kind: row.get(6)?,
                description: row.get(7)?,
                priority: row.get(8)?,
                zone: row.get(9)?,
                phone: row.get(10)?,
                channel: row.get(11)?,
                user: row.get(12)?,
            })
        })
        .map_err(db_err)?;
    let mut incidents = Vec::new();
    for row in rows {
        incidents.push(row.map_err(db_err)?.into_incident()?);
    }
    Ok(incidents)
}

fn open_incidents_by_priority(conn: &mut Connection) -> StoreResult<Vec<(Priority, u64)>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT priority, COUNT(*) FROM incidents \
             WHERE status NOT IN ('Resuelto', 'Cerrado', 'Cancelado') GROUP BY priority",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })
        .map_err(db_err)?;
    let mut counts: Vec<(Priority, u64)> = Priority::ALL.into_iter().map(|p| (p, 0)).collect();
    for row in rows {
        let (priority, n) = row.map_err(db_err)?;
        match Priority::parse(&priority) {
            Some(p) => {
                if let Some(slot) = counts.iter_mut().find(|(q, _)| *q == p) {
                    slot.1 += n.max(0) as u64;
                }
            }
            // A priority typed by hand that we do not know: left out of the counts.
            None => tracing::warn!(
                backend = "sqlite",
                "open incidents with an unknown priority"
            ),
        }
    }
    Ok(counts)
}

fn record_request(conn: &mut Connection, request: PendingRequest) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO requests (kind, text, channel, user, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            request.kind,
            request.text,
            request.key.channel.as_str(),
            request.key.user,
            now_utc()
        ])
    })
    .map(|_| ())
    .map_err(db_err)
}

fn load_snapshot(conn: &mut Connection, key: &ConversationKey) -> StoreResult<Option<String>> {
    conn.prepare_cached("SELECT state FROM snapshots WHERE channel = ?1 AND user = ?2")
        .and_then(|mut stmt| {
            stmt.query_row(params![key.channel.as_str(), key.user], |row| row.get(0))
                .optional()
        })
        .map_err(db_err)
}

fn save_snapshot(conn: &mut Connection, key: &ConversationKey, state: &str) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO snapshots (channel, user, state, updated_at) VALUES (?1, ?2, ?3, ?4) \
         ON CONFLICT (channel, user) DO UPDATE SET \
         state = excluded.state, updated_at = excluded.updated_at",
    )
    .and_then(|mut stmt| stmt.execute(params![key.channel.as_str(), key.user, state, now_utc()]))
    .map(|_| ())
    .map_err(db_err)
}

fn delete_snapshot(conn: &mut Connection, key: &ConversationKey) -> StoreResult<()> {
    conn.prepare_cached("DELETE FROM snapshots WHERE channel = ?1 AND user = ?2")
        .and_then(|mut stmt| stmt.execute(params![key.channel.as_str(), key.user]))
        .map(|_| ())
        .map_err(db_err)
}

fn journal_inbound(conn: &mut Connection, entry: &JournalEntry) -> StoreResult<bool> {
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

fn journal_done(conn: &mut Connection, key: &ConversationKey, message_id: &str) -> StoreResult<()> {
    conn.prepare_cached(
        "UPDATE journal SET done = 1 WHERE channel = ?1 AND user = ?2 AND message_id = ?3",
    )
    .and_then(|mut stmt| stmt.execute(params![key.channel.as_str(), key.user, message_id]))
    .map(|_| ())
    .map_err(db_err)
}

fn journal_pending(conn: &mut Connection) -> StoreResult<Vec<JournalEntry>> {
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
fn commit_turn(conn: &mut Connection, commit: &TurnCommit) -> StoreResult<usize> {
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
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
    let mut queued = 0;
    for reply in &commit.replies {
        let json = serde_json::to_string(&reply.reply)
            .map_err(|e| StoreError::Invalid(format!("outbox reply: {e}")))?;
        let inserted = tx
            .prepare_cached(
                "INSERT OR IGNORE INTO outbox (id, channel, user, in_reply_to, reply, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut st| {
                st.execute(params![
                    reply.id,
                    reply.key.channel.as_str(),
                    reply.key.user,
                    reply.in_reply_to,
                    json,
                    format_utc(reply.queued_at)
                ])
            })
            .map_err(db_err)?;
        queued += inserted;
    }
    tx.commit().map_err(db_err)?;
    Ok(queued)
}

/// Marks a reply sent; returns whether it was unsent until now.
fn outbox_sent(conn: &mut Connection, id: &str) -> StoreResult<bool> {
    let changed = conn
        .prepare_cached("UPDATE outbox SET sent_at = ?2 WHERE id = ?1 AND sent_at IS NULL")
        .and_then(|mut st| st.execute(params![id, now_utc()]))
        .map_err(db_err)?;
    Ok(changed > 0)
}

/// Replies not yet sent plus rows not yet in the sheet: `redsol_outbox_pending`.
fn count_unsent(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT (SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL) \
         + (SELECT COUNT(*) FROM sheet_outbox)",
        [],
        |r| r.get(0),
    )
}

fn outbox_pending(conn: &mut Connection, channel: Channel) -> StoreResult<Vec<OutboxEntry>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, user, in_reply_to, reply, \
             COALESCE(CAST(strftime('%s', created_at) AS INTEGER), 0) FROM outbox \
             WHERE channel = ?1 AND sent_at IS NULL ORDER BY seq",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map(params![channel.as_str()], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, Option<String>>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, i64>(4)?,
            ))
        })
        .map_err(db_err)?;
    let mut out = Vec::new();
    for row in rows {
        let (id, user, in_reply_to, json, queued_at) = row.map_err(db_err)?;
        let reply = serde_json::from_str(&json)
            .map_err(|e| StoreError::Invalid(format!("outbox reply {id}: {e}")))?;
        out.push(OutboxEntry {
            id,
            key: ConversationKey::new(channel, user),
            reply,
            in_reply_to,
            queued_at: u64::try_from(queued_at).unwrap_or(0),
        });
    }
    Ok(out)
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn clients(&self) -> BoxFuture<'_, StoreResult<Arc<Vec<Client>>>> {
        // The cache is filled at open; nothing to do off the async workers.
        let started = Instant::now();
        let result = Ok(Arc::clone(&self.clients));
        observe("clients", started, &result);
        Box::pin(std::future::ready(result))
    }

    fn save_prospect(&self, prospect: NewProspect) -> BoxFuture<'_, StoreResult<Prospect>> {
        let queue = self.sheet_rows;
        Box::pin(async move {
            let saved = self
                .run("save_prospect", move |conn| {
                    save_prospect(conn, prospect, queue)
                })
                .await?;
            if queue {
                publish_unsent(&self.unsent, 1);
            }
            Ok(saved)
        })
    }

    fn create_incident(&self, incident: NewIncident) -> BoxFuture<'_, StoreResult<Incident>> {
        let queue = self.sheet_rows;
        Box::pin(async move {
            let saved = self
                .run("create_incident", move |conn| {
                    create_incident(conn, incident, queue)
                })
                .await?;
            if queue {
                publish_unsent(&self.unsent, 1);
            }
            Ok(saved)
        })
    }

    fn incidents_for(&self, key: &ConversationKey) -> BoxFuture<'_, StoreResult<Vec<Incident>>> {
        let key = key.clone();
        Box::pin(self.run("incidents_for", move |conn| incidents_for(conn, &key)))
    }

    fn open_incidents_by_priority(&self) -> BoxFuture<'_, StoreResult<Vec<(Priority, u64)>>> {
        Box::pin(self.run("open_incidents_by_priority", open_incidents_by_priority))
    }

    fn record_request(&self, request: PendingRequest) -> BoxFuture<'_, StoreResult<()>> {
        Box::pin(self.run("record_request", move |conn| record_request(conn, request)))
    }

    fn load_snapshot(&self, key: &ConversationKey) -> BoxFuture<'_, StoreResult<Option<String>>> {
        let key = key.clone();
        Box::pin(self.run("load_snapshot", move |conn| load_snapshot(conn, &key)))
    }

    fn save_snapshot(
        &self,
        key: &ConversationKey,
        state: String,
    ) -> BoxFuture<'_, StoreResult<()>> {
        let key = key.clone();
        Box::pin(self.run("save_snapshot", move |conn| {
            save_snapshot(conn, &key, &state)
        }))
    }

    fn delete_snapshot(&self, key: &ConversationKey) -> BoxFuture<'_, StoreResult<()>> {
        let key = key.clone();
        Box::pin(self.run("delete_snapshot", move |conn| delete_snapshot(conn, &key)))
    }

    fn journal_inbound(&self, entry: JournalEntry) -> BoxFuture<'_, StoreResult<bool>> {
        Box::pin(self.run("journal_inbound", move |conn| journal_inbound(conn, &entry)))
    }

    fn journal_done(
        &self,
        key: &ConversationKey,
        message_id: &str,
    ) -> BoxFuture<'_, StoreResult<()>> {
        let key = key.clone();
        let message_id = message_id.to_string();
        Box::pin(self.run("journal_done", move |conn| {
            journal_done(conn, &key, &message_id)
        }))
    }

    fn journal_pending(&self) -> BoxFuture<'_, StoreResult<Vec<JournalEntry>>> {
        Box::pin(self.run("journal_pending", journal_pending))
    }

    fn commit_turn(&self, commit: TurnCommit) -> BoxFuture<'_, StoreResult<()>> {
        let unsent = Arc::clone(&self.unsent);
        Box::pin(self.run("commit_turn", move |conn| {
            let queued = commit_turn(conn, &commit)?;
            publish_unsent(&unsent, queued as i64);
            Ok(())
        }))
    }

    fn outbox_sent(&self, id: &str) -> BoxFuture<'_, StoreResult<()>> {
        let id = id.to_string();
        let unsent = Arc::clone(&self.unsent);
        Box::pin(self.run("outbox_sent", move |conn| {
            if outbox_sent(conn, &id)? {
                publish_unsent(&unsent, -1);
            }
            Ok(())
        }))
    }

    fn outbox_pending(&self, channel: Channel) -> BoxFuture<'_, StoreResult<Vec<OutboxEntry>>> {
        Box::pin(self.run("outbox_pending", move |conn| outbox_pending(conn, channel)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn client(n: u32) -> Client {
        Client {
            id: format!("CLI-{n:04}"),
            name: format!("Cliente {n}"),
            email: format!("cliente{n}@gmail.com"),
            zone: "Salamanca Centro".into(),
            phone: format!("464{n:07}"),
            plan_mbps: 20,
            price: 400,
            status: "Activo".into(),
            signup_date: "2024-03-15".into(),
        }
    }

    fn seed3() -> Vec<Client> {
        (1..=3).map(client).collect()
    }

    fn no_seed() -> Vec<Client> {
        panic!("seed must not be called")
    }

    fn key(user: &str) -> ConversationKey {
        ConversationKey::new(Channel::Telegram, user)
    }

    fn prospect(user: &str, name: &str) -> NewProspect {
        NewProspect {
            name: name.into(),
            phone: Some("4641234567".into()),
            zone: "Valtierrilla".into(),
            plan_mbps: 50,
            price: 600,
            key: key(user),
            outside_coverage: false,
        }
    }

    fn incident(key: ConversationKey, priority: Priority, description: &str) -> NewIncident {
        NewIncident {
            client_id: Some("CLI-0001".into()),
            client_name: "José Hernández".into(),
            kind: IncidentKind::Slow,
            description: description.into(),
            priority,
            zone: None,
            phone: Some("4641234567".into()),
            key,
        }
    }

    #[test]
    fn seeding_happens_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let calls = AtomicUsize::new(0);
        let store = SqliteStore::open(dir.path(), || {
            calls.fetch_add(1, Ordering::SeqCst);
            seed3()
        })
        .expect("open");
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(store.path(), dir.path().join(DB_FILE));
        drop(store);

        let store = SqliteStore::open(dir.path(), no_seed).expect("reopen");
        assert_eq!(store.clients.len(), 3);
        assert_eq!(*store.clients, seed3());
    }

    #[test]
    fn open_creates_the_directory_and_sets_wal() {
        let dir = tempfile::tempdir().expect("tempdir");
        let nested = dir.path().join("a").join("b");
        let store = SqliteStore::open(&nested, Vec::new).expect("open");
        assert!(nested.join(DB_FILE).exists());
        let conn =
            Connection::open(store.path()).expect("a second connection, as an operator would open");
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .expect("journal_mode");
        assert_eq!(mode, "wal");
        let version: i64 = conn
            .pragma_query_value(None, "user_version", |r| r.get(0))
            .expect("user_version");
        assert_eq!(version, MIGRATIONS.len() as i64);
    }

    #[test]
    fn a_newer_schema_is_refused_with_the_path_in_the_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        drop(SqliteStore::open(dir.path(), Vec::new).expect("open"));
        let conn = Connection::open(dir.path().join(DB_FILE)).expect("raw open");
        conn.pragma_update(None, "user_version", 99).expect("bump");
        drop(conn);
        let err = SqliteStore::open(dir.path(), Vec::new).expect_err("must refuse");
        let text = format!("{err:#}");
        assert!(text.contains(DB_FILE), "{text}");
        assert!(text.contains("99"), "{text}");
    }

    #[tokio::test]
    async fn clients_are_cached() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(dir.path(), seed3).expect("open");
        let a = store.clients().await.expect("clients");
        let b = store.clients().await.expect("clients");
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(a.len(), 3);
        assert_eq!(store.backend(), "sqlite");
    }

    #[tokio::test]
    async fn ids_are_sequential_and_survive_reopening() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let store = SqliteStore::open(dir.path(), seed3).expect("open");
            let p1 = store.save_prospect(prospect("1", "Ana")).await.expect("p1");
            let p2 = store
                .save_prospect(prospect("2", "Luis"))
                .await
                .expect("p2");
            assert_eq!(p1.id, "PRO-000001");
            assert_eq!(p2.id, "PRO-000002");
            assert_eq!(p1.status, "Nuevo");
            assert_eq!(p1.data, prospect("1", "Ana"));
            let lead = NewProspect {
                outside_coverage: true,
                ..prospect("3", "Eva")
            };
            let saved = store.save_prospect(lead).await.expect("lead");
            assert_eq!(saved.status, "Sin cobertura", "a place we do not reach");
            let i1 = store
                .create_incident(incident(key("1"), Priority::Alta, "sin internet"))
                .await
                .expect("i1");
            assert_eq!(i1.id, "INC-000001");
            assert_eq!(i1.status, "Nuevo");
            assert_eq!(i1.technician, "Sin asignar");
            assert_eq!(i1.created_at.len(), 19);
        }
        let store = SqliteStore::open(dir.path(), no_seed).expect("reopen");
        let p3 = store
            .save_prospect(prospect("3", "Rosa"))
            .await
            .expect("p3");
        assert_eq!(p3.id, "PRO-000004");
        let i2 = store
            .create_incident(incident(key("1"), Priority::Baja, "lento"))
            .await
            .expect("i2");
        assert_eq!(i2.id, "INC-000002");
        let mine = store.incidents_for(&key("1")).await.expect("incidents");
        let ids: Vec<_> = mine.iter().map(|i| i.id.as_str()).collect();
        assert_eq!(ids, ["INC-000002", "INC-000001"]);
        assert_eq!(
            mine[1].data,
            incident(key("1"), Priority::Alta, "sin internet")
        );
    }

    #[tokio::test]
    async fn incidents_for_is_newest_first_and_only_that_conversation() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(dir.path(), Vec::new).expect("open");
        let a = key("100");
        let b = ConversationKey::new(Channel::WhatsApp, "100");
        let c = key("200");
        for (k, d) in [(&a, "a1"), (&b, "b1"), (&a, "a2"), (&c, "c1"), (&a, "a3")] {
            store
                .create_incident(incident(k.clone(), Priority::Media, d))
                .await
                .expect("create");
        }
        let mine = store.incidents_for(&a).await.expect("for a");
        let descriptions: Vec<_> = mine.iter().map(|i| i.data.description.as_str()).collect();
        assert_eq!(descriptions, ["a3", "a2", "a1"]);
        assert!(mine.iter().all(|i| i.data.key == a));
        let theirs = store.incidents_for(&b).await.expect("for b");
        assert_eq!(theirs.len(), 1);
        assert_eq!(theirs[0].data.key.channel, Channel::WhatsApp);
        assert!(store
            .incidents_for(&key("nobody"))
            .await
            .expect("none")
            .is_empty());
    }

    #[tokio::test]
    async fn open_incidents_are_counted_by_priority() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(dir.path(), Vec::new).expect("open");
        assert_eq!(
            store.open_incidents_by_priority().await.expect("empty"),
            vec![
                (Priority::Alta, 0),
                (Priority::Media, 0),
                (Priority::Baja, 0)
            ]
        );
        for p in [
            Priority::Alta,
            Priority::Alta,
            Priority::Alta,
            Priority::Baja,
            Priority::Baja,
        ] {
            store
                .create_incident(incident(key("1"), p, "x"))
                .await
                .expect("create");
        }
        // Staff close two of them by hand; one moves on without closing.
        {
            let conn = Connection::open(store.path())
                .expect("a second connection, as an operator would open");
            conn.execute(
                "UPDATE incidents SET status = 'Resuelto' WHERE id = 'INC-000001'",
                [],
            )
            .expect("resolve");
            conn.execute(
                "UPDATE incidents SET status = 'Cerrado' WHERE id = 'INC-000004'",
                [],
            )
            .expect("close");
            conn.execute(
                "UPDATE incidents SET status = 'En proceso' WHERE id = 'INC-000002'",
                [],
            )
            .expect("progress");
        }
        assert_eq!(
            store.open_incidents_by_priority().await.expect("counts"),
            vec![
                (Priority::Alta, 2),
                (Priority::Media, 0),
                (Priority::Baja, 1)
            ]
        );
    }

    #[tokio::test]
    async fn snapshots_save_load_replace_delete() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(dir.path(), Vec::new).expect("open");
        let k = key("7");
        let other = ConversationKey::new(Channel::Console, "7");
        assert_eq!(store.load_snapshot(&k).await.expect("load"), None);
        store
            .save_snapshot(&k, "{\"step\":1}".into())
            .await
            .expect("save");
        store
            .save_snapshot(&other, "otro".into())
            .await
            .expect("save other");
        assert_eq!(
            store.load_snapshot(&k).await.expect("load").as_deref(),
            Some("{\"step\":1}")
        );
        store
            .save_snapshot(&k, "{\"step\":2}".into())
            .await
            .expect("replace");
        assert_eq!(
            store.load_snapshot(&k).await.expect("load").as_deref(),
            Some("{\"step\":2}")
        );
        store.delete_snapshot(&k).await.expect("delete");
        assert_eq!(store.load_snapshot(&k).await.expect("load"), None);
        store.delete_snapshot(&k).await.expect("delete twice");
        assert_eq!(
            store.load_snapshot(&other).await.expect("other").as_deref(),
            Some("otro")
        );
    }

    #[tokio::test]
    async fn requests_are_recorded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(dir.path(), Vec::new).expect("open");
        store
            .record_request(PendingRequest {
                kind: "billing".into(),
                text: "¿cuánto debo?".into(),
                key: key("9"),
            })
            .await
            .expect("record");
        let conn =
            Connection::open(store.path()).expect("a second connection, as an operator would open");
        let (kind, text, channel): (String, String, String) = conn
            .query_row("SELECT kind, text, channel FROM requests", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .expect("row");
        assert_eq!(
            (kind.as_str(), text.as_str(), channel.as_str()),
            ("billing", "¿cuánto debo?", "telegram")
        );
    }

    fn entry(user: &str, message_id: &str) -> JournalEntry {
        JournalEntry {
            key: ConversationKey::new(Channel::WhatsApp, user),
            message_id: message_id.into(),
            payload: format!("{{\"text\":\"{message_id}\"}}"),
        }
    }

    #[tokio::test]
    async fn journal_dedupes_across_reopening_and_tracks_pending() {
        let dir = tempfile::tempdir().expect("tempdir");
        {
            let store = SqliteStore::open(dir.path(), Vec::new).expect("open");
            assert!(store.journal_inbound(entry("a", "m1")).await.expect("m1"));
            assert!(store.journal_inbound(entry("a", "m2")).await.expect("m2"));
            // Same message id from another user is another message.
            assert!(store.journal_inbound(entry("b", "m1")).await.expect("b m1"));
            assert!(!store.journal_inbound(entry("a", "m1")).await.expect("dup"));
            store
                .journal_done(&entry("a", "m1").key, "m1")
                .await
                .expect("done");
        }
        let store = SqliteStore::open(dir.path(), Vec::new).expect("reopen");
        // A redelivery after a restart, answered or not, is still a duplicate.
        assert!(!store.journal_inbound(entry("a", "m1")).await.expect("dup"));
        assert!(!store.journal_inbound(entry("a", "m2")).await.expect("dup"));
        assert!(store.journal_inbound(entry("c", "m9")).await.expect("m9"));
        let pending = store.journal_pending().await.expect("pending");
        assert_eq!(
            pending,
            vec![entry("a", "m2"), entry("b", "m1"), entry("c", "m9")]
        );
        store
            .journal_done(&entry("b", "m1").key, "m1")
            .await
            .expect("done");
        // Marking an unknown message is harmless.
        store
            .journal_done(&entry("z", "nope").key, "nope")
            .await
            .expect("unknown");
        let pending = store.journal_pending().await.expect("pending");
        assert_eq!(pending, vec![entry("a", "m2"), entry("c", "m9")]);
    }

    #[tokio::test]
    async fn a_turn_commits_snapshot_journal_and_outbox_at_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = entry("a", "m1");
        let reply = |text: &str| redsol_actors::model::Reply {
            text: text.into(),
            quick_replies: vec![redsol_actors::model::QuickReply::new(
                "intent:plans",
                "Planes",
            )],
        };
        let commit = TurnCommit {
            key: e.key.clone(),
            message_id: Some("m1".into()),
            snapshot: "{\"s\":1}".into(),
            replies: vec![OutboxEntry {
                id: OutboxEntry::id_for(&e.key, "m1", 0),
                key: e.key.clone(),
                reply: reply("hola"),
                in_reply_to: Some("m1".into()),
                queued_at: 0,
            }],
        };
        {
            let store = SqliteStore::open(dir.path(), Vec::new).expect("open");
            assert!(store.journal_inbound(e.clone()).await.expect("journal"));
            store.commit_turn(commit.clone()).await.expect("commit");
            // A replayed turn queues nothing twice.
            store
                .commit_turn(commit.clone())
                .await
                .expect("commit again");
        }
        let store = SqliteStore::open(dir.path(), Vec::new).expect("reopen");
        assert!(store.journal_pending().await.expect("pending").is_empty());
        assert_eq!(
            store.load_snapshot(&e.key).await.expect("load").as_deref(),
            Some("{\"s\":1}")
        );
        let pending = store.outbox_pending(e.key.channel).await.expect("outbox");
        assert_eq!(pending, commit.replies);
        assert!(store
            .outbox_pending(Channel::Telegram)
            .await
            .expect("other channel")
            .is_empty());
        store.outbox_sent(&pending[0].id).await.expect("sent");
        assert!(store
            .outbox_pending(e.key.channel)
            .await
            .expect("outbox")
            .is_empty());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_prospects_all_land_with_distinct_ids() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(SqliteStore::open(dir.path(), Vec::new).expect("open"));
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    store
                        .save_prospect(prospect(&i.to_string(), &format!("Persona {i}")))
                        .await
                })
            })
            .collect();
        let mut ids = HashSet::new();
        for task in tasks {
            let p = task.await.expect("join").expect("save");
            assert!(ids.insert(p.id));
        }
        assert_eq!(ids.len(), 50);
        let expected: HashSet<_> = (1..=50).map(prospect_id).collect();
        assert_eq!(ids, expected);
        let conn =
            Connection::open(store.path()).expect("a second connection, as an operator would open");
        let n: i64 = conn
            .query_row(
                "SELECT COUNT(DISTINCT id) FROM prospects WHERE id IS NOT NULL",
                [],
                |r| r.get(0),
            )
            .expect("count");
        assert_eq!(n, 50);
    }

    #[tokio::test]
    async fn a_panicking_operation_fails_and_the_store_goes_on() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = SqliteStore::open(dir.path(), Vec::new).expect("open");
        let err = store
            .run("test", |_conn| -> StoreResult<()> {
                panic!("a bug in an operation")
            })
            .await
            .expect_err("failed");
        assert!(matches!(err, StoreError::Unavailable(_)), "{err}");
        assert_eq!(
            store.load_snapshot(&key("1")).await.expect("still working"),
            None
        );
    }
}
