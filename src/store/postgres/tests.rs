//! The PostgreSQL store against a real server (`REDSOL_TEST_DATABASE_URL`; `.ci/run` sets it),
//! each test in a schema of its own, dropped at the end. Without the variable they say they
//! were skipped.

use super::*;
use redsol_actors::model::{
    ConversationKey, IncidentKind, NewIncident, NewProspect, PendingRequest, Priority,
};

/// A store in a fresh schema, and the schema's name; `None` (said) without a database.
pub(super) async fn store(seed: Vec<Client>) -> Option<(PgStore, String)> {
    let Ok(url) = std::env::var("REDSOL_TEST_DATABASE_URL") else {
        eprintln!(
            "skipped: REDSOL_TEST_DATABASE_URL is not set (a PostgreSQL database; .ci/run sets it)"
        );
        return None;
    };
    let schema = format!(
        "t_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default()
    );
    let admin = pool(&url, &PgSettings::default(), "").expect("a PostgreSQL URL");
    admin
        .get()
        .await
        .expect("PostgreSQL reachable")
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .expect("create schema");
    let store = PgStore::connect_with(
        &url,
        &one_process(),
        &format!("-c search_path={schema}"),
        move || seed,
    )
    .await
    .expect("store opens");
    Some((store, schema))
}

/// Another process named `name` on the database of `schema`, with `settings` otherwise.
pub(super) async fn replica_with(schema: &str, name: &str, settings: PgSettings) -> PgStore {
    let url = std::env::var("REDSOL_TEST_DATABASE_URL").unwrap_or_default();
    let settings = PgSettings {
        replica: Some(name.into()),
        ..settings
    };
    PgStore::connect_with(
        &url,
        &settings,
        &format!("-c search_path={schema}"),
        Vec::new,
    )
    .await
    .expect("a replica connects")
}

pub(super) async fn drop_schema(store: PgStore, schema: &str) {
    if let Ok(conn) = store.pool.get().await {
        let _ = conn
            .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
            .await;
    }
}

pub(super) fn client(n: u32) -> Client {
    Client {
        id: format!("CLI-{n:04}"),
        name: format!("Cliente {n}"),
        email: format!("c{n}@example.com"),
        zone: "Norte".into(),
        phone: format!("44211100{n:02}"),
        plan_mbps: 50,
        price: 450,
        status: "Activo".into(),
        signup_date: "2025-01-15".into(),
    }
}

pub(super) fn key(user: &str) -> ConversationKey {
    ConversationKey::new(Channel::WhatsApp, user)
}

