//! Fault hooks for the fault run (`tests/faults`), compiled only with the `fault-injection`
//! feature and inert unless their environment variable is set.
//!
//! `REDSOL_FAULT_PANIC_EVERY=N`: every Nth message a conversation handles (counted over the
//! whole process) panics it before its turn, as a bug would. The supervisor restarts the
//! conversation from its snapshot and redelivers the message.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

fn every() -> u64 {
    static EVERY: OnceLock<u64> = OnceLock::new();
    *EVERY.get_or_init(|| {
        std::env::var("REDSOL_FAULT_PANIC_EVERY")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0)
    })
}

/// Panics on every Nth call when `REDSOL_FAULT_PANIC_EVERY=N`.
pub fn before_turn() {
    static SEEN: AtomicU64 = AtomicU64::new(0);
    let n = every();
    if n > 0 && (SEEN.fetch_add(1, Ordering::Relaxed) + 1) % n == 0 {
        panic!("fault injection: REDSOL_FAULT_PANIC_EVERY={n}");
    }
}
