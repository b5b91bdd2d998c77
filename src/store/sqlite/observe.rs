//! What every SQLite operation reports: its latency and failures, the unsent-rows gauge, and
//! how a rusqlite error maps to a store error.

use redsol_actors::store::{StoreError, StoreResult};
use std::time::Instant;

pub(super) fn publish_unsent(unsent: &std::sync::atomic::AtomicI64, delta: i64) {
    let n = unsent.fetch_add(delta, std::sync::atomic::Ordering::AcqRel) + delta;
    metrics::gauge!("redsol_outbox_pending").set(n.max(0) as f64);
}

/// Records `redsol_store_request_seconds` and logs a failure (the op and the error, never user
/// text: errors name tables and constraints, not values).
pub(super) fn observe<T>(op: &'static str, started: Instant, result: &StoreResult<T>) {
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
pub(super) fn db_err(e: rusqlite::Error) -> StoreError {
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
