//! The SQLite store against a real database file.

use super::*;
use crate::store::conformance::{self, Reopen};
use std::sync::atomic::{AtomicUsize, Ordering};

pub(super) fn client(n: u32) -> Client {
    Client {
        id: format!("CLI-{n:04}"),
        name: format!("Cliente {n}"),
        email: format!("cliente{n}@gmail.com"),
        zone: "Salamanca Centro".into(),
        phone: format!("464{n:07}"),
        plan_mbps: 20,
        price: 400,
        status: "Activo".into(),
        signup_date: "2024-03-15".into(),
    }
}

pub(super) fn seed3() -> Vec<Client> {
    (1..=3).map(client).collect()
}

pub(super) use crate::store::conformance::{incident, key, prospect};

fn no_seed() -> Vec<Client> {
    panic!("seed must not be called")
}

#[test]
fn seeding_happens_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let calls = AtomicUsize::new(0);
    let store = SqliteStore::open(dir.path(), || {
        calls.fetch_add(1, Ordering::SeqCst);
        seed3()
    })
    .expect("open");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    assert_eq!(store.path(), dir.path().join(DB_FILE));
    drop(store);

    let store = SqliteStore::open(dir.path(), no_seed).expect("reopen");
    assert_eq!(store.clients.len(), 3);
    assert_eq!(*store.clients, seed3());
}

#[test]
fn open_creates_the_directory_and_sets_wal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let nested = dir.path().join("a").join("b");
    let store = SqliteStore::open(&nested, Vec::new).expect("open");
    assert!(nested.join(DB_FILE).exists());
    let conn =
        Connection::open(store.path()).expect("a second connection, as an operator would open");
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .expect("journal_mode");
    assert_eq!(mode, "wal");
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .expect("user_version");
    assert_eq!(version, MIGRATIONS.len() as i64);
}

#[test]
fn a_newer_schema_is_refused_with_the_path_in_the_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    drop(SqliteStore::open(dir.path(), Vec::new).expect("open"));
    let conn = Connection::open(dir.path().join(DB_FILE)).expect("raw open");
    conn.pragma_update(None, "user_version", 99).expect("bump");
    drop(conn);
    let err = SqliteStore::open(dir.path(), Vec::new).expect_err("must refuse");
    let text = format!("{err:#}");
    assert!(text.contains(DB_FILE), "{text}");
    assert!(text.contains("99"), "{text}");
}

#[tokio::test]
async fn clients_are_cached() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path(), seed3).expect("open");
    let a = store.clients().await.expect("clients");
    let b = store.clients().await.expect("clients");
    assert!(Arc::ptr_eq(&a, &b));
    assert_eq!(a.len(), 3);
    assert_eq!(store.backend(), "sqlite");
}

#[tokio::test]
async fn open_incidents_are_counted_by_priority() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path(), Vec::new).expect("open");
    assert_eq!(
        store.open_incidents_by_priority().await.expect("empty"),
        vec![
            (Priority::Alta, 0),
            (Priority::Media, 0),
            (Priority::Baja, 0)
        ]
    );
    for p in [
        Priority::Alta,
        Priority::Alta,
        Priority::Alta,
        Priority::Baja,
        Priority::Baja,
    ] {
        store
            .create_incident(incident(key("1"), p, "x"))
            .await
            .expect("create");
    }
    // Staff close two of them by hand; one moves on without closing.
    {
        let conn =
            Connection::open(store.path()).expect("a second connection, as an operator would open");
        conn.execute(
            "UPDATE incidents SET status = 'Resuelto' WHERE id = 'INC-000001'",
            [],
        )
        .expect("resolve");
        conn.execute(
            "UPDATE incidents SET status = 'Cerrado' WHERE id = 'INC-000004'",
            [],
        )
        .expect("close");
        conn.execute(
            "UPDATE incidents SET status = 'En proceso' WHERE id = 'INC-000002'",
            [],
        )
        .expect("progress");
    }
    assert_eq!(
        store.open_incidents_by_priority().await.expect("counts"),
        vec![
            (Priority::Alta, 2),
            (Priority::Media, 0),
            (Priority::Baja, 1)
        ]
    );
}

#[tokio::test]
async fn a_replayed_message_finds_its_records_instead_of_writing_them_twice() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path(), Vec::new)
        .expect("open")
        .with_sheet_rows();
    let from = |s: &str| Some(format!("whatsapp:5215512345678:{s}"));
    let p = NewProspect {
        source: from("wamid.A"),
        ..prospect("1", "Ana")
    };
    let first = store.save_prospect(p.clone()).await.expect("first");
    let again = store.save_prospect(p).await.expect("replayed");
    assert_eq!(
        first, again,
        "the replay gets the prospect saved the first time"
    );
    let other = NewProspect {
        source: from("wamid.B"),
        ..prospect("1", "Ana")
    };
    assert_ne!(
        store.save_prospect(other).await.expect("other").id,
        first.id
    );

    let i = NewIncident {
        source: from("wamid.C"),
        ..incident(key("1"), Priority::Alta, "sin internet")
    };
    let first = store.create_incident(i.clone()).await.expect("first");
    assert_eq!(store.create_incident(i).await.expect("again"), first);

    let request = PendingRequest {
        kind: "billing".into(),
        text: "¿cuánto debo?".into(),
        key: key("1"),
        source: from("wamid.D"),
    };
    store.record_request(request.clone()).await.expect("first");
    store.record_request(request.clone()).await.expect("again");
    let human = PendingRequest {
        kind: "human_agent".into(),
        ..request
    };
    store.record_request(human).await.expect("another kind");

    let conn = Connection::open(store.path()).expect("a second connection");
    let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).expect(sql) };
    assert_eq!(count("SELECT COUNT(*) FROM prospects"), 2);
    assert_eq!(count("SELECT COUNT(*) FROM incidents"), 1);
    assert_eq!(count("SELECT COUNT(*) FROM requests"), 2);
    assert_eq!(
        count("SELECT COUNT(*) FROM sheet_outbox"),
        3,
        "one sheet row per record, none for a replay"
    );
}

/// A SQLite store in `dir`, and a way to open it again.
pub(super) fn open_and_reopen(dir: &std::path::Path) -> (Arc<dyn Store>, Reopen) {
    let path = dir.to_path_buf();
    let reopen: Reopen = Box::new(move || {
        let path = path.clone();
        Box::pin(async move {
            Arc::new(SqliteStore::open(&path, Vec::new).expect("reopen")) as Arc<dyn Store>
        })
    });
    let store = SqliteStore::open(dir, Vec::new).expect("open");
    (Arc::new(store), reopen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_prospects_all_land_with_distinct_ids() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, _) = open_and_reopen(dir.path());
    conformance::records::concurrent_prospects_all_land_with_distinct_ids(store).await;
}

#[tokio::test]
async fn ids_are_sequential_and_survive_reopening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (store, reopen) = open_and_reopen(dir.path());
    conformance::records::ids_are_sequential_and_survive_reopening(store, reopen).await;
}

#[tokio::test]
async fn incidents_for_is_newest_first_and_only_that_conversation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(dir.path(), Vec::new).expect("open");
    conformance::records::incidents_for_is_newest_first_and_only_that_conversation(&store).await;
}
