//! The outage storm: an outage is declared in Norte, then `--users` customers write twice
//! each ("no hay internet...", then "sigue sin servicio...") within `--seconds`, at Meta's
//! default pacing (80 messages a second for the number) and the default per-user limits.
//! With `--kill-at S`, redsol is killed with SIGKILL S seconds in and started again on the
//! same data; deliveries it did not acknowledge are posted again, as Meta does.
//!
//! It prints the webhook acknowledgements' p50/p99, the replies and how they were paced (the
//! busiest second at the sink), how many users got one message for their two, users left
//! without an answer or answered more often than they wrote, redsol's RSS as the backlog
//! grows and drains, and when the campaign of outage notices ran against the replies.

use super::process::{metric, metrics, rss_mib, start_redsol};
use super::{percentile, Sink, ADMIN_TOKEN, PHONE_ID, SECRET};
use redsol::whatsapp::signature::sign;
use std::path::Path;
use std::process::Child;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the two messages of a user say.
const FIRST: [&str; 4] = [
    "no hay internet en la norte",
    "oigan se fue el internet, vivo en la norte",
    "no tengo servicio desde hace rato, colonia norte",
    "se cayo el internet en la zona norte??",
];
const SECOND: [&str; 3] = [
    "sigue sin servicio",
    "ya reinicie el modem y nada",
    "para cuando regresa?",
];

/// What the bench sees of redsol every second.
#[derive(Clone, Copy)]
struct Sample {
    at: f64,
    rss: f64,
    /// `redsol_outbox_pending`.
    backlog: f64,
    /// Notices released by the campaign so far (since the last start).
    released: f64,
}

pub struct Storm {
    pub users: usize,
    pub seconds: u64,
    pub kill_at: Option<u64>,
}

