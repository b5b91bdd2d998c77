//! The embedded SQLite store: one database file (`redsol.db`) in the data directory.
//!
//! One [`rusqlite::Connection`] is owned by the store's own thread ([`worker`]), which runs the
//! operations waiting together in one transaction (group commit), so the async workers never
//! wait on the disk. The database is in WAL mode with
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
    format_utc, incident_id, now_utc, prospect_id, BoxFuture, JournalEntry, OutboxEntry,
    OutboxPage, Store, StoreError, StoreResult, TurnCommit,
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

#[cfg(test)]
mod batch_tests;
#[cfg(test)]
mod handoff_tests;
mod handoffs;
mod notices;
#[cfg(test)]
mod notices_tests;
mod observe;
mod outages;
mod payment_sheet;
mod payments;
mod records;
mod retention;
mod savepoint;
mod schema;
mod sheet_rows;
#[cfg(test)]
mod tests;
mod tickets;
#[cfg(test)]
mod turn_tests;
mod turns;
mod worker;

use observe::*;
pub use payment_sheet::{Imported, PaymentChange, PAYMENT_CHANGE};
use records::*;
pub use retention::Pruned;
use savepoint::savepoint;
use schema::*;
pub use sheet_rows::{SheetRow, INCIDENTS, PROSPECTS};
pub use tickets::{StatusChange, SurveyRecord, INCIDENT_STATUS, SURVEYS};
use turns::*;
use worker::{spawn_worker, Job};

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

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `f` with the connection on the store's own thread, within a batch (see
    /// [`spawn_worker`]), timing it and logging a failure.
    async fn run<T, F>(&self, op: &'static str, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        self.submit(op, false, f).await
    }

    /// [`Self::run`] outside any batch: for what SQLite will not do in a transaction.
    async fn run_alone<T, F>(&self, op: &'static str, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        self.submit(op, true, f).await
    }

    async fn submit<T, F>(&self, op: &'static str, alone: bool, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> StoreResult<T> + Send + 'static,
    {
        let started = Instant::now();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job = Job {
            alone,
            work: Box::new(move |conn| {
                let result = f(conn);
                // Handed over once the batch is committed: failed if the commit failed.
                Box::new(move |commit: Option<StoreError>| {
                    let _ = tx.send(match commit {
                        None => result,
                        Some(e) => Err(e),
                    });
                })
            }),
        };
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

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn handoffs(&self) -> &dyn redsol_actors::store::handoff::Handoffs {
        self
    }

    fn tickets(&self) -> &dyn redsol_actors::store::tickets::Tickets {
        self
    }

    fn outages(&self) -> &dyn redsol_actors::store::outages::Outages {
        self
    }

    fn notices(&self) -> &dyn redsol_actors::store::notices::Notices {
        self
    }

    fn payments(&self) -> &dyn redsol_actors::store::payments::Payments {
        self
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
            let (saved, new) = self
                .run("save_prospect", move |conn| {
                    save_prospect(conn, prospect, queue)
                })
                .await?;
            if queue && new {
                publish_unsent(&self.unsent, 1);
            }
            Ok(saved)
        })
    }

    fn create_incident(&self, incident: NewIncident) -> BoxFuture<'_, StoreResult<Incident>> {
        let queue = self.sheet_rows;
        Box::pin(async move {
            let (saved, new) = self
                .run("create_incident", move |conn| {
                    create_incident(conn, incident, queue)
                })
                .await?;
            if queue && new {
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

    fn journal_inbound_all(
        &self,
        entries: Vec<JournalEntry>,
    ) -> BoxFuture<'_, StoreResult<Vec<bool>>> {
        Box::pin(self.run("journal_inbound", move |conn| {
            journal_inbound_all(conn, &entries)
        }))
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

    fn queue_replies(&self, replies: Vec<OutboxEntry>) -> BoxFuture<'_, StoreResult<Vec<String>>> {
        let unsent = Arc::clone(&self.unsent);
        Box::pin(self.run("queue_replies", move |conn| {
            let queued = queue_replies(conn, &replies)?;
            publish_unsent(&unsent, queued.len() as i64);
            Ok(queued)
        }))
    }

    fn outbox_attempted(&self, id: &str) -> BoxFuture<'_, StoreResult<bool>> {
        let id = id.to_string();
        Box::pin(self.run("outbox_attempted", move |conn| outbox_attempted(conn, &id)))
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

    fn prune(
        &self,
        now: u64,
        retention: redsol_actors::store::Retention,
    ) -> BoxFuture<'_, StoreResult<()>> {
        Box::pin(async move { self.prune_at(now, retention).await.map(|_| ()) })
    }

    fn outbox_page(
        &self,
        channel: Channel,
        after: u64,
        limit: usize,
    ) -> BoxFuture<'_, StoreResult<OutboxPage>> {
        Box::pin(self.run("outbox_page", move |conn| {
            outbox_page(conn, channel, after, limit)
        }))
    }
}
