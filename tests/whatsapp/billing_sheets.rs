//! Billing on Google Sheets, through the real binary, the fake Graph API and the fake Google:
//! a client's receipt shows up in the `Pagos` tab, staff reject it and then confirm a second
//! one through the admin API, and each answer reaches the customer and the row. A number that
//! is no client's is asked to prove it and locked out after three wrong tries.

use crate::billing::{image, settle, ADMIN, APP};
use crate::binary;
use crate::fake::{FakeGoogle, SPREADSHEET_ID};
use crate::fake_graph::{FakeGraph, Recorded};
use crate::seed::{records, seed};
use crate::support::{whatsapp_text, Server};
use serde_json::json;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Ana Ruiz (CLI-0001) in the seeded sheet, who owes November (`PAG-000102`, Vencido).
const ANA: &str = "524421110001";

/// Waits (bounded) until the row `PAG-000102` satisfies `ok`.
async fn row_until(fake: &FakeGoogle, what: &str, ok: impl Fn(&HashMap<String, String>) -> bool) {
    let start = Instant::now();
    loop {
        let row = records(fake, "Pagos")
            .into_iter()
            .find(|r| r["ID Pago"] == "PAG-000102")
            .expect("the row");
        if ok(&row) {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{what}: the row is {row:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn to_ana(sent: &[Recorded]) -> Vec<String> {
    sent.iter()
        .filter(|m| m.to == ANA)
        .map(|m| m.body.clone())
        .collect()
}

async fn say(http: &reqwest::Client, server: &Server, id: &str, text: &str) {
    binary::deliver(
        http,
        server,
        &APP,
        whatsapp_text(APP.phone_id, ANA, "Ana", id, text),
    )
    .await;
}

/// "ya pagué", then a photo of the receipt: acknowledged as the `n`th "por confirmar".
async fn send_receipt(
    http: &reqwest::Client,
    server: &Server,
    graph: &FakeGraph,
    n: usize,
    media: &str,
) {
    say(http, server, &format!("wamid.s{n}a"), "ya pague").await;
    graph
        .wait_sent("the receipt asked for", |s| {
            to_ana(s)
                .iter()
                .filter(|b| b.contains("comprobante"))
                .count()
                >= n
        })
        .await;
    binary::deliver(
        http,
        server,
        &APP,
        image(ANA, &format!("wamid.s{n}b"), media),
    )
    .await;
    graph
        .wait_sent("the receipt acknowledged", |s| {
            to_ana(s)
                .iter()
                .filter(|b| b.contains("por confirmar") && b.contains("2026-11"))
                .count()
                >= n
        })
        .await;
}

/// Staff answer Ana's report through the admin API; she is told, in words holding `told`.
async fn staff_answer(
    http: &reqwest::Client,
    server: &Server,
    graph: &FakeGraph,
    verdict: serde_json::Value,
    told: &[&str],
) {
    let (status, body) = settle(http, server, "PAG-000102", ADMIN, verdict).await;
    assert_eq!(status, 200, "{body}");
    graph
        .wait_sent("the customer told", |s| {
            to_ana(s).iter().any(|b| told.iter().all(|t| b.contains(t)))
        })
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_reaches_the_sheet_and_staff_answers_reach_the_customer_and_the_row() {
    let fake = FakeGoogle::start().await;
    seed(&fake);
    let data = tempfile::tempdir().expect("tempdir");
    let key = fake.write_service_account(data.path());
    let key = key.to_str().expect("utf-8").to_string();
    let sheets_url = fake.base_url();
    let graph = FakeGraph::start(APP.token, "v23.0", APP.phone_id).await;
    let server = binary::start_with(
        data.path(),
        &graph,
        &APP,
        // The stranger's eight quick turns stay under the inbound limit.
        "[whatsapp]\nmark_read = false\n[rules.limits]\ninbound_burst = 20\n",
        &[
            ("GOOGLE_SHEETS_ID", SPREADSHEET_ID),
            ("GOOGLE_APPLICATION_CREDENTIALS", &key),
            ("SHEETS_API_URL", &sheets_url),
        ],
    );
    let http = reqwest::Client::new();

    // Her balance is the sheet's, with her reference.
    let reference = redsol::settings::Settings::load_from(&HashMap::<String, String>::new())
        .expect("defaults")
        .rules
        .billing
        .reference("CLI-0001");
    say(&http, &server, "wamid.s0", "cuanto debo?").await;
    graph
        .wait_sent("the balance", |s| {
            to_ana(s)
                .iter()
                .any(|b| b.contains("450") && b.contains("2026-11") && b.contains(&reference))
        })
        .await;

    send_receipt(&http, &server, &graph, 1, "MEDIA-SHEET-1").await;
    row_until(&fake, "the receipt in the sheet", |r| {
        r["Estado"] == "Por confirmar" && r["Comprobante"] == "MEDIA-SHEET-1"
    })
    .await;

    staff_answer(
        &http,
        &server,
        &graph,
        json!({"verdict": "rechazar", "reason": "no aparece el depósito"}),
        &["No pudimos confirmar", "no aparece"],
    )
    .await;
    row_until(&fake, "owed again in the sheet", |r| {
        r["Estado"] == "Vencido"
    })
    .await;

    send_receipt(&http, &server, &graph, 2, "MEDIA-SHEET-2").await;
    row_until(&fake, "the second receipt in the sheet", |r| {
        r["Estado"] == "Por confirmar" && r["Comprobante"] == "MEDIA-SHEET-2"
    })
    .await;
    staff_answer(
        &http,
        &server,
        &graph,
        json!({"verdict": "ok"}),
        &["Confirmamos tu pago", "2026-11"],
    )
    .await;
    let today =
        redsol_actors::store::civil_from_days((redsol_actors::store::unix_now() / 86_400) as i64);
    let today = format!("{:04}-{:02}-{:02}", today.0, today.1, today.2);
    row_until(&fake, "paid in the sheet", |r| {
        r["Estado"] == "Pagado" && r["Fecha Pago"] == today
    })
    .await;
    assert_eq!(records(&fake, "Pagos").len(), 3, "no row added");

    // A number that is no client's must prove it is the holder; three wrong tries lock it out,
    // the right answer included.
    let stranger = "525550009999";
    let from_stranger = |s: &[Recorded]| -> Vec<String> {
        s.iter()
            .filter(|m| m.to == stranger)
            .map(|m| m.body.clone())
            .collect()
    };
    let turns = [
        ("cuanto debo", "número de cliente"),
        ("CLI-0001", "últimos 4 dígitos"),
        ("0000", "Te quedan 2"),
        ("CLI-0001", "últimos 4 dígitos"),
        ("1234", "Te quedan 1"),
        ("CLI-0001", "últimos 4 dígitos"),
        ("9999", "bloqueé"),
        ("cuanto debo", "bloqueé"),
    ];
    for (n, (text, expected)) in turns.iter().enumerate() {
        binary::deliver(
            &http,
            &server,
            &APP,
            whatsapp_text(APP.phone_id, stranger, "X", &format!("wamid.v{n}"), text),
        )
        .await;
        graph
            .wait_sent(expected, |s| from_stranger(s).len() > n)
            .await;
        let got = from_stranger(&graph.sent())[n].clone();
        assert!(got.contains(expected), "after {text:?}: {got}");
        assert!(!got.contains("450"), "nothing of the account: {got}");
    }
    let (ok, _) = server.terminate();
    assert!(ok);
}
