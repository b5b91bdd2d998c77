//! A fault run through the real binary: 5,000 WhatsApp messages from 500 users while Graph
//! answers 500 for a window, Gemini never answers in time, and the process is killed with
//! SIGKILL halfway and started again (the messages it had not acknowledged are sent again, and
//! some it had are redelivered). Nothing is lost: every message gets its reply. Nothing is
//! doubled, but for the replies in flight at the kill, which redsol counts
//! (`redsol_resent_after_restart_total`).

#[path = "../gemini/fake.rs"]
#[allow(dead_code)]
mod fake_gemini;
#[allow(dead_code)]
#[path = "../whatsapp/fake_graph.rs"]
mod fake_graph;
#[path = "../support/mod.rs"]
mod support;

use fake_graph::{FakeGraph, Script};
use redsol::whatsapp::signature::sign;
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;
use support::{http_get, metric, whatsapp_text, Server};

const TOKEN: &str = "fault-run-token";
const PHONE_ID: &str = "1098765432";
const SECRET: &str = "fault-run-secret";
const USERS: usize = 500;
const PER_USER: usize = 10;
/// Messages sent at once.
const IN_FLIGHT: usize = 32;

fn user(n: usize) -> String {
    format!("52146420{n:05}")
}

/// One message: most greet; the eighth (after the kill) is one the offline understanding asks
/// Gemini about.
fn body(n: usize, round: usize) -> (String, String) {
    let id = format!("wamid.F{n}.{round}");
    let text = if round == 7 {
        "oye y lo barato"
    } else {
        "hola"
    };
    let delivery = whatsapp_text(PHONE_ID, &user(n), "Cliente", &id, text);
    (id, delivery)
}

fn start(data: &Path, graph: &FakeGraph, gemini: &fake_gemini::FakeGemini) -> Server {
    let config = data.join("redsol.toml");
    std::fs::write(
        &config,
        "[store]\noutbox_sweep_secs = 1\n\
         [whatsapp]\nsend_per_second = 1000\nrecipient_burst = 100\nrecipient_per_second = 100.0\n\
         max_retries = 1\nbackoff_base_ms = 10\nbackoff_max_secs = 1\nmark_read = false\n\
         [brain]\ncall_timeout_ms = 600\nturn_budget_ms = 1500\nmax_retries = 0\n\
         [rules.limits]\ninbound_burst = 1000\ninbound_per_minute = 60000\n",
    )
    .expect("config");
    let config = config.to_str().expect("utf-8").to_string();
    let (graph_url, gemini_url) = (graph.base_url(), gemini.url.clone());
    Server::start(
        &["--mode", "whatsapp"],
        data,
        &[
            ("REDSOL_CONFIG", config.as_str()),
            ("WHATSAPP_PHONE_NUMBER_ID", PHONE_ID),
            ("WHATSAPP_ACCESS_TOKEN", TOKEN),
            ("WHATSAPP_VERIFY_TOKEN", "verify"),
            ("WHATSAPP_APP_SECRET", SECRET),
            ("WHATSAPP_API_URL", &graph_url),
            ("GEMINI_API_KEY", fake_gemini::KEY),
            ("GEMINI_API_URL", &gemini_url),
        ],
    )
}

