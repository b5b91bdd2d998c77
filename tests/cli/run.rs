use crate::support::{http_get, metric, Server};

#[test]
fn run_serves_metrics_of_a_console_conversation_and_stops_on_sigterm() {
    let data = tempfile::tempdir().expect("tempdir");
    let mut server = Server::start(&[], data.path(), &[]);
    // The log says which variables would enable the other channels.
    assert!(
        server
            .startup_log
            .iter()
            .any(|l| l.contains("TELEGRAM_BOT_TOKEN")),
        "{:?}",
        server.startup_log
    );

    // A registration through the console.
    server.write_stdin("Zona: Sur, Plan: 20 Mbps\nPaola Ríos\nsí\n");
    let seen = server.read_stdout_until("técnico te contactará");
    assert!(seen.contains("$350/mes"), "{seen}");

    let addr = server.addr.clone();
    assert!(http_get(&addr, "/health").starts_with("HTTP/1.1 200"));
    assert!(http_get(&addr, "/ready").starts_with("HTTP/1.1 200"));
    let metrics = http_get(&addr, "/metrics");
    for (series, value) in [
        ("redsol_registrations_total{channel=\"console\"}", 1.0),
        ("redsol_messages_received_total{channel=\"console\"}", 3.0),
        (
            "redsol_messages_sent_total{channel=\"console\",outcome=\"ok\"}",
            3.0,
        ),
        ("redsol_conversations_active{channel=\"console\"}", 1.0),
        ("redsol_response_seconds_count{channel=\"console\"}", 3.0),
        ("redsol_actor_restarts_total{actor=\"conversation\"}", 0.0),
    ] {
        assert_eq!(metric(&metrics, series), value, "{series}");
    }
    assert!(
        metric(
            &metrics,
            "redsol_intents_total{intent=\"register\",source=\"rules\"}"
        ) >= 1.0
    );
    assert!(
        metrics.contains("redsol_store_request_seconds_bucket{backend=\"sqlite\",op=\"save_prospect\",outcome=\"ok\",le=\"60\"}"),
        "{metrics}"
    );
    assert!(!metrics.contains("Paola"), "no user data in metrics");

    let (ok, rest) = server.terminate();
    assert!(ok, "graceful exit on SIGTERM");
    assert!(rest.iter().any(|l| l.contains("stopped")), "{rest:?}");
}

#[test]
fn metrics_can_have_a_listener_of_their_own() {
    let data = tempfile::tempdir().expect("tempdir");
    let config = data.path().join("redsol.toml");
    std::fs::write(&config, "[server]\nmetrics_addr = \"127.0.0.1:0\"\n").expect("config");
    let config = config.to_str().expect("utf-8 path").to_string();
    let server = Server::start(&[], data.path(), &[("REDSOL_CONFIG", config.as_str())]);
    let metrics_addr = server
        .startup_log
        .iter()
        .find_map(|l| {
            let i = l.find("metrics_listener=")?;
            l[i + "metrics_listener=".len()..]
                .split_whitespace()
                .next()
                .map(str::to_string)
        })
        .unwrap_or_else(|| panic!("no metrics listener in {:?}", server.startup_log));
    let own = http_get(&metrics_addr, "/metrics");
    assert!(own.starts_with("HTTP/1.1 200"), "{own}");
    assert!(own.contains("redsol_actor_restarts_total"), "{own}");
    let public = http_get(&server.addr, "/metrics");
    assert!(
        public.starts_with("HTTP/1.1 404"),
        "not on the public listener: {public}"
    );
    assert!(http_get(&server.addr, "/ready").starts_with("HTTP/1.1 200"));
    let (ok, _) = server.terminate();
    assert!(ok);
}

#[test]
fn a_client_that_trickles_its_headers_is_cut_off() {
    use std::io::{Read, Write};
    let data = tempfile::tempdir().expect("tempdir");
    let config = data.path().join("redsol.toml");
    std::fs::write(&config, "[server]\nheader_timeout_secs = 1\n").expect("config");
    let config = config.to_str().expect("utf-8 path").to_string();
    let server = Server::start(&[], data.path(), &[("REDSOL_CONFIG", config.as_str())]);
    let mut slow = std::net::TcpStream::connect(&server.addr).expect("connect");
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: redsol\r\n")
        .expect("half the headers");
    // Bounded: the server closes the connection after its header timeout (1 s), long before.
    slow.set_read_timeout(Some(std::time::Duration::from_secs(20)))
        .expect("timeout");
    let mut answer = Vec::new();
    // Ok: the server closed it; an error: the 20 s bound passed with the connection open.
    let read = slow.read_to_end(&mut answer);
    assert!(
        read.is_ok(),
        "the connection was closed by the server: {read:?}"
    );
    assert!(
        !String::from_utf8_lossy(&answer).contains("ok"),
        "no answer to an unfinished request"
    );
    // A whole request is still answered.
    assert!(http_get(&server.addr, "/health").starts_with("HTTP/1.1 200"));
    let (ok, _) = server.terminate();
    assert!(ok);
}
