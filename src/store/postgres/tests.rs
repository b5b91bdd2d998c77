//! The PostgreSQL store against a real server (`REDSOL_TEST_DATABASE_URL`; `.ci/run` sets it),
//! each test in a schema of its own, dropped at the end. Without the variable they say they
//! were skipped.

use super::*;
use redsol_actors::model::{
    ConversationKey, IncidentKind, NewIncident, NewProspect, PendingRequest, Priority, Reply,
};
use redsol_actors::store::{JournalEntry, OutboxEntry, TurnCommit};

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
        &PgSettings::default(),
        &format!("-c search_path={schema}"),
        move || seed,
    )
    .await
    .expect("store opens");
    Some((store, schema))
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

fn entry(user: &str, message_id: &str) -> JournalEntry {
    JournalEntry {
        key: key(user),
        message_id: message_id.into(),
        payload: format!("{{\"text\":\"{message_id}\"}}"),
    }
}

fn reply_entry(user: &str, id: &str, text: &str) -> OutboxEntry {
    OutboxEntry {
        id: id.into(),
        key: key(user),
        reply: Reply {
            text: text.into(),
            quick_replies: Vec::new(),
            attachment: None,
        },
        in_reply_to: Some("m1".into()),
        queued_at: 1_765_000_000,
        reply_to: None,
        attempted: false,
        edit: None,
        template: None,
    }
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
async fn the_journal_dedupes_and_a_turn_commits_snapshot_journal_and_outbox_at_once() {
    let Some((store, schema)) = store(Vec::new()).await else {
        return;
    };
    assert!(store.journal_inbound(entry("a", "m1")).await.expect("m1"));
    let delivery = vec![
        entry("a", "m1"),
        entry("a", "m2"),
        entry("b", "m1"),
        entry("a", "m2"),
    ];
    assert_eq!(
        store.journal_inbound_all(delivery).await.expect("delivery"),
        [false, true, true, false]
    );
    assert_eq!(
        store.journal_pending().await.expect("pending"),
        vec![entry("a", "m1"), entry("a", "m2"), entry("b", "m1")]
    );

    store
        .commit_turn(TurnCommit {
            key: key("a"),
            message_id: Some("m1".into()),
            snapshot: "{\"step\":1}".into(),
            replies: vec![
                reply_entry("a", "a:m1:0", "hola"),
                reply_entry("a", "a:m1:1", "¿zona?"),
            ],
        })
        .await
        .expect("commit");
    assert_eq!(
        store.load_snapshot(&key("a")).await.expect("snapshot"),
        Some("{\"step\":1}".into())
    );
    assert_eq!(
        store.journal_pending().await.expect("pending"),
        vec![entry("a", "m2"), entry("b", "m1")]
    );
    // A replayed turn queues nothing twice.
    let queued = store
        .queue_replies(vec![
            reply_entry("a", "a:m1:0", "hola"),
            reply_entry("b", "b:n:0", "aviso"),
        ])
        .await
        .expect("queue");
    assert_eq!(queued, ["b:n:0"]);

    let page = store
        .outbox_page(Channel::WhatsApp, 0, 2)
        .await
        .expect("page");
    let ids: Vec<&str> = page.entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["a:m1:0", "a:m1:1"]);
    assert_eq!(page.entries[0], reply_entry("a", "a:m1:0", "hola"));
    store.outbox_attempted("a:m1:0").await.expect("attempted");
    store.outbox_sent("a:m1:0").await.expect("sent");
    let rest = store
        .outbox_page(Channel::WhatsApp, 0, 10)
        .await
        .expect("rest");
    let ids: Vec<&str> = rest.entries.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, ["a:m1:1", "b:n:0"]);
    let after = store
        .outbox_page(Channel::WhatsApp, page.next, 10)
        .await
        .expect("after");
    assert_eq!(after.entries.len(), 1, "read on from the page's position");
    store.delete_snapshot(&key("a")).await.expect("delete");
    assert_eq!(store.load_snapshot(&key("a")).await.expect("gone"), None);
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
