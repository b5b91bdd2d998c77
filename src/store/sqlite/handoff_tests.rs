//! Handoffs, outages and tickets' follow-up in SQLite against a real database file: the
//! conformance cases every backend runs (`crate::store::conformance`).

use super::tests::seed3;
use super::*;
use crate::store::conformance;

#[tokio::test]
async fn one_open_handoff_per_customer_and_one_winner_per_handoff() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path(), seed3).expect("open");
    conformance::handoffs::one_open_handoff_per_customer_and_one_winner_per_handoff(&store).await;
}

#[tokio::test]
async fn one_open_outage_per_zone_declared_once_per_source() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path(), seed3).expect("open");
    conformance::outages::one_open_outage_per_zone_declared_once_per_source(&store).await;
}

#[tokio::test]
async fn a_ticket_is_closed_once_rated_once_and_reopened() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path(), seed3).expect("open");
    conformance::tickets::a_ticket_is_closed_once_rated_once_and_reopened(&store).await;
}
