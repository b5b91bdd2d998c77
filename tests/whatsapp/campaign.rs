//! A campaign of over 5,000 outage notices through the real binary, killed with SIGKILL
//! midway and started again: every Norte client gets the notice, none twice, at no more than
//! `notices.per_second` (the fake's request times). A notice handed to Graph before the kill
//! is not sent again (at most once): one the kill cut before it reached Graph is missing and
//! counted as `maybe_sent`, so the missing are bounded by that count.

use crate::binary::{self, App};
use crate::fake_graph::FakeGraph;
use crate::notices::{demo_phones, is_outage_notice};
use crate::support::{counter, http_get, metric, Server};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

const SECRET: &str = "campaign-app-secret";
const TOKEN: &str = "campaign-access-token";
const PHONE_ID: &str = "1098765434";
const ADMIN: &str = "campaign-admin-token";
const APP: App = App {
    phone_id: PHONE_ID,
    token: TOKEN,
    secret: SECRET,
    admin: ADMIN,
};
/// Demo clients in all: about a fifth are in Norte.
const CLIENTS: usize = 29_000;
const PER_SECOND: usize = 500;
/// `notices.max_backlog`: what a sender that lagged may still send at once.
const MAX_BACKLOG: usize = 50;

fn start(data: &Path, graph: &FakeGraph) -> Server {
    binary::start(
        data,
        graph,
        &APP,
        &format!(
            "[store]\ndemo_clients = {CLIENTS}\noutbox_sweep_secs = 1\n\
             [whatsapp]\nmark_read = false\nsend_per_second = 1000\n\
             [notices]\nper_second = {PER_SECOND}\nmax_backlog = {MAX_BACKLOG}\n"
        ),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_survives_a_kill_with_every_client_told_at_most_once_at_the_rate() {
    let norte = demo_phones("Norte", Some(CLIENTS));
    assert!(norte.len() >= 5_000, "{} Norte clients", norte.len());
    let data = tempfile::tempdir().expect("tempdir");
    let graph = FakeGraph::start(TOKEN, "v23.0", PHONE_ID).await;
    let mut server = start(data.path(), &graph);
    let status = reqwest::Client::new()
        .post(server.url("/admin/outages"))
        .bearer_auth(ADMIN)
        .json(&serde_json::json!({"zone": "Norte", "cause": "corte de fibra", "eta": "3 h"}))
        .send()
        .await
        .expect("declare")
        .status();
    assert!(status.is_success(), "{status}");
    let half = norte.len() / 2;
    graph
        .wait_sent_within(Duration::from_secs(120), "half the campaign", |s| {
            s.iter().filter(|r| is_outage_notice(r)).count() >= half
        })
        .await;
    // SIGKILL in the middle of the campaign.
    server.child.kill().expect("kill -9");
    let _ = server.child.wait();
    let started_again = std::time::Instant::now();
    let server = start(data.path(), &graph);

    // Wait for the whole campaign, bounded: every client told, or accounted for.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let (by, maybe_sent) = loop {
        let metrics = http_get(&server.addr, "/metrics");
        // None may have been in flight at the kill.
        let maybe_sent = counter(
            &metrics,
            "redsol_outage_notices_total{channel=\"whatsapp\",outcome=\"maybe_sent\"}",
        );
        let waiting = metric(&metrics, "redsol_outbox_pending");
        let mut by: HashMap<String, usize> = HashMap::new();
        for r in graph.sent().iter().filter(|r| is_outage_notice(r)) {
            *by.entry(r.to.clone()).or_default() += 1;
        }
        let missing = norte.iter().filter(|u| !by.contains_key(*u)).count();
        if missing as f64 <= maybe_sent && waiting == 0.0 {
            break (by, maybe_sent);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{missing} clients not told, {maybe_sent} maybe sent, {waiting} waiting"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let told = norte.iter().filter(|u| by.contains_key(*u)).count();
    let twice = norte
        .iter()
        .filter(|u| by.get(*u).is_some_and(|n| *n > 1))
        .count();
    // The configured rate: in any second, at most the batches released in it (PER_SECOND and
    // one more tick's batch) plus what a sender that lagged still held when it began (up to
    // max_backlog plus a batch: the runner releases only below max_backlog).
    let mut times: Vec<_> = graph.sent().iter().map(|r| r.at).collect();
    times.sort();
    let busiest = (0..times.len())
        .map(|i| {
            times[i..]
                .iter()
                .take_while(|t| **t - times[i] < Duration::from_secs(1))
                .count()
        })
        .max()
        .unwrap_or(0);
    let span = match (times.first(), times.last()) {
        (Some(a), Some(b)) => *b - *a,
        _ => Duration::ZERO,
    };
    println!(
        "campaign: {} Norte clients, {told} told, {twice} twice, {maybe_sent} maybe sent (cut by the kill), busiest second {busiest}, {:.1} s from first to last notice (restart took part: {:.1} s after the kill)",
        norte.len(),
        span.as_secs_f64(),
        started_again.elapsed().as_secs_f64()
    );
    assert_eq!(twice, 0, "no client told twice");
    assert!(
        busiest <= PER_SECOND + 2 * (PER_SECOND / 10) + MAX_BACKLOG,
        "{busiest} notices within a second"
    );
    assert!(
        (norte.len() - told) as f64 <= maybe_sent,
        "only notices cut by the kill may be missing"
    );
    let (ok, _) = server.terminate();
    assert!(ok);
}
