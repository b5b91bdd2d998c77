//! The admin API through the real binary: refused without the token, a ticket closed with it
//! (its customer told and asked to rate it, once), and off when no token is set.

use crate::support::Server;

const TOKEN: &str = "an-admin-token-for-tests";

fn close(addr: &str, id: &str, token: Option<&str>, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    write!(
        s,
        "POST /admin/incidents/{id}/close HTTP/1.1\r\nHost: redsol\r\nConnection: close\r\n\
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
    let (ok, _) = server.terminate();
    assert!(ok);
}
