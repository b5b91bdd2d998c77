//! The thread that owns the SQLite connection, and its group commit.

use super::db_err;
use anyhow::Context as _;
use redsol_actors::store::StoreError;
use rusqlite::Connection;
use std::path::Path;

/// Hands an operation's result over, once the batch it ran in is committed (`None`) or failed
/// to be (its error).
pub(super) type Handover = Box<dyn FnOnce(Option<StoreError>) + Send>;

/// One operation for the store's thread.
pub(super) struct Job {
    /// Run outside any batch (what SQLite will not do in a transaction).
    pub(super) alone: bool,
    pub(super) work: Box<dyn FnOnce(&mut Connection) -> Handover + Send>,
}

/// The most operations one transaction carries.
const MAX_BATCH: usize = 64;

/// Starts the thread that owns the connection and runs the operations.
///
/// One thread instead of the blocking pool: operations on one SQLite connection are serial
/// anyway, and a burst would otherwise park hundreds of pool threads on a lock.
///
/// **Group commit:** the operations waiting when the thread comes round (up to [`MAX_BATCH`])
/// run in one transaction, each within its own savepoint where it needs several statements,
/// so a failing one rolls back alone and the others go on. Their results are handed over only
/// after the commit: nobody hears "saved" before it is. With the journal, the turn commit and
/// the outbox marks of many messages in one transaction, the WAL gets each page once per batch,
/// not once per operation. A panicking operation is caught (its savepoint rolls back as it
/// unwinds) and the thread goes on.
pub(super) fn spawn_worker(
    mut conn: Connection,
    path: &Path,
) -> anyhow::Result<std::sync::mpsc::Sender<Job>> {
    let (tx, rx) = std::sync::mpsc::channel::<Job>();
    std::thread::Builder::new()
        .name("redsol-sqlite".into())
        .spawn(move || {
            while let Ok(first) = rx.recv() {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match rx.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                run_batch(&mut conn, batch);
            }
        })
        .with_context(|| format!("starting the SQLite thread for {}", path.display()))?;
    Ok(tx)
}

/// Runs a batch: its operations in one transaction (those that must run alone between), the
/// results handed over after each commit.
fn run_batch(conn: &mut Connection, batch: Vec<Job>) {
    let mut open: Option<Vec<Handover>> = None;
    for job in batch {
        if job.alone {
            commit(conn, open.take());
            if let Some(handover) = run_caught(conn, job) {
                handover(None);
            }
            continue;
        }
        if open.is_none() {
            if let Err(e) = super::savepoint::run(conn, "BEGIN IMMEDIATE") {
                if let Some(handover) = run_caught(conn, job) {
                    handover(Some(db_err(e)));
                }
                continue;
            }
            open = Some(Vec::new());
        }
        if let (Some(done), Some(handover)) = (open.as_mut(), run_caught(conn, job)) {
            done.push(handover);
        }
    }
    commit(conn, open);
}

/// Commits an open batch and hands its results over (failed if the commit failed).
fn commit(conn: &mut Connection, open: Option<Vec<Handover>>) {
    let Some(done) = open else {
        return;
    };
    let failed = super::savepoint::run(conn, "COMMIT").err().map(|e| {
        tracing::error!(backend = "sqlite", error = %e, operations = done.len(), "a batch of store operations could not be committed; each fails");
        let _ = super::savepoint::run(conn, "ROLLBACK");
        db_err(e)
    });
    for handover in done {
        handover(failed.clone());
    }
}

/// Runs one operation, a panic caught (then its caller hears it failed).
fn run_caught(conn: &mut Connection, job: Job) -> Option<Handover> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (job.work)(conn))) {
        Ok(handover) => Some(handover),
        Err(_) => {
            tracing::error!(
                backend = "sqlite",
                "a store operation panicked; it failed and the store goes on"
            );
            None
        }
    }
}
