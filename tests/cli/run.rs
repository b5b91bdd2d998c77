use crate::redsol;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn http_get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut body = String::new();
    s.read_to_string(&mut body).expect("read");
    body
}

fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no series {series} in:\n{text}"))
}

/// Kills the server if the test fails before stopping it.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn terminate(child: &mut Child) {
    let pid = child.id().to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(status.success());
}

#[test]
fn run_serves_metrics_of_a_console_conversation_and_stops_on_sigterm() {
    let data = tempfile::tempdir().expect("tempdir");
    let child = redsol()
        .args(["run"])
        .env("REDSOL_DATA_DIR", data.path())
        .env("MESSAGING_PORT", "0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    let mut server = Server(child);
    let child = &mut server.0;

    // The log says where it listens and which variables would enable the other channels.
    let stderr = child.stderr.take().expect("stderr");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut log = Vec::new();
    let addr = loop {
        let line = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("startup log");
        log.push(line.clone());
        if let Some(i) = line.find("local=") {
            break line[i + 6..]
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
        }
    };
    assert!(
        log.iter().any(|l| l.contains("TELEGRAM_BOT_TOKEN")),
        "{log:?}"
    );

    // A registration through the console.
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all("Zona: Sur, Plan: 20 Mbps\nPaola Ríos\n".as_bytes())
        .expect("write");
    let stdout = child.stdout.take().expect("stdout");
    let (out_tx, out_rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if out_tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut seen = String::new();
    while !seen.contains("técnico te contactará") {
        match out_rx.recv_timeout(Duration::from_secs(30)) {
            Ok(line) => {
                seen.push_str(&line);
                seen.push('\n');
            }
            Err(_) => {
                panic!("no registration in the console output:\n{seen}");
            }
        }
    }
    assert!(seen.contains("$350/mes"), "{seen}");

    assert!(http_get(&addr, "/health").starts_with("HTTP/1.1 200"));
    assert!(http_get(&addr, "/ready").starts_with("HTTP/1.1 200"));
    let metrics = http_get(&addr, "/metrics");
    assert_eq!(
        metric(&metrics, "redsol_registrations_total{channel=\"console\"}"),
        1.0
    );
    assert_eq!(
        metric(
            &metrics,
            "redsol_messages_received_total{channel=\"console\"}"
        ),
        2.0
    );
    assert_eq!(
        metric(
            &metrics,
            "redsol_messages_sent_total{channel=\"console\",outcome=\"ok\"}"
        ),
        2.0
    );
    assert_eq!(
        metric(&metrics, "redsol_conversations_active{channel=\"console\"}"),
        1.0
    );
    assert_eq!(
        metric(
            &metrics,
            "redsol_response_seconds_count{channel=\"console\"}"
        ),
        2.0
    );
    assert!(
        metric(
            &metrics,
            "redsol_intents_total{intent=\"register\",source=\"rules\"}"
        ) >= 1.0
    );
    assert!(metrics.contains("redsol_store_request_seconds_bucket{backend=\"sqlite\",op=\"save_prospect\",outcome=\"ok\",le=\"60\"}"), "{metrics}");
    assert_eq!(
        metric(
            &metrics,
            "redsol_actor_restarts_total{actor=\"conversation\"}"
        ),
        0.0
    );
    assert!(!metrics.contains("Paola"), "no user data in metrics");

    terminate(child);
    let status = child.wait().expect("exits");
    assert!(status.success(), "graceful exit on SIGTERM: {status:?}");
    let rest: Vec<String> = rx.try_iter().collect();
    assert!(rest.iter().any(|l| l.contains("stopped")), "{rest:?}");
}
