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
    // No sender left: receivers read `true` for good, and no change ever comes.
    let (_, rx) = watch::channel(true);
    metrics::gauge!("redsol_leader").set(1.0);
    rx
}

/// Starts the election among the replicas of `url`'s database (and schema).
pub fn elect(url: &str, settings: &PgSettings) -> anyhow::Result<Leadership> {
    let config = config(url, settings, "")?;
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
        let query = if leading {
            "SELECT TRUE"
        } else {
            "SELECT pg_try_advisory_lock(hashtext('redsol leader ' || current_schema()))"
        };
        match tokio::time::timeout(CHECK_TIMEOUT, client.query_one(query, &[])).await {
            Ok(Ok(row)) => set(tx, row.get::<_, bool>(0)),
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
