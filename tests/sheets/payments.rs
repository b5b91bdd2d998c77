//! The `Pagos` tab: staff's rows are what the store answers, staff's edits win at the next
//! read, and what redsol changes (a receipt, staff's answer) reaches the row's cells without
//! being undone by a read in between.

use crate::fake::{FakeGoogle, Target};
use crate::harness::{drained, started};
use crate::seed::records;
use redsol::sheets::SheetsStore;
use redsol_actors::model::{Channel, ConversationKey};
use redsol_actors::store::payments::{Payment, PaymentStatus, Verdict};
use redsol_actors::store::Store;
use std::collections::HashMap;
use std::time::{Duration, Instant};

fn row(fake: &FakeGoogle, id: &str) -> HashMap<String, String> {
    records(fake, "Pagos")
        .into_iter()
        .find(|r| r["ID Pago"] == id)
        .unwrap_or_else(|| panic!("{id} is in the sheet"))
}

async fn payments_of(store: &SheetsStore, client: &str) -> Vec<Payment> {
    store
        .payments()
        .payments_of(client)
        .await
        .expect("payments")
}

/// Waits (bounded) until the store's payments of `client` satisfy `ok`.
async fn until(store: &SheetsStore, client: &str, what: &str, ok: impl Fn(&[Payment]) -> bool) {
    let start = Instant::now();
    loop {
        let now = payments_of(store, client).await;
        if ok(&now) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(15),
            "{what}: still {now:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn customer() -> ConversationKey {
    ConversationKey::new(Channel::WhatsApp, "524421110001")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_rows_answer_and_redsol_changes_reach_their_cells() {
    let (fake, _dir, store) = started(|_| {}).await;

    let ana = payments_of(&store, "CLI-0001").await;
    let seen: Vec<(&str, &str, u32, &str, PaymentStatus)> = ana
        .iter()
        .map(|p| {
            (
                p.id.as_str(),
                p.period.as_str(),
                p.amount,
                p.due.as_str(),
                p.status,
            )
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (
                "PAG-000101",
                "2026-10",
                450,
                "2026-10-10",
                PaymentStatus::Pagado
            ),
            (
                "PAG-000102",
                "2026-11",
                450,
                "2026-11-10",
                PaymentStatus::Vencido
            ),
        ]
    );
    assert_eq!(ana[0].paid_on.as_deref(), Some("2026-10-08"));
    // Periodo left empty takes Vence's month; staff's own reference is kept.
    let beto = payments_of(&store, "CLI-0002").await;
    assert_eq!(
        (beto[0].period.as_str(), beto[0].reference.as_str()),
        ("2026-12", "RS-EXT-77")
    );

    // A receipt: the row owed becomes "Por confirmar" with the media id; staff's column stays.
    let reported = store
        .payments()
        .report_payment("CLI-0001", "MEDIA-RECIBO-1", &customer())
        .await
        .expect("report")
        .expect("something owed");
    assert_eq!(reported.id, "PAG-000102");
    drained(&store, Duration::from_secs(10)).await;
    let cells = row(&fake, "PAG-000102");
    assert_eq!(cells["Estado"], "Por confirmar");
    assert_eq!(cells["Comprobante"], "MEDIA-RECIBO-1");
    assert_eq!(cells["Notas"], "llamar");
    assert_eq!(
        cells["Monto"], "$450.00",
        "cells redsol does not set are left"
    );

    // Staff confirm it: Pagado with the date.
    store
        .payments()
        .settle_payment("PAG-000102", Verdict::Confirmed, "2026-12-06")
        .await
        .expect("settle")
        .expect("waiting");
    drained(&store, Duration::from_secs(10)).await;
    let cells = row(&fake, "PAG-000102");
    assert_eq!(
        (cells["Estado"].as_str(), cells["Fecha Pago"].as_str()),
        ("Pagado", "2026-12-06")
    );
    assert_eq!(
        records(&fake, "Pagos").len(),
        3,
        "rows are changed, never added"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn staff_edits_in_the_sheet_win_at_the_next_read() {
    let (fake, _dir, store) = started(|s| s.sheets_tuning.cache_ttl_secs = 1).await;
    fake.edit(|tabs| {
        let tab = tabs.get_mut("Pagos").expect("tab");
        let headers = tab[0].clone();
        let at = |h: &str| headers.iter().position(|x| x == h).expect("header");
        // Beto paid at the office: staff mark it by hand.
        let beto = tab.iter_mut().find(|r| r[0] == "PAG-000103").expect("row");
        beto[at("Estado")] = "Pagado".into();
        beto[at("Fecha Pago")] = "2026-12-05".into();
        // October is deleted; Carla's December is added; a row with an Estado nobody knows.
        tab.retain(|r| r[0] != "PAG-000101");
        let mut carla = vec![String::new(); headers.len()];
        for (h, v) in [
            ("ID Pago", "PAG-000104"),
            ("ID Cliente", "CLI-0003"),
            ("Vence", "2026-12-10"),
            ("Monto", "$350"),
            ("Estado", "Pendiente"),
        ] {
            carla[at(h)] = v.into();
        }
        let mut odd = carla.clone();
        odd[at("ID Pago")] = "PAG-000105".into();
        odd[at("ID Cliente")] = "CLI-0002".into();
        odd[at("Estado")] = "Debe".into();
        tab.push(carla);
        tab.push(odd);
    });

    until(&store, "CLI-0003", "Carla's new row read", |p| p.len() == 1).await;
    let beto = payments_of(&store, "CLI-0002").await;
    assert_eq!(beto.len(), 1, "the unreadable row is left out: {beto:?}");
    assert_eq!(
        (beto[0].status, beto[0].paid_on.as_deref()),
        (PaymentStatus::Pagado, Some("2026-12-05"))
    );
    let ana: Vec<String> = payments_of(&store, "CLI-0001")
        .await
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(ana, vec!["PAG-000102"], "the deleted row is forgotten");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_waiting_for_the_sheet_is_not_undone_by_a_read() {
    let (fake, _dir, store) = started(|s| s.sheets_tuning.cache_ttl_secs = 1).await;
    // Sheets refuses writes for a while; reads go on.
    fake.fail_next(1_000, Target::Update, 503);
    store
        .payments()
        .report_payment("CLI-0001", "MEDIA-RECIBO-2", &customer())
        .await
        .expect("report")
        .expect("owed");
    // Staff change that very row (a discount) and another one meanwhile; the tab is read
    // and taken again...
    fake.edit(|tabs| {
        let tab = tabs.get_mut("Pagos").expect("tab");
        let at = |h: &str| tab[0].iter().position(|x| x == h).expect("header");
        let (estado, monto) = (at("Estado"), at("Monto"));
        for r in tab.iter_mut() {
            match r[0].as_str() {
                "PAG-000103" => r[estado] = "Pagado".into(),
                "PAG-000102" => r[monto] = "$400".into(),
                _ => {}
            }
        }
    });
    until(&store, "CLI-0002", "staff's edit read", |p| {
        p[0].status == PaymentStatus::Pagado
    })
    .await;
    // ...but the receipt, which the sheet does not show yet, is not undone by it.
    let ana = payments_of(&store, "CLI-0001").await;
    assert_eq!(ana[1].status, PaymentStatus::PorConfirmar);
    assert_eq!(row(&fake, "PAG-000102")["Estado"], "Vencido");

    // Once written, the row holds both: redsol's receipt and staff's amount.
    fake.clear_faults();
    drained(&store, Duration::from_secs(15)).await;
    let cells = row(&fake, "PAG-000102");
    assert_eq!(
        (
            cells["Estado"].as_str(),
            cells["Comprobante"].as_str(),
            cells["Monto"].as_str()
        ),
        ("Por confirmar", "MEDIA-RECIBO-2", "$400")
    );
    until(&store, "CLI-0001", "the row read back whole", |p| {
        p[1].amount == 400 && p[1].status == PaymentStatus::PorConfirmar
    })
    .await;
}