fn delivery(user: &str, id: &str, text: &str) -> String {
    serde_json::json!({"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {"metadata": {"phone_number_id": PHONE_ID}, "contacts": [{"wa_id": user, "profile": {"name": "Cliente"}}], "messages": [{"from": user, "id": id, "type": "text", "text": {"body": text}}]}}]}]}).to_string()
}

/// Posts one delivery; its acknowledgement time when redsol answered 200.
async fn post(http: &reqwest::Client, url: &str, body: String) -> Option<Duration> {
    let signature = sign(SECRET.as_bytes(), body.as_bytes());
    let t0 = Instant::now();
    let ok = http
        .post(url)
        .header("X-Hub-Signature-256", signature)
        .body(body)
        .send()
        .await
        .is_ok_and(|r| r.status().is_success());
    ok.then(|| t0.elapsed())
}

/// Notices (outage and reminders) the campaign released so far.
const RELEASED: [&str; 2] = [
    "redsol_reminders_total{channel=\"whatsapp\",outcome=\"released\"}",
    "redsol_outage_notices_total{channel=\"whatsapp\",outcome=\"released\"}",
];

pub async fn run(
    storm: Storm,
    redsol: &Path,
    data: &Path,
    graph_url: &str,
    sink: Arc<Sink>,
) -> anyhow::Result<()> {
    let config = "[whatsapp]\nmark_read = true\n";
    let (child, addr) = start_redsol(redsol, data, config, graph_url, None, 0, &[])?;
    let port: u16 = addr.rsplit(':').next().unwrap_or("0").parse()?;
    let child = Arc::new(Mutex::new(child));
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .pool_max_idle_per_host(256)
        .build()?;
    let declared = http
        .post(format!("http://{addr}/admin/outages"))
        .bearer_auth(ADMIN_TOKEN)
        .json(&serde_json::json!({"zone": "Norte", "cause": "corte de fibra", "eta": "2 horas"}))
        .send()
        .await?;
    anyhow::ensure!(
        declared.status().is_success(),
        "declaring the outage: {}",
        declared.status()
    );
    let url = format!("http://{addr}/webhook");
    let user = |n: usize| format!("52147700{n:05}");
    let total = storm.users * 2;
    let rate = total as f64 / storm.seconds as f64;
    let acks: Arc<Mutex<Vec<Duration>>> = Arc::new(Mutex::new(Vec::with_capacity(total)));
    let unacked: Arc<Mutex<Vec<String>>> = Arc::new(Mutex::new(Vec::new()));
    let permits = Arc::new(tokio::sync::Semaphore::new(256));
    let start = Instant::now();
    let mut killed = false;
    let mut tasks = Vec::with_capacity(total);
    // RSS and backlog, sampled every second until the end.
    let samples: Arc<Mutex<Vec<Sample>>> = Arc::default();
    let sampler = {
        let (child, samples, http, addr) =
            (child.clone(), samples.clone(), http.clone(), addr.clone());
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_secs(1)).await;
                let pid = child.lock().map(|c| c.id()).unwrap_or(0);
                let [backlog, reminders, notices] = metrics(
                    &http,
                    &addr,
                    ["redsol_outbox_pending", RELEASED[0], RELEASED[1]],
                )
                .await;
                if let Ok(mut s) = samples.lock() {
                    s.push(Sample {
                        at: start.elapsed().as_secs_f64(),
                        rss: rss_mib(pid),
                        backlog,
                        released: reminders + notices,
                    });
                }
            }
        })
    };
    for m in 0..total {
        let due = start + Duration::from_secs_f64(m as f64 / rate);
        tokio::time::sleep_until(due.into()).await;
        if let Some(at) = storm
            .kill_at
            .filter(|at| !killed && due - start >= Duration::from_secs(*at))
        {
            killed = true;
            restart(&child, redsol, data, config, graph_url, port)?;
            println!("killed with SIGKILL at {at} s and started again");
        }
        let (n, round) = (m % storm.users, m / storm.users);
        let text = if round == 0 {
            FIRST[n % FIRST.len()]
        } else {
            SECOND[n % SECOND.len()]
        };
        let body = delivery(&user(n), &format!("wamid.S{n}.{round}"), text);
        let permit = permits.clone().acquire_owned().await?;
        let (http, url, acks, unacked) = (http.clone(), url.clone(), acks.clone(), unacked.clone());
        tasks.push(tokio::spawn(async move {
            match post(&http, &url, body.clone()).await {
                Some(t) => {
                    if let Ok(mut a) = acks.lock() {
                        a.push(t);
                    }
                }
                None => {
                    if let Ok(mut u) = unacked.lock() {
                        u.push(body);
                    }
                }
            }
            drop(permit);
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let offered_for = start.elapsed();
    // Meta posts again what was not acknowledged (redsol may still be starting).
    let again: Vec<String> = unacked
        .lock()
        .map(|mut u| std::mem::take(&mut *u))
        .unwrap_or_default();
    let redelivered = again.len();
    for body in again {
        let mut tries = 0;
        while post(&http, &url, body.clone()).await.is_none() && tries < 60 {
            tries += 1;
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    // Until nothing is left to send (and the sink saw nothing new for 5 s), at most 20 min.
    let mut quiet_since = (0usize, Instant::now());
    loop {
        let seen = sink.requests.lock().map(|r| r.len()).unwrap_or(0);
        if seen != quiet_since.0 {
            quiet_since = (seen, Instant::now());
        }
        let pending = metric(&http, &addr, "redsol_outbox_pending").await;
        if (pending == 0.0 && quiet_since.1.elapsed() > Duration::from_secs(5))
            || start.elapsed() > Duration::from_secs(1200)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    sampler.abort();
    let coalesced = metric(&http, &addr, "redsol_replies_coalesced_total").await;
    let spilled = metric(&http, &addr, "redsol_replies_spilled_total").await;
    if let Ok(mut c) = child.lock() {
        let _ = c.kill();
        let _ = c.wait();
    }
    report(
        &storm,
        &sink,
        &acks,
        &samples,
        start,
        offered_for,
        redelivered,
        coalesced,
        spilled,
        &user,
    );
    Ok(())
}

/// Kills redsol with SIGKILL and starts it again on the same data and port.
fn restart(
    child: &Mutex<Child>,
    redsol: &Path,
    data: &Path,
    config: &str,
    graph_url: &str,
    port: u16,
) -> anyhow::Result<()> {
    let mut c = child.lock().map_err(|_| anyhow::anyhow!("poisoned"))?;
    c.kill()?;
    c.wait()?;
    let (next, _) = start_redsol(redsol, data, config, graph_url, None, port, &[])?;
    *c = next;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn report(
    storm: &Storm,
    sink: &Sink,
    acks: &Mutex<Vec<Duration>>,
    samples: &Mutex<Vec<Sample>>,
    start: Instant,
    offered_for: Duration,
    redelivered: usize,
    coalesced: f64,
    spilled: f64,
    user: &dyn Fn(usize) -> String,
) {
    let mut acks = acks.lock().map(|a| a.clone()).unwrap_or_default();
    acks.sort();
    let replies = sink.replies.lock().map(|r| r.clone()).unwrap_or_default();
    let ours: Vec<String> = (0..storm.users).map(user).collect();
    let (mut none, mut one, mut two, mut more) = (0, 0, 0, 0);
    let mut last_reply = start;
    for u in &ours {
        let times = replies.get(u).map(Vec::as_slice).unwrap_or_default();
        match times.len() {
            0 => none += 1,
            1 => one += 1,
            2 => two += 1,
            _ => more += 1,
        }
        if let Some(t) = times.last() {
            last_reply = last_reply.max(*t);
        }
    }
    let notices: Vec<Instant> = replies
        .iter()
        .filter(|(u, _)| !u.starts_with("52147700"))
        .flat_map(|(_, t)| t.iter().copied())
        .collect();
    let mut requests = sink.requests.lock().map(|r| r.clone()).unwrap_or_default();
    requests.sort();
    let (mut busiest, mut busiest_at) = (0, start);
    let mut j = 0;
    for i in 0..requests.len() {
        while requests[i] - requests[j] >= Duration::from_secs(1) {
            j += 1;
        }
        if i - j + 1 > busiest {
            (busiest, busiest_at) = (i - j + 1, requests[j]);
        }
    }
    let secs = |t: Instant| t.duration_since(start).as_secs_f64();
    println!(
        "storm:              {} users × 2 messages in {:.1} s ({:.0}/s), default pacing",
        storm.users,
        offered_for.as_secs_f64(),
        (storm.users * 2) as f64 / offered_for.as_secs_f64()
    );
    println!(
        "acknowledged:       {} (p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms); {redelivered} posted again after the kill",
        acks.len(),
        percentile(&acks, 0.5).as_secs_f64() * 1e3,
        percentile(&acks, 0.99).as_secs_f64() * 1e3,
        acks.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    println!(
        "users answered:     {} with one message for both, {two} with two, {more} with more, {none} with none",
        one
    );
    println!("joined, on disk:    {coalesced} replies joined into another's, {spilled} left on disk (counted since the last start)");
    println!(
        "sink:               {} requests (replies, notices, receipts), busiest second {busiest} (from {:.1} s); last reply to a storm user at {:.1} s",
        requests.len(),
        secs(busiest_at),
        secs(last_reply)
    );
    match (notices.iter().min(), notices.iter().max()) {
        (Some(first), Some(last)) => println!(
            "outage notices:     {} to Norte clients, from {:.1} s to {:.1} s",
            notices.len(),
            secs(*first),
            secs(*last)
        ),
        _ => println!("outage notices:     none"),
    }
    let samples = samples.lock().map(|s| s.clone()).unwrap_or_default();
    println!("   t (s)   RSS (MiB)   outbox pending   notices released");
    let step = (samples.len() / 15).max(1);
    for s in samples.iter().step_by(step) {
        println!(
            "  {:>6.0}   {:>9.1}   {:>14.0}   {:>16.0}",
            s.at, s.rss, s.backlog, s.released
        );
    }
}
