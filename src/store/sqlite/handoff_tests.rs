//! Handoffs, outages, tickets' follow-up and payments in SQLite against a real database file:
//! the conformance cases every backend runs (`crate::store::conformance`).

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

#[tokio::test]
async fn a_receipt_is_reported_once_against_the_oldest_period_owed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path(), seed3).expect("open");
    store
        .seed_payments(conformance::payments::demo)
        .await
        .expect("seed");
    conformance::payments::a_receipt_is_reported_once_against_the_oldest_period_owed(&store).await;
}

#[tokio::test]
async fn staff_answer_a_report_once_paid_or_owed_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path(), seed3).expect("open");
    store
        .seed_payments(conformance::payments::demo)
        .await
        .expect("seed");
    conformance::payments::staff_answer_a_report_once_paid_or_owed_again(&store).await;
}
