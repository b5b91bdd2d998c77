//! Contacts and campaigns in SQLite against a real database file: the conformance cases every
//! backend runs (`crate::store::conformance::notices`).

use super::tests::seed3;
use super::*;
use crate::store::conformance::notices as cases;

fn open(dir: &std::path::Path) -> SqliteStore {
    SqliteStore::open(dir, seed3).expect("open")
}

#[tokio::test]
async fn a_campaign_is_queued_once_and_released_in_order_into_the_outbox() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    let reopen: crate::store::conformance::Reopen = Box::new(move || {
        let path = path.clone();
        Box::pin(async move { Arc::new(open(&path)) as Arc<dyn Store> })
    });
    cases::a_campaign_is_queued_once_and_released_in_order_into_the_outbox(
        Arc::new(open(dir.path())),
        reopen,
    )
    .await;
}

#[tokio::test]
async fn notices_released_and_never_handed_over_go_back_to_their_campaign_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    cases::notices_released_and_never_handed_over_go_back_to_their_campaign_at_start(&open(
        dir.path(),
    ))
    .await;
}

#[tokio::test]
async fn notices_handed_to_a_platform_before_a_stop_are_closed_not_sent_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    cases::notices_handed_to_a_platform_before_a_stop_are_closed_not_sent_again(&open(dir.path()))
        .await;
}

#[tokio::test]
async fn notices_in_flight_wait_for_their_confirmation_and_only_the_unconfirmed_leave_again() {
    let dir = tempfile::tempdir().expect("tempdir");
    cases::notices_in_flight_wait_for_their_confirmation_and_only_the_unconfirmed_leave_again(
        &open(dir.path()),
    )
    .await;
}

#[tokio::test]
async fn contacts_keep_their_latest_message_their_phone_and_their_opt_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    cases::contacts_keep_their_latest_message_their_phone_and_their_opt_out(&open(dir.path()))
        .await;
}