/// Posts deliveries, `IN_FLIGHT` at a time; the ids acknowledged with 200.
async fn post_all(url: &str, bodies: Vec<(String, String)>) -> Vec<String> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let mut acked = Vec::new();
    for chunk in bodies.chunks(IN_FLIGHT) {
        let mut set = tokio::task::JoinSet::new();
        for (id, body) in chunk.iter().cloned() {
            let (http, url) = (http.clone(), url.to_string());
            set.spawn(async move {
                let signature = sign(SECRET.as_bytes(), body.as_bytes());
                let status = http
                    .post(&url)
                    .header("X-Hub-Signature-256", signature)
                    .body(body)
                    .send()
                    .await
                    .map(|r| r.status().as_u16());
                (id, status)
            });
        }
        while let Some(done) = set.join_next().await {
            if let Ok((id, Ok(200))) = done {
                acked.push(id);
            }
        }
    }
    acked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_is_lost_or_doubled_through_graph_errors_a_slow_gemini_and_a_kill() {
    let data = tempfile::tempdir().expect("tempdir");
    let graph = FakeGraph::start(TOKEN, "v23.0", PHONE_ID).await;
    // A window of Graph errors after the first 1,000 sends.
    graph.script(Script::server_error().after(1_000).times(400));
    let gemini = fake_gemini::FakeGemini::start().await;
    gemini.script((0..USERS * 2).map(|_| fake_gemini::Script::Delay(Duration::from_secs(5))));

    let all: Vec<(String, String)> = (0..PER_USER)
        .flat_map(|round| (0..USERS).map(move |n| body(n, round)))
        .collect();
    let half = all.len() / 2;

    let mut server = start(data.path(), &graph, &gemini);
    let url = server.url("/webhook");
    let acked = post_all(&url, all[..half].to_vec()).await;
    // SIGKILL: no goodbye, whatever is in flight is in flight.
    server.child.kill().expect("kill -9");
    let _ = server.child.wait();

    let server = start(data.path(), &graph, &gemini);
    let url = server.url("/webhook");
    // What was not acknowledged is sent again (Meta retries), and the last 200 acknowledged
    // are redelivered too.
    let unacked: Vec<(String, String)> = all[..half]
        .iter()
        .filter(|(id, _)| !acked.contains(id))
        .cloned()
        .collect();
    let redelivered: Vec<(String, String)> = all[..half]
        .iter()
        .filter(|(id, _)| acked[acked.len().saturating_sub(200)..].contains(id))
        .cloned()
        .collect();
    let mut rest = unacked;
    rest.extend(redelivered);
    rest.extend(all[half..].iter().cloned());
    let acked_after = post_all(&url, rest).await;
    assert!(!acked_after.is_empty());

    // Every message answered: PER_USER replies each (bounded wait, on the fake's records).
    let counts = |sent: &[fake_graph::Recorded]| {
        let mut by_user: HashMap<String, usize> = HashMap::new();
        for m in sent {
            *by_user.entry(m.to.clone()).or_default() += 1;
        }
        by_user
    };
    graph
        .wait_sent_within(
            Duration::from_secs(120),
            "a reply to every message",
            |sent| {
                let c = counts(sent);
                (0..USERS).all(|n| c.get(&user(n)).copied().unwrap_or(0) >= PER_USER)
            },
        )
        .await;
    // And nothing left to send: the outbox drained (bounded poll of /metrics).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut metrics = http_get(&server.addr, "/metrics");
    while metric(&metrics, "redsol_outbox_pending") > 0.0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the outbox never drained"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        metrics = http_get(&server.addr, "/metrics");
    }
    let c = counts(&graph.sent());
    let doubled: usize = (0..USERS)
        .map(|n| {
            c.get(&user(n))
                .copied()
                .unwrap_or(0)
                .saturating_sub(PER_USER)
        })
        .sum();
    let resent = metric(
        &metrics,
        "redsol_resent_after_restart_total{channel=\"whatsapp\"}",
    );
    // The faults did happen: Graph refused its whole window, Gemini was asked, never in time.
    let refused = graph.requests().iter().filter(|r| r.status == 500).count();
    // Gemini timed out (then its breaker opened): the answers came from the offline NLU.
    let asked = metrics
        .lines()
        .filter(|l| l.starts_with("redsol_llm_request_seconds_count"))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum::<f64>();
    let timed_out = metric(
        &metrics,
        "redsol_llm_request_seconds_count{outcome=\"timeout\"}",
    );
    println!(
        "fault run: {} messages from {USERS} users, {} replies, {doubled} doubled, {resent} resent after the kill, {refused} Graph errors, {asked} Gemini calls ({timed_out} timed out)",
        all.len(),
        c.values().sum::<usize>()
    );
    assert_eq!(refused, 400, "the whole window of Graph errors was met");
    assert!(timed_out >= 1.0, "{asked} Gemini calls, none timed out");
    assert!(gemini.problems().is_empty(), "{:?}", gemini.problems());
    assert!(
        doubled as f64 <= resent,
        "{doubled} replies doubled, only {resent} were in flight at the kill"
    );
    let (ok, _) = server.terminate();
    assert!(ok);
}
