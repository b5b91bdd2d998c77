//! A campaign of over 5,000 outage notices through the real binary, killed with SIGKILL
//! midway and started again: every Norte client gets the notice exactly once, at no more than
//! `notices.per_second` (the fake's request times). The fake posts Graph's statuses to the
//! webhook, as Meta does: a notice in flight at the kill is confirmed by its status and not
//! sent again, or, when no status comes, sent again after `notices.confirm_wait_secs`.

use crate::binary::{self, App};
use crate::fake_graph::FakeGraph;
use crate::notices::{declare_norte, demo_phones, is_outage_notice};
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
/// How long notices in flight at the kill wait for their status after the restart.
const CONFIRM_WAIT_SECS: u64 = 5;

fn start(data: &Path, graph: &FakeGraph) -> Server {
    let server = binary::start(
        data,
        graph,
        &APP,
        &format!(
            "[store]\ndemo_clients = {CLIENTS}\noutbox_sweep_secs = 1\n\
             [whatsapp]\nmark_read = false\nsend_per_second = 1000\n\
             [notices]\nper_second = {PER_SECOND}\nmax_backlog = {MAX_BACKLOG}\n\
             confirm_wait_secs = {CONFIRM_WAIT_SECS}\n"
        ),
    );
    graph.send_statuses_to(&server.url("/webhook"), SECRET);
    server
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_campaign_survives_a_kill_with_every_client_told_exactly_once_at_the_rate() {
    let norte = demo_phones("Norte", Some(CLIENTS));
    assert!(norte.len() >= 5_000, "{} Norte clients", norte.len());
    let data = tempfile::tempdir().expect("tempdir");
    let graph = FakeGraph::start(TOKEN, "v23.0", PHONE_ID).await;
    let mut server = start(data.path(), &graph);
    declare_norte(&server, ADMIN).await;
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

    // Wait for the whole campaign, bounded: every client told, nothing waiting in the outbox,
    // and the hold of the notices in flight at the kill over (a second past it, a tick to
    // release them): a notice sent again that should not have been would be in by then.
    let held_until = started_again + Duration::from_secs(CONFIRM_WAIT_SECS + 2);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    let by = loop {
        let mut by: HashMap<String, usize> = HashMap::new();
        for r in graph.sent().iter().filter(|r| is_outage_notice(r)) {
            *by.entry(r.to.clone()).or_default() += 1;
        }
        let missing = norte.iter().filter(|u| !by.contains_key(*u)).count();
        let waiting = metric(&http_get(&server.addr, "/metrics"), "redsol_outbox_pending");
        if missing == 0 && waiting == 0.0 && std::time::Instant::now() > held_until {
            break by;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{missing} clients not told, {waiting} waiting"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let metrics = http_get(&server.addr, "/metrics");
    let outcome = |o: &str| {
        counter(
            &metrics,
            &format!("redsol_outage_notices_total{{channel=\"whatsapp\",outcome=\"{o}\"}}"),
        )
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
        "campaign: {} Norte clients, {told} told, {twice} twice, {} in flight at the kill ({} confirmed by their status, the rest sent again), busiest second {busiest}, {:.1} s from first to last notice (restart took part: {:.1} s after the kill)",
        norte.len(),
        outcome("held"),
        outcome("confirmed"),
        span.as_secs_f64(),
        started_again.elapsed().as_secs_f64()
    );
    assert_eq!(told, norte.len(), "every client told");
    assert_eq!(twice, 0, "no client told twice");
    assert_eq!(outcome("maybe_sent"), 0.0, "none left to chance");
    assert!(
        busiest <= PER_SECOND + 2 * (PER_SECOND / 10) + MAX_BACKLOG,
        "{busiest} notices within a second"
    );
    let (ok, _) = server.terminate();
    assert!(ok);
}
