//! One leader among the replicas of a database, for what must run once: the campaigns of
//! notices, payment reminders and retention. The leader holds a PostgreSQL advisory lock (keyed
//! by the schema, so two deployments in one database elect apart) on a connection of its own;
//! when its process dies, the database ends the session and the lock goes with it, and another
//! replica takes it at its next try (every [`TRY_EVERY`]). A leader that cannot reach the
//! database within [`CHECK_TIMEOUT`] steps down at once.

use super::{config, PgSettings};
use std::time::Duration;
use tokio::sync::watch;

/// How often a replica tries to lead, and a leader checks it still holds its session.
pub const TRY_EVERY: Duration = Duration::from_secs(2);
/// The longest a check may take before the leader steps down.
const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether this replica leads, as it changes.
pub type Leadership = watch::Receiver<bool>;

/// A leadership that never changes: a single process leads.
pub fn alone() -> Leadership {
    let (tx, rx) = watch::channel(true);
    // Never dropped: no change ever comes (a dropped sender means an election that ended).
    std::mem::forget(tx);
    metrics::gauge!("redsol_leader").set(1.0);
    rx
}

/// Starts the election among the replicas of `url`'s database (and schema).
pub fn elect(url: &str, settings: &PgSettings) -> anyhow::Result<Leadership> {
    // The server probes the session: a leader whose machine died or was cut off loses its
    // session, and the lock, within some ten seconds, not at the kernel's two hours.
    let config = config(
        url,
        settings,
        "-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3",
    )?;
    let (tx, rx) = watch::channel(false);
    metrics::gauge!("redsol_leader").set(0.0);
    tokio::spawn(async move {
        loop {
            campaign(&config, &tx).await;
            if tx.is_closed() {
                return;
            }
            tokio::time::sleep(TRY_EVERY).await;
        }
    });
    Ok(rx)
}

fn set(tx: &watch::Sender<bool>, leader: bool) {
    let was = tx.send_replace(leader);
    if was != leader {
        metrics::gauge!("redsol_leader").set(if leader { 1.0 } else { 0.0 });
        if leader {
            tracing::info!("this replica leads: campaigns, reminders and retention run here");
        } else {
            tracing::warn!("this replica no longer leads");
        }
    }
}

/// One session: tries to lead on it, and leads while it lasts.
async fn campaign(config: &tokio_postgres::Config, tx: &watch::Sender<bool>) {
    let client = match tokio::time::timeout(
        CHECK_TIMEOUT * 3,
        config.connect(tokio_postgres::NoTls),
    )
    .await
    {
        Ok(Ok((client, connection))) => {
            tokio::spawn(connection);
            client
        }
        _ => {
            set(tx, false);
            return;
        }
    };
    loop {
        let leading = *tx.borrow();
        // A leader checks it still holds the lock on this very session (through a pooler in
        // transaction mode it would not: session pooling is required).
        let query = if leading {
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' \
             AND pid = pg_backend_pid() AND granted)"
        } else {
            "SELECT COALESCE(pg_try_advisory_lock(hashtext('redsol leader ' || \
             COALESCE(current_schema(), ''))), FALSE)"
        };
        match tokio::time::timeout(CHECK_TIMEOUT, client.query_one(query, &[])).await {
            Ok(Ok(row)) => set(tx, row.try_get::<_, bool>(0).unwrap_or(false)),
            // The session is gone or too slow: whatever it held, this replica no longer leads.
            _ => {
                set(tx, false);
                return;
            }
        }
        if tx.is_closed() {
            return;
        }
        tokio::time::sleep(TRY_EVERY).await;
    }
}
