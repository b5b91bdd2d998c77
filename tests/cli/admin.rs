//! The admin API through the real binary: refused without the token, a ticket closed with it
//! (its customer told and asked to rate it, once), and off when no token is set.

use crate::support::Server;

const TOKEN: &str = "an-admin-token-for-tests";

fn close(addr: &str, id: &str, token: Option<&str>, body: &str) -> (u16, String) {
    post(addr, &format!("/admin/incidents/{id}/close"), token, body)
}

fn post(addr: &str, path: &str, token: Option<&str>, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: redsol\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n{auth}\r\n{body}",
        body.len()
    )
    .expect("request");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("answer");
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, answer)
}

#[test]
fn staff_tools_close_a_ticket_and_its_customer_rates_it() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start(&[], data.path(), &[("REDSOL_ADMIN_TOKEN", TOKEN)]);
    server.write_stdin("no tengo internet desde ayer\nsi\nsí\n");
    let seen = server.read_stdout_until("Incidente registrado");
    let id = seen
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .find(|w| w.starts_with("INC-"))
        .expect("a ticket id")
        .to_string();

    let note = r#"{"note": "cambiamos el conector"}"#;
    assert_eq!(close(&server.addr, &id, None, note).0, 401);
    assert_eq!(close(&server.addr, &id, Some("wrong"), note).0, 401);
    assert_eq!(close(&server.addr, "PRO-000001", Some(TOKEN), note).0, 400);
    let (status, body) = close(&server.addr, &id, Some(TOKEN), note);
    assert_eq!(status, 200, "{body}");
    assert!(!body.contains(TOKEN));
    let told = server.read_stdout_until("Califica del 1 al 5");
    assert!(told.contains("cambiamos el conector"), "{told}");
    assert_eq!(
        close(&server.addr, &id, Some(TOKEN), note).0,
        409,
        "closed once"
    );

    server.write_stdin("5\n");
    server.read_stdout_until("calificarnos con 5");
    let (ok, log) = server.terminate();
    assert!(ok);
    assert!(
        log.iter().all(|l| !l.contains(TOKEN)),
        "the token is never logged"
    );
}

#[test]
fn without_a_token_the_admin_api_is_off() {
    let data = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&[], data.path(), &[]);
    assert_eq!(close(&server.addr, "INC-000001", Some(""), "{}").0, 404);
    let (ok, log) = server.terminate();
    assert!(ok, "{log:#?}");
}

/// Alertmanager's webhook payload (version 4) with one alert.
fn alert(status: &str, fingerprint: &str, zone: &str) -> String {
    serde_json::json!({
        "version": "4",
        "groupKey": "{}:{alertname=\"ZoneDown\"}",
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "redsol",
        "groupLabels": {"alertname": "ZoneDown"},
        "commonLabels": {"alertname": "ZoneDown", "zone": zone},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager:9093",
        "alerts": [{
            "status": status,
            "labels": {"alertname": "ZoneDown", "zone": zone, "instance": "olt-norte-1"},
            "annotations": {"cause": "corte de fibra", "eta": "2 h"},
            "startsAt": "2026-12-06T03:00:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph",
            "fingerprint": fingerprint
        }]
    })
    .to_string()
}

#[test]
fn network_monitoring_and_staff_tools_declare_and_end_outages() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start(&[], data.path(), &[("REDSOL_ADMIN_TOKEN", TOKEN)]);
    let firing = alert("firing", "5f3c2a1b", "Norte");

    assert_eq!(post(&server.addr, "/alertmanager", None, &firing).0, 401);
    assert_eq!(
        post(&server.addr, "/alertmanager", Some("nope"), &firing).0,
        401
    );
    assert_eq!(
        post(
            &server.addr,
            "/alertmanager",
            Some(TOKEN),
            "{\"alerts\": 7}"
        )
        .0,
        400
    );
    server.write_stdin("no hay internet en la norte\n");
    let seen = server.read_stdout_until("¿Desde cuándo");
    assert!(!seen.contains("FALLA-"), "nothing declared yet: {seen}");
    server.write_stdin("cancelar\n");

    for _ in 0..2 {
        let (status, body) = post(&server.addr, "/alertmanager", Some(TOKEN), &firing);
        assert_eq!(status, 200, "{body}");
    }
    server.write_stdin("no hay internet en la norte\n");
    let told = server.read_stdout_until("FALLA-");
    assert!(
        told.contains("FALLA-000001") && told.contains("corte de fibra"),
        "{told}"
    );
    assert!(
        !told.contains("FALLA-000002"),
        "the repeat declared nothing new: {told}"
    );

    let resolved = alert("resolved", "5f3c2a1b", "Norte");
    let (_, first) = post(&server.addr, "/alertmanager", Some(TOKEN), &resolved);
    let (_, again) = post(&server.addr, "/alertmanager", Some(TOKEN), &resolved);
    assert!(
        first.contains("\"resolved\":1") && again.contains("\"resolved\":0"),
        "{first} {again}"
    );

    // Staff's tools: a Sur outage, declared once, ended once.
    let sur = r#"{"zone": "sur", "cause": "mantenimiento", "eta": "hoy 18:00"}"#;
    let (status, body) = post(&server.addr, "/admin/outages", Some(TOKEN), sur);
    assert_eq!(status, 201, "{body}");
    assert!(
        body.contains("FALLA-000002") && body.contains("\"zone\":\"Sur\""),
        "{body}"
    );
    assert_eq!(
        post(&server.addr, "/admin/outages", Some(TOKEN), sur).0,
        200
    );
    let bad = r#"{"zone": "Marte"}"#;
    assert_eq!(
        post(&server.addr, "/admin/outages", Some(TOKEN), bad).0,
        422
    );
    let path = "/admin/outages/FALLA-000002/resolve";
    assert_eq!(post(&server.addr, path, Some(TOKEN), "").0, 200);
    assert_eq!(post(&server.addr, path, Some(TOKEN), "").0, 409);
    let (ok, log) = server.terminate();
    assert!(ok);
    assert!(log.iter().all(|l| !l.contains(TOKEN)));
}