#[tokio::test]
async fn migrates_once_seeds_once_and_reopens_at_the_same_version() {
    let Some((store, schema)) = store(vec![client(1), client(2)]).await else {
        return;
    };
    assert_eq!(store.schema_version(), schema::MIGRATIONS.len() as i64);
    assert_eq!(store.clients().as_slice(), &[client(1), client(2)]);
    let Ok(url) = std::env::var("REDSOL_TEST_DATABASE_URL") else {
        return;
    };
    // A second replica finds the schema and the clients there: nothing applied or seeded again.
    let again = PgStore::connect_with(
        &url,
        &PgSettings::default(),
        &format!("-c search_path={schema}"),
        || vec![client(9)],
    )
    .await
    .expect("reopens");
    assert_eq!(again.schema_version(), store.schema_version());
    assert_eq!(again.clients().len(), 2, "seeded once");
    let conn = store.conn().await.expect("conn");
    let applied: i64 = conn
        .query_one("SELECT COUNT(*) FROM redsol_migrations", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(applied, schema::MIGRATIONS.len() as i64);
    drop(conn);
    drop_schema(store, &schema).await;
}

#[tokio::test]
async fn a_replayed_message_finds_its_records_instead_of_writing_twice() {
    let Some((store, schema)) = store(Vec::new()).await else {
        return;
    };
    let prospect = NewProspect {
        name: "Laura Méndez".into(),
        phone: Some("4421234567".into()),
        zone: "Norte".into(),
        plan_mbps: 50,
        price: 450,
        key: key("5214421234567"),
        outside_coverage: false,
        source: Some("whatsapp:wamid.P1".into()),
    };
    let first = store.save_prospect(prospect.clone()).await.expect("saved");
    assert!(first.id.starts_with("PRO-"), "{}", first.id);
    let again = store
        .save_prospect(prospect.clone())
        .await
        .expect("replayed");
    assert_eq!(again, first, "the same prospect, not a second one");
    let other = store
        .save_prospect(NewProspect {
            source: None,
            ..prospect
        })
        .await
        .expect("no source");
    assert_ne!(other.id, first.id);

    let incident = NewIncident {
        client_id: Some("CLI-0001".into()),
        client_name: "Laura Méndez".into(),
        kind: IncidentKind::NoService,
        description: "no hay internet".into(),
        priority: Priority::Alta,
        zone: Some("Norte".into()),
        phone: None,
        key: key("5214421234567"),
        source: Some("whatsapp:wamid.I1".into()),
    };
    let made = store
        .create_incident(incident.clone())
        .await
        .expect("created");
    assert!(made.id.starts_with("INC-"), "{}", made.id);
    assert_eq!(made.status, "Nuevo");
    let replayed = store.create_incident(incident).await.expect("replayed");
    assert_eq!(replayed, made);
    assert_eq!(
        store
            .incidents_for(&key("5214421234567"))
            .await
            .expect("list"),
        vec![made]
    );
    let open = store.open_incidents_by_priority().await.expect("counts");
    assert!(open.contains(&(Priority::Alta, 1)), "{open:?}");
    assert_eq!(open.len(), Priority::ALL.len());

    let request = PendingRequest {
        kind: "human_agent".into(),
        text: "quiero hablar con alguien".into(),
        key: key("5214421234567"),
        source: Some("whatsapp:wamid.R1".into()),
    };
    store.record_request(request.clone()).await.expect("once");
    store.record_request(request).await.expect("twice");
    let conn = store.conn().await.expect("conn");
    let requests: i64 = conn
        .query_one("SELECT COUNT(*) FROM requests", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(requests, 1);
    drop(conn);
    drop_schema(store, &schema).await;
}

#[tokio::test]
async fn an_unreachable_database_is_a_clear_error_without_the_password() {
    let settings = PgSettings {
        connect_timeout: Duration::from_millis(500),
        ..PgSettings::default()
    };
    let err = match PgStore::connect(
        "postgres://redsol:hunter2@127.0.0.1:1/x",
        &settings,
        Vec::new,
    )
    .await
    {
        Ok(_) => panic!("nothing listens on port 1"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("cannot connect to PostgreSQL"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
    let err = match PgStore::connect("mysql://redsol:hunter2@db/x", &settings, Vec::new).await {
        Ok(_) => panic!("not a PostgreSQL URL"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("REDSOL_DATABASE_URL"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}

/// Runs a conformance case (`crate::store::conformance`) on a fresh schema.
macro_rules! conformance {
    ($name:ident, $case:path) => {
        #[tokio::test]
        async fn $name() {
            let Some((store, schema)) = store(Vec::new()).await else {
                return;
            };
            $case(&store).await;
            drop_schema(store, &schema).await;
        }
    };
}

conformance!(
    one_open_handoff_per_customer_and_one_winner_per_handoff,
    crate::store::conformance::handoffs::one_open_handoff_per_customer_and_one_winner_per_handoff
);
conformance!(
    one_open_outage_per_zone_declared_once_per_source,
    crate::store::conformance::outages::one_open_outage_per_zone_declared_once_per_source
);
conformance!(
    a_ticket_is_closed_once_rated_once_and_reopened,
    crate::store::conformance::tickets::a_ticket_is_closed_once_rated_once_and_reopened
);

/// The settings of one process, the same name across its restarts (its outbox replies stay
/// its own; `replica_tests.rs` names others).
fn one_process() -> PgSettings {
    PgSettings {
        replica: Some("a1".into()),
        ..PgSettings::default()
    }
}

/// Opens the database of `schema` again (a restart of the same process).
pub(super) fn reopener(schema: &str) -> crate::store::conformance::Reopen {
    let schema = schema.to_string();
    Box::new(move || {
        let schema = schema.clone();
        Box::pin(async move {
            let url = std::env::var("REDSOL_TEST_DATABASE_URL").unwrap_or_default();
            let store = PgStore::connect_with(
                &url,
                &one_process(),
                &format!("-c search_path={schema}"),
                Vec::new,
            )
            .await
            .expect("reopens");
            Arc::new(store) as Arc<dyn redsol_actors::store::Store>
        })
    })
}

/// Runs a conformance case that restarts its store, on a fresh schema.
macro_rules! conformance_reopened {
    ($name:ident, $case:path) => {
        #[tokio::test]
        async fn $name() {
            let Some((store, schema)) = store(Vec::new()).await else {
                return;
            };
            $case(Arc::new(store.clone()), reopener(&schema)).await;
            drop_schema(store, &schema).await;
        }
    };
}

conformance!(
    snapshots_save_load_replace_delete,
    crate::store::conformance::turns::snapshots_save_load_replace_delete
);
conformance!(
    a_delivery_is_journaled_at_once_with_each_message_deduplicated,
    crate::store::conformance::turns::a_delivery_is_journaled_at_once_with_each_message_deduplicated
);
conformance!(
    incidents_for_is_newest_first_and_only_that_conversation,
    crate::store::conformance::records::incidents_for_is_newest_first_and_only_that_conversation
);
conformance_reopened!(
    journal_dedupes_across_reopening_and_tracks_pending,
    crate::store::conformance::turns::journal_dedupes_across_reopening_and_tracks_pending
);
conformance_reopened!(
    a_turn_commits_snapshot_journal_and_outbox_at_once,
    crate::store::conformance::turns::a_turn_commits_snapshot_journal_and_outbox_at_once
);
conformance_reopened!(
    ids_are_sequential_and_survive_reopening,
    crate::store::conformance::records::ids_are_sequential_and_survive_reopening
);

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_prospects_all_land_with_distinct_ids() {
    let Some((store, schema)) = store(Vec::new()).await else {
        return;
    };
    crate::store::conformance::records::concurrent_prospects_all_land_with_distinct_ids(Arc::new(
        store.clone(),
    ))
    .await;
    drop_schema(store, &schema).await;
}

#[tokio::test]
async fn retention_forgets_answered_messages_once_old_and_keeps_the_rest() {
    let Some((store, schema)) = store(Vec::new()).await else {
        return;
    };
    let journal = |user: &str, id: &str| redsol_actors::store::JournalEntry {
        key: key(user),
        message_id: id.into(),
        payload: "{}".into(),
    };
    for (user, id) in [("a", "old"), ("a", "new"), ("b", "pending")] {
        store
            .journal_inbound(journal(user, id))
            .await
            .expect("journal");
    }
    store.journal_done(&key("a"), "old").await.expect("done");
    store.journal_done(&key("a"), "new").await.expect("done");
    let conn = store.conn().await.expect("conn");
    conn.execute(
        "UPDATE journal SET received_at = '2020-01-01 00:00:00' WHERE message_id IN ('old', 'pending')",
        &[],
    )
    .await
    .expect("age");
    drop(conn);
    let retention = redsol_actors::store::Retention {
        journal_days: 7,
        outbox_days: 7,
        snapshot_days: 180,
        request_days: 365,
    };
    let deleted = store
        .prune_at(redsol_actors::store::unix_now(), retention)
        .await
        .expect("prune");
    assert_eq!(deleted, 1, "only the old answered message");
    let pending = store.journal_pending().await.expect("pending");
    assert_eq!(
        pending,
        vec![journal("b", "pending")],
        "unanswered is kept however old"
    );
    assert!(!store
        .journal_inbound(journal("a", "new"))
        .await
        .expect("dup"));
    drop_schema(store, &schema).await;
}
