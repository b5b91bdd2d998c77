//! How replicas share the outbox: each claims the replies it makes (`claimed_by`, until the
//! database's clock plus the lease), renews the claim while they wait, and reads back only its
//! own replies, nobody's, or those whose claim lapsed (their replica stopped).

use super::PgStore;
use std::time::Duration;

/// The database's clock in Unix seconds, for claims that replicas compare.
pub(super) const NOW: &str = "(extract(epoch FROM now()))::bigint";
/// How often a replica renews its claim on its unsent replies (well within the lease).
const RENEW_EVERY: Duration = Duration::from_secs(20);

impl PgStore {
    /// This replica's claim on outbox replies: `(replica, lease in seconds)`; the claim runs
    /// until the database's clock ([`NOW`]) plus the lease, so replicas' clocks do not matter.
    pub(super) fn claim(&self) -> (String, i64) {
        (
            self.replica.to_string(),
            i64::try_from(self.outbox_lease.as_secs()).unwrap_or(i64::MAX),
        )
    }

    /// The outbox rows this replica may take: its own, nobody's, or those whose claim lapsed
    /// (their replica stopped). The replica id is hex made here, so it is safe in SQL text.
    pub(super) fn claimable(&self) -> String {
        format!(
            "(claimed_by IS NULL OR claimed_by = '{}' OR claimed_until < {NOW})",
            self.replica
        )
    }

    /// At once and every [`RENEW_EVERY`]: renews this replica's claim on every reply it has not sent,
    /// whatever its sender is doing (a long backlog never lets a claim lapse under it), and
    /// publishes `redsol_outbox_pending` (every replica's unsent replies). Ends when the store
    /// is dropped.
    pub(super) fn tend_outbox(&self) {
        // The task holds the name, not the store's Arc: it ends once the store is dropped.
        let (pool, replica) = (self.pool.clone(), self.replica.to_string());
        let lease = i64::try_from(self.outbox_lease.as_secs()).unwrap_or(i64::MAX);
        let timeout = self.op_timeout;
        let weak = std::sync::Arc::downgrade(&self.replica);
        tokio::spawn(async move {
            loop {
                if weak.upgrade().is_none() {
                    return;
                }
                let renew = async {
                    let conn = pool.get().await.ok()?;
                    conn.execute(
                        &format!(
                            "UPDATE outbox SET claimed_until = {NOW} + $2 \
                             WHERE claimed_by = $1 AND sent_at IS NULL"
                        ),
                        &[&replica, &lease],
                    )
                    .await
                    .ok()?;
                    let unsent: i64 = conn
                        .query_one("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL", &[])
                        .await
                        .ok()?
                        .get(0);
                    metrics::gauge!("redsol_outbox_pending").set(unsent as f64);
                    Some(())
                };
                if tokio::time::timeout(timeout, renew)
                    .await
                    .ok()
                    .flatten()
                    .is_none()
                {
                    tracing::warn!(
                        backend = "postgres",
                        "could not renew this replica's claim on its unsent replies (or count them)"
                    );
                }
                tokio::time::sleep(RENEW_EVERY).await;
            }
        });
    }
}
