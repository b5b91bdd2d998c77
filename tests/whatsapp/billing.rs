//! Billing through the real binary and the fake Graph API: a demo client on WhatsApp says
//! "ya pagué" and sends a photo of the receipt; staff confirm it through
//! `POST /admin/payments/{id}`, and the customer is told on WhatsApp. Settled once; bad ids and
//! tokens are refused.

use crate::binary::{self, App};
use crate::fake_graph::FakeGraph;
use crate::support::{whatsapp_text, Server};
use redsol::settings::Settings;
use redsol_actors::store::payments::{Payment, PaymentStatus};
use serde_json::{json, Value};
use std::collections::HashMap;

const SECRET: &str = "billing-app-secret";
const TOKEN: &str = "billing-access-token";
const PHONE_ID: &str = "1098765435";
pub const ADMIN: &str = "billing-admin-token";
pub const APP: App = App {
    phone_id: PHONE_ID,
    token: TOKEN,
    secret: SECRET,
    admin: ADMIN,
};

/// A demo client with a period owed, and the payment a receipt settles (the oldest owed), as
/// the binary seeds them today.
fn a_client_who_owes() -> (String, Payment) {
    let settings = Settings::load_from(&HashMap::<String, String>::new()).expect("defaults");
    let clients = settings.demo_clients(settings.store.demo_clients);
    let today =
        redsol_actors::store::civil_from_days((redsol_actors::store::unix_now() / 86_400) as i64);
    let payments =
        redsol_actors::demo::payments::demo_payments(&clients, &settings.rules.billing, today);
    // An overdue period: it is the same whatever the hour (a pending one turns overdue on
    // its due date); the oldest owed of that client.
    let client_id = payments
        .iter()
        .find(|p| p.status == PaymentStatus::Vencido)
        .expect("someone is overdue")
        .client_id
        .clone();
    let owed = payments
        .iter()
        .find(|p| p.client_id == client_id && p.status.owed())
        .expect("owed")
        .clone();
    let client = clients
        .iter()
        .find(|c| c.id == owed.client_id)
        .expect("the client");
    (format!("52{}", client.phone), owed)
}

pub fn image(from: &str, id: &str, media: &str) -> String {
    json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "524640000000", "phone_number_id": PHONE_ID},
            "contacts": [{"profile": {"name": "Cliente"}, "wa_id": from}],
            "messages": [{"from": from, "id": id, "timestamp": "1764000000", "type": "image",
                          "image": {"id": media, "mime_type": "image/jpeg", "sha256": "x"}}]
        }}]}]
    })
    .to_string()
}

pub async fn settle(
    http: &reqwest::Client,
    server: &Server,
    id: &str,
    token: &str,
    body: Value,
) -> (u16, Value) {
    let r = http
        .post(server.url(&format!("/admin/payments/{id}")))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("admin");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_on_whatsapp_is_confirmed_by_staff_and_the_customer_told() {
    let (customer, owed) = a_client_who_owes();
    let data = tempfile::tempdir().expect("tempdir");
    let graph = FakeGraph::start(TOKEN, "v23.0", PHONE_ID).await;
    let server = binary::start(data.path(), &graph, &APP, "[whatsapp]\nmark_read = false\n");
    let http = reqwest::Client::new();
    let to_customer = |s: &[crate::fake_graph::Recorded]| -> Vec<String> {
        s.iter()
            .filter(|m| m.to == customer)
            .map(|m| m.body.clone())
            .collect()
    };

    binary::deliver(
        &http,
        &server,
        &APP,
        whatsapp_text(
            PHONE_ID,
            &customer,
            "Cliente",
            "wamid.b1",
            "ya pague, me mandan mi recibo?",
        ),
    )
    .await;
    graph
        .wait_sent("the receipt asked for", |s| {
            to_customer(s).iter().any(|b| b.contains("comprobante"))
        })
        .await;
    binary::deliver(
        &http,
        &server,
        &APP,
        image(&customer, "wamid.b2", "MEDIA-RECEIPT-1"),
    )
    .await;
    graph
        .wait_sent("the receipt acknowledged", |s| {
            to_customer(s)
                .iter()
                .any(|b| b.contains("por confirmar") && b.contains(&owed.period))
        })
        .await;

    // Refused: no token, a bad id, a bad verdict.
    assert_eq!(
        settle(&http, &server, &owed.id, "nope", json!({"verdict": "ok"}))
            .await
            .0,
        401
    );
    assert_eq!(
        settle(
            &http,
            &server,
            "INC-000001",
            ADMIN,
            json!({"verdict": "ok"})
        )
        .await
        .0,
        400
    );
    assert_eq!(
        settle(
            &http,
            &server,
            &owed.id,
            ADMIN,
            json!({"verdict": "quizas"})
        )
        .await
        .0,
        422
    );

    let (status, body) = settle(&http, &server, &owed.id, ADMIN, json!({"verdict": "ok"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "Pagado");
    assert_eq!(body["customer_told"], true);
    graph
        .wait_sent("the customer told", |s| {
            to_customer(s)
                .iter()
                .any(|b| b.contains("Confirmamos tu pago") && b.contains(&owed.period))
        })
        .await;
    // Settled once.
    assert_eq!(
        settle(&http, &server, &owed.id, ADMIN, json!({"verdict": "ok"}))
            .await
            .0,
        409
    );
    let (ok, _) = server.terminate();
    assert!(ok);
}
