//! Contacts and campaigns in PostgreSQL against a real server: the conformance cases every
//! backend runs (`crate::store::conformance::notices`); two replicas at once in
//! `replica_tests.rs`.

use super::tests::{drop_schema, reopener, store};
use super::*;
use crate::store::conformance::notices as cases;

#[tokio::test]
async fn a_campaign_is_queued_once_and_released_in_order_into_the_outbox() {
    let Some((store, schema)) = store(Vec::new()).await else {
        return;
    };
    cases::a_campaign_is_queued_once_and_released_in_order_into_the_outbox(
        Arc::new(store.clone()),
        reopener(&schema),
    )
    .await;
    drop_schema(store, &schema).await;
}

#[tokio::test]
async fn notices_released_and_never_handed_over_go_back_to_their_campaign_at_start() {
    let Some((store, schema)) = store(Vec::new()).await else {
        return;
    };
    cases::notices_released_and_never_handed_over_go_back_to_their_campaign_at_start(&store).await;
    drop_schema(store, &schema).await;
}

#[tokio::test]
async fn notices_handed_to_a_platform_before_a_stop_are_closed_not_sent_again() {
    let Some((store, schema)) = store(Vec::new()).await else {
        return;
    };
    cases::notices_handed_to_a_platform_before_a_stop_are_closed_not_sent_again(&store).await;
    drop_schema(store, &schema).await;
}

#[tokio::test]
async fn notices_in_flight_wait_for_their_confirmation_and_only_the_unconfirmed_leave_again() {
    let Some((store, schema)) = store(Vec::new()).await else {
        return;
    };
    cases::notices_in_flight_wait_for_their_confirmation_and_only_the_unconfirmed_leave_again(
        &store,
    )
    .await;
    drop_schema(store, &schema).await;
}

#[tokio::test]
async fn contacts_keep_their_latest_message_their_phone_and_their_opt_out() {
    let Some((store, schema)) = store(Vec::new()).await else {
        return;
    };
    cases::contacts_keep_their_latest_message_their_phone_and_their_opt_out(&store).await;
    drop_schema(store, &schema).await;
}
