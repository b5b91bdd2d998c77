//! Contacts and campaigns in PostgreSQL against a real server: the conformance cases every
//! backend runs (`crate::store::conformance::notices`); two replicas at once in
//! `replica_tests.rs`.

use super::tests::{drop_schema, store};
use super::*;
use crate::store::conformance::notices as cases;
use redsol_actors::store::Store;

/// Another replica on the same schema (a restart, or a second process).
async fn reopen(schema: &str) -> Option<PgStore> {
    let url = std::env::var("REDSOL_TEST_DATABASE_URL").ok()?;
    let store = PgStore::connect_with(
        &url,
        &PgSettings::default(),
        &format!("-c search_path={schema}"),
        Vec::new,
    )
    .await
    .expect("reopens");
    Some(store)
}

#[tokio::test]
async fn a_campaign_is_queued_once_and_released_in_order_into_the_outbox() {
    let Some((store, schema)) = store(Vec::new()).await else {
        return;
    };
    let again = schema.clone();
    let reopen: cases::Reopen = Box::new(move || {
        let schema = again.clone();
        Box::pin(async move {
            Arc::new(reopen(&schema).await.expect("the database is there")) as Arc<dyn Store>
        })
    });
    cases::a_campaign_is_queued_once_and_released_in_order_into_the_outbox(
        Arc::new(store.clone()),
        reopen,
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
