//! A zone outage through the real binary: Alertmanager declares it for Norte; 50 Norte
//! customers report "no hay internet" on WhatsApp and each is told it is known and linked to
//! one FALLA ticket, with no ticket of their own; 5 Sur customers get the usual questions.

use crate::binary::{self, App};
use crate::fake_graph::FakeGraph;
use crate::support::whatsapp_text;
use serde_json::json;

const SECRET: &str = "outage-app-secret";
const TOKEN: &str = "outage-access-token";
const PHONE_ID: &str = "1098765432";
const ADMIN: &str = "outage-admin-token";
const APP: App = App {
    phone_id: PHONE_ID,
    token: TOKEN,
    secret: SECRET,
    admin: ADMIN,
};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_from_a_zone_in_outage_share_one_ticket() {
    let data = tempfile::tempdir().expect("tempdir");
    let graph = FakeGraph::start(TOKEN, "v23.0", PHONE_ID).await;
    let server = binary::start(data.path(), &graph, &APP, "[whatsapp]\nmark_read = false\n");
    let http = reqwest::Client::new();
    let alert = json!({
        "version": "4", "status": "firing", "receiver": "redsol", "groupKey": "{}:{}",
        "alerts": [{"status": "firing", "fingerprint": "a1b2c3",
                    "labels": {"alertname": "ZoneDown", "zone": "Norte"},
                    "annotations": {"cause": "corte de fibra", "eta": "2 h"}}]
    });
    let status = http
        .post(server.url("/alertmanager"))
        .bearer_auth(ADMIN)
        .json(&alert)
        .send()
        .await
        .expect("alertmanager")
        .status();
    assert_eq!(status, 200);

    let norte: Vec<String> = (0..50).map(|n| format!("52146430{n:05}")).collect();
    let sur: Vec<String> = (0..5).map(|n| format!("52146431{n:05}")).collect();
    for (who, zone) in norte
        .iter()
        .map(|u| (u, "norte"))
        .chain(sur.iter().map(|u| (u, "sur")))
    {
        let body = whatsapp_text(
            PHONE_ID,
            who,
            "Vecino",
            &format!("wamid.{who}"),
            &format!("no hay internet en la {zone}"),
        );
        binary::deliver(&http, &server, &APP, body).await;
    }
    let sent = graph
        .wait_sent("a reply to every report", |sent| {
            norte
                .iter()
                .chain(sur.iter())
                .all(|u| sent.iter().any(|m| &m.to == u))
        })
        .await;
    let reply_to = |u: &str| -> String {
        sent.iter()
            .filter(|m| m.to == u)
            .map(|m| m.body.clone())
            .collect()
    };
    for u in &norte {
        let r = reply_to(u);
        assert!(
            r.contains("FALLA-000001") && r.contains("corte de fibra") && r.contains("2 h"),
            "{u}: {r}"
        );
    }
    for u in &sur {
        let r = reply_to(u);
        assert!(!r.contains("FALLA"), "{u}: {r}");
    }
    let (ok, _) = server.terminate();
    assert!(ok);
}
