//! Outage notices through the real binary and the fake Graph API: an Alertmanager alert for
//! Norte reaches every Norte client once (the template for those who have not written, text
//! for one who just did), at no more than `notices.per_second`; the resolved alert reaches
//! them once more with "restablecido"; the same payloads posted again reach nobody.

use crate::binary::{self, App};
use crate::fake_graph::{FakeGraph, Recorded};
use crate::support::{whatsapp_text, Server};
use redsol::settings::Settings;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

const SECRET: &str = "notices-app-secret";
const TOKEN: &str = "notices-access-token";
const PHONE_ID: &str = "1098765433";
const ADMIN: &str = "notices-admin-token";
const APP: App = App {
    phone_id: PHONE_ID,
    token: TOKEN,
    secret: SECRET,
    admin: ADMIN,
};
const PER_SECOND: usize = 200;

/// The WhatsApp ids of the demo clients of a zone, as the binary seeds them (`count` clients
/// in all; `None`: the default count).
pub fn demo_phones(zone: &str, count: Option<usize>) -> Vec<String> {
    let settings = Settings::load_from(&HashMap::<String, String>::new()).expect("defaults");
    let count = count.unwrap_or(settings.store.demo_clients);
    settings
        .demo_clients(count)
        .into_iter()
        .filter(|c| c.zone == zone)
        .map(|c| format!("52{}", c.phone))
        .collect()
}

fn alert(status: &str) -> Value {
    json!({
        "version": "4", "status": status, "receiver": "redsol", "groupKey": "{}:{zone=\"Norte\"}",
        "alerts": [{"status": status, "fingerprint": "n0rte1",
                    "labels": {"alertname": "ZoneDown", "zone": "Norte"},
                    "annotations": {"cause": "corte de fibra", "eta": "2 h"}}]
    })
}

async fn post(http: &reqwest::Client, server: &Server, path: &str, body: &Value) {
    let status = http
        .post(server.url(path))
        .bearer_auth(ADMIN)
        .json(body)
        .send()
        .await
        .expect("post")
        .status();
    assert!(status.is_success(), "{path}: {status}");
}

/// Declares an outage in Norte through the admin API (cause "corte de fibra", ETA "3 h").
pub async fn declare_norte(server: &Server, admin: &str) {
    let status = reqwest::Client::new()
        .post(server.url("/admin/outages"))
        .bearer_auth(admin)
        .json(&json!({"zone": "Norte", "cause": "corte de fibra", "eta": "3 h"}))
        .send()
        .await
        .expect("declare")
        .status();
    assert!(status.is_success(), "{status}");
}

/// Whether a message is an outage notice: one of the notices' templates, or a notice's text.
/// Payment reminders (which the demo clients get on the days before a due date) are not.
pub fn is_outage_notice(r: &Recorded) -> bool {
    let n = redsol_actors::rules::Notices::default();
    match r.kind.as_str() {
        "template" => [n.declared_template, n.eta_template, n.restored_template].contains(&r.body),
        _ => r.body.starts_with("⚠️ Aviso") || r.body.starts_with("✅ Aviso"),
    }
}

/// The outage notices each recipient got.
fn notices_by_user(sent: &[Recorded]) -> HashMap<String, Vec<Recorded>> {
    let mut m: HashMap<String, Vec<Recorded>> = HashMap::new();
    for r in sent.iter().filter(|r| is_outage_notice(r)) {
        m.entry(r.to.clone()).or_default().push(r.clone());
    }
    m
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_reaches_every_client_of_the_zone_once_and_its_end_once_more() {
    let norte = demo_phones("Norte", None);
    let sur = demo_phones("Sur", None);
    assert!(norte.len() >= 20, "{} Norte clients", norte.len());
    let data = tempfile::tempdir().expect("tempdir");
    let graph = FakeGraph::start(TOKEN, "v23.0", PHONE_ID).await;
    let server = binary::start(
        data.path(),
        &graph,
        &APP,
        &format!("[whatsapp]\nmark_read = false\n[notices]\nper_second = {PER_SECOND}\n"),
    );
    let http = reqwest::Client::new();
    // One Norte client wrote just now: inside the window, they get text.
    let recent = norte[0].clone();
    let body = whatsapp_text(PHONE_ID, &recent, "Vecina", "wamid.hola1", "hola");
    binary::deliver(&http, &server, &APP, body).await;
    graph
        .wait_sent("the greeting", |s| s.iter().any(|m| m.to == recent))
        .await;

    post(&http, &server, "/alertmanager", &alert("firing")).await;
    let sent = graph
        .wait_sent_within(
            Duration::from_secs(60),
            "a notice to every Norte client",
            |s| {
                let by = notices_by_user(s);
                norte.iter().all(|u| by.contains_key(u))
            },
        )
        .await;
    let by = notices_by_user(&sent);
    let first = &by[&recent][0];
    assert_eq!(first.kind, "text", "inside the window: text");
    assert!(
        first.body.contains("corte de fibra") && first.body.contains("2 h"),
        "{}",
        first.body
    );
    for u in norte.iter().skip(1) {
        let n = &by[u][0];
        assert_eq!(n.kind, "template", "{u}: outside the window, the template");
        assert_eq!(n.body, "falla_zona");
        assert_eq!(n.ids, ["es_MX"]);
        assert_eq!(n.titles, ["Norte", "corte de fibra", "2 h"]);
    }
    assert!(
        sur.iter().all(|u| !by.contains_key(u)),
        "nobody outside Norte"
    );
    // At the configured rate: never more than PER_SECOND (plus one tick's batch) in a second.
    let mut times: Vec<_> = sent
        .iter()
        .filter(|r| r.kind == "template")
        .map(|r| r.at)
        .collect();
    times.sort();
    for (i, t) in times.iter().enumerate() {
        let in_a_second = times[i..]
            .iter()
            .take_while(|u| **u - *t < Duration::from_secs(1))
            .count();
        assert!(
            in_a_second <= PER_SECOND + PER_SECOND / 10,
            "{in_a_second} notices within a second"
        );
    }

    // The same alert again (Alertmanager repeats), then its end, twice.
    post(&http, &server, "/alertmanager", &alert("firing")).await;
    post(&http, &server, "/alertmanager", &alert("resolved")).await;
    post(&http, &server, "/alertmanager", &alert("resolved")).await;
    let sent = graph
        .wait_sent_within(
            Duration::from_secs(60),
            "a restored notice to every Norte client",
            |s| {
                let by = notices_by_user(s);
                norte
                    .iter()
                    .all(|u| by.get(u).is_some_and(|v| v.len() >= 2))
            },
        )
        .await;
    // A marker after everything: a Sur outage, told to Sur; by then anything repeated for
    // Norte would have been sent (notices go out in the order they were queued).
    let sur_alert = json!({"zone": "Sur", "cause": "mantenimiento", "eta": "1 h"});
    post(&http, &server, "/admin/outages", &sur_alert).await;
    let sent_all = graph
        .wait_sent_within(Duration::from_secs(60), "the Sur notices", |s| {
            let by = notices_by_user(s);
            sur.iter().all(|u| by.contains_key(u))
        })
        .await;
    let by = notices_by_user(&sent_all);
    for u in &norte {
        let got = &by[u];
        assert_eq!(
            got.len(),
            2,
            "{u}: declared and restored, once each: {got:?}"
        );
        let restored = &got[1];
        assert!(
            restored.body == "servicio_restablecido" || restored.body.contains("restablecido"),
            "{u}: {}",
            restored.body
        );
    }
    assert!(sent.len() <= sent_all.len());
    let (ok, _) = server.terminate();
    assert!(ok);
}
