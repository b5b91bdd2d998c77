//! A ticket's follow-up through the real binary on the Sheets backend: a customer reports a
//! fault on Telegram, staff mark it "Resuelto" in the (fake) sheet, the customer is told and
//! rates it 2, and the ticket is reopened with the staff group alerted.

use crate::fake::{update, FakeTelegram};
use crate::fake_google::{FakeGoogle, SPREADSHEET_ID};
use crate::harness::TOKEN;
use crate::support::Server;
use redsol::sheets::table::{
    CLIENT_HEADERS, INCIDENT_HEADERS, PAYMENT_HEADERS, PROSPECT_HEADERS, SURVEY_HEADERS,
};

const GROUP: i64 = -100_888;
const STAFF: i64 = 4242;
const CUSTOMER: i64 = 6161;

fn column(header: &str) -> usize {
    INCIDENT_HEADERS
        .iter()
        .position(|h| *h == header)
        .unwrap_or_else(|| panic!("no column {header}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ticket_closed_in_the_sheet_is_told_rated_and_reopened() {
    let google = FakeGoogle::start().await;
    google.set_tab("Clientes", vec![CLIENT_HEADERS.to_vec()]);
    google.set_tab("Incidentes", vec![INCIDENT_HEADERS.to_vec()]);
    google.set_tab("Prospectos", vec![PROSPECT_HEADERS.to_vec()]);
    google.set_tab("Encuestas", vec![SURVEY_HEADERS.to_vec()]);
    google.set_tab("Pagos", vec![PAYMENT_HEADERS.to_vec()]);
    let telegram = FakeTelegram::start(TOKEN).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let key = google.write_service_account(dir.path());
    let config = dir.path().join("redsol.toml");
    std::fs::write(&config, "[sheets]\ncache_ttl_secs = 1\n").expect("config");
    let (config, key) = (
        config.to_str().expect("utf-8").to_string(),
        key.to_str().expect("utf-8").to_string(),
    );
    let (sheets_url, staff, group) = (google.base_url(), STAFF.to_string(), GROUP.to_string());
    let server = Server::start(
        &[],
        &dir.path().join("data"),
        &[
            ("REDSOL_CONFIG", config.as_str()),
            ("TELEGRAM_BOT_TOKEN", TOKEN),
            ("TELEGRAM_API_URL", &telegram.url),
            ("GOOGLE_SHEETS_ID", SPREADSHEET_ID),
            ("GOOGLE_APPLICATION_CREDENTIALS", &key),
            ("SHEETS_API_URL", &sheets_url),
            ("REDSOL_ADMIN_TELEGRAM_IDS", &staff),
            ("REDSOL_STAFF_CHAT_ID", &group),
        ],
    );
    let customer = update::user(CUSTOMER, "Lupita", None);
    let to_customer = |f: &FakeTelegram| -> Vec<String> {
        f.sent()
            .into_iter()
            .filter(|m| m.chat_id == CUSTOMER)
            .map(|m| m.text)
            .collect()
    };

    // The report, confirmed.
    for (said, answer) in [
        ("no tengo internet desde ayer", "reiniciaste"),
        ("si", "¿Lo confirmo"),
        ("sí", "Incidente registrado"),
    ] {
        telegram.push("message", update::text(&customer, said));
        telegram
            .wait_until(answer, |f| {
                to_customer(f).iter().any(|t| t.contains(answer))
            })
            .await;
    }
    // In the sheet, then marked "Resuelto" by staff at once (before redsol reads it back).
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    let id = loop {
        let rows = google.tab("Incidentes").expect("tab");
        if let Some(row) = rows.get(1) {
            break row[column("ID")].clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the incident never reached the sheet"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    google.edit(|tabs| {
        tabs.get_mut("Incidentes").expect("tab")[1][column("Estado")] = "Resuelto".into();
    });
    telegram
        .wait_until("the customer told", |f| {
            to_customer(f).iter().any(|t| t.contains("quedó resuelto"))
        })
        .await;
    let notice = telegram
        .sent()
        .into_iter()
        .find(|m| m.chat_id == CUSTOMER && m.text.contains("quedó resuelto"))
        .expect("notice");
    assert!(notice.text.contains(&id), "{}", notice.text);
    let two = notice
        .buttons
        .iter()
        .find(|b| b.ends_with(":2"))
        .expect("rating buttons")
        .clone();

    telegram.push("callback_query", update::callback(&customer, "r1", &two));
    telegram
        .wait_until("reopened and alerted", |f| {
            let reopened = to_customer(f).iter().any(|t| t.contains("Reabrí"));
            let alerted = f.sent().iter().any(|m| {
                m.chat_id == GROUP && m.text.contains(&id) && m.text.contains("calificó con 2")
            });
            reopened && alerted
        })
        .await;
    // The sheet shows it: "Reabierto" in the ticket's Estado, the rating in Encuestas.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let estado = google.tab("Incidentes").expect("tab")[1][column("Estado")].clone();
        let surveys = google.tab("Encuestas").expect("tab");
        if estado == "Reabierto" && surveys.len() == 2 {
            assert!(
                surveys[1].contains(&id) && surveys[1].contains(&"2".to_string()),
                "{surveys:?}"
            );
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the sheet never showed the reopening: Estado {estado}, {surveys:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Told once: the reopening written back is not a closure.
    let told = to_customer(&telegram)
        .iter()
        .filter(|t| t.contains("quedó resuelto"))
        .count();
    assert_eq!(told, 1);
    let (ok, _) = server.terminate();
    assert!(ok);
}
