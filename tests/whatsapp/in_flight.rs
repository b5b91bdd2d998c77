//! Notices in flight at a `kill -9`, through the real binary: each client is told exactly
//! once. Graph's status of a message carries the notice's id (`biz_opaque_callback_data`);
//! the fake posts it to the webhook until the app takes it, as Meta retries.
//! - One notice Graph accepted, its answer cut by the kill: its status reaches the restarted
//!   app, which does not send it again.
//! - One notice whose request the kill cut before Graph accepted it: no status comes, and it
//!   is sent again once `notices.confirm_wait_secs` has passed.

use crate::binary::{self, App};
use crate::fake_graph::{FakeGraph, Recorded, Script};
use crate::notices::{declare_norte, demo_phones, is_outage_notice};
use crate::support::{counter, http_get, Server};
use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

const SECRET: &str = "in-flight-app-secret";
const TOKEN: &str = "in-flight-access-token";
const PHONE_ID: &str = "1098765436";
const ADMIN: &str = "in-flight-admin-token";
const APP: App = App {
    phone_id: PHONE_ID,
    token: TOKEN,
    secret: SECRET,
    admin: ADMIN,
};
const CLIENTS: usize = 60;
/// Longer than the test: the two scripted requests are still waiting at the kill.
const HANG: Duration = Duration::from_secs(300);

fn start(data: &Path, graph: &FakeGraph) -> Server {
    binary::start(
        data,
        graph,
        &APP,
        &format!(
            // No payment reminders (no template, and no demo client wrote): the scripts
            // are for the notices.
            "[store]\ndemo_clients = {CLIENTS}\n\
             [whatsapp]\nmark_read = false\nrequest_timeout_secs = 300\n\
             [notices]\nper_second = 200\nconfirm_wait_secs = 3\n\
             [billing]\nreminder_template = \"\"\n"
        ),
    )
}

fn notices_to(sent: &[Recorded]) -> HashMap<String, usize> {
    let mut by: HashMap<String, usize> = HashMap::new();
    for r in sent.iter().filter(|r| is_outage_notice(r)) {
        *by.entry(r.to.clone()).or_default() += 1;
    }
    by
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_in_flight_at_a_kill_reach_every_client_exactly_once() {
    let norte = demo_phones("Norte", Some(CLIENTS));
    assert!(norte.len() >= 5, "{} Norte clients", norte.len());
    let (arrived, cut) = (norte[0].clone(), norte[1].clone());
    let data = tempfile::tempdir().expect("tempdir");
    let graph = FakeGraph::start(TOKEN, "v23.0", PHONE_ID).await;
    graph.script(Script::accepted_first(HANG).to(&arrived));
    graph.script(Script::delayed(HANG).to(&cut));
    let mut server = start(data.path(), &graph);
    declare_norte(&server, ADMIN).await;
    // Every other client told, and both requests waiting at Graph.
    graph.wait_delayed(2).await;
    graph
        .wait_sent("every notice but the cut one", |sent| {
            let by = notices_to(sent);
            norte
                .iter()
                .filter(|u| **u != cut)
                .all(|u| by.contains_key(u))
        })
        .await;
    server.child.kill().expect("kill -9");
    let _ = server.child.wait();

    // Graph's statuses of the first run reach the app only now, late (as when Meta retries
    // them to a process that was down).
    let server = start(data.path(), &graph);
    graph.send_statuses_to(&server.url("/webhook"), SECRET);
    graph
        .wait_sent_within(
            Duration::from_secs(60),
            "the cut notice sent again",
            |sent| notices_to(sent).contains_key(&cut),
        )
        .await;
    let metrics = http_get(&server.addr, "/metrics");
    let outcome = |o: &str| {
        counter(
            &metrics,
            &format!("redsol_outage_notices_total{{channel=\"whatsapp\",outcome=\"{o}\"}}"),
        )
    };
    assert!(outcome("held") >= 2.0, "both held: {metrics}");
    assert!(outcome("confirmed") >= 1.0, "the arrived one confirmed");
    assert_eq!(outcome("maybe_sent"), 0.0, "none left to chance");
    // The arrived notice was held with the cut one, until the same time: had it not been
    // confirmed, it would have been released with it, before it.
    let by = notices_to(&graph.sent());
    for u in &norte {
        assert_eq!(by.get(u), Some(&1), "{u}: told once");
    }
    let (ok, _) = server.terminate();
    assert!(ok);
}
