//! One steady run: signed deliveries offered open loop at a fixed rate, users walking the
//! scripts of [`super::scripts`], every reply matched to its message; and the figures.

use super::process::{
    cpu_time, instructions_in, metric, peak_rss_mib, start_redsol, stop_gracefully,
};
use super::scripts::Utterances;
use super::{percentile, Sink, PHONE_ID, SECRET};
use redsol::whatsapp::signature::sign;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The p99 under which a rate is sustained.
pub const SUSTAINED_P99: Duration = Duration::from_millis(50);

/// What one run offers.
#[derive(Clone)]
pub struct Load {
    pub rate: u64,
    pub seconds: u64,
    pub users: usize,
    pub per_delivery: usize,
    pub concurrency: usize,
    pub receipts: bool,
    /// Conversations idle this long are passivated (0: the config's 15 minutes).
    pub idle_secs: u64,
    /// Where callgrind writes its counts, when the run is measured under it.
    pub callgrind: Option<std::path::PathBuf>,
    /// How long the run waits for a new reply before it counts the rest as lost.
    pub patience: Duration,
}

/// What one run measured.
pub struct Figures {
    pub offered: usize,
    pub offered_for: Duration,
    pub accepted: usize,
    pub answered: usize,
    pub last_reply: Duration,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
    /// Accepted messages answered by no reply, alone or joined into another's.
    pub lost: usize,
    /// Replies that left inside another reply's message.
    pub joined: usize,
    pub duplicated: usize,
    pub receipts: usize,
    pub rss_mib: f64,
    pub cpu: Duration,
    /// Instructions of the run and of a run with no message (callgrind).
    pub instructions: Option<(u64, u64)>,
    pub waited: Duration,
}

impl Figures {
    /// Whether the rate held: every delivery accepted, every message answered once, p99
    /// within [`SUSTAINED_P99`].
    pub fn sustained(&self) -> bool {
        self.accepted == self.offered
            && self.lost == 0
            && self.duplicated == 0
            && self.p99 <= SUSTAINED_P99
    }

    fn messages(&self, load: &Load) -> usize {
        self.offered * load.per_delivery
    }

    pub fn cpu_per_message_ms(&self, load: &Load) -> f64 {
        self.cpu.as_secs_f64() * 1e3 / self.messages(load).max(1) as f64
    }

    pub fn print(&self, load: &Load) {
        let secs = self.offered_for.as_secs_f64().max(0.001);
        println!(
            "offered:            {} deliveries × {} message(s) at {}/s for {} s (sent in {secs:.2} s)",
            self.offered, load.per_delivery, load.rate, load.seconds
        );
        println!(
            "accepted:           {} deliveries ({:.0}/s, {:.0} messages/s)",
            self.accepted,
            self.accepted as f64 / secs,
            (self.accepted * load.per_delivery) as f64 / secs
        );
        println!(
            "replies at sink:    {} ({:.0}/s over {:.2} s)",
            self.answered,
            self.answered as f64 / self.last_reply.as_secs_f64().max(0.001),
            self.last_reply.as_secs_f64()
        );
        println!(
            "end to end:         p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
            self.p50.as_secs_f64() * 1e3,
            self.p99.as_secs_f64() * 1e3,
            self.max.as_secs_f64() * 1e3
        );
        println!(
            "users:              {} (about {} messages each, one every {:.1} s)",
            load.users,
            self.messages(load) / load.users.max(1),
            load.users as f64 / (load.rate as f64 * load.per_delivery as f64)
        );
        println!(
            "lost replies:       {} (accepted messages never answered, alone or joined)",
            self.lost
        );
        println!(
            "joined replies:     {} (left inside another reply's message: the user wrote again first)",
            self.joined
        );
        println!("duplicated replies: {}", self.duplicated);
        println!(
            "read receipts:      {} ({})",
            self.receipts,
            if load.receipts { "on" } else { "off" }
        );
        println!("redsol peak RSS:    {:.1} MiB", self.rss_mib);
        println!(
            "redsol CPU:         {:.2} s, {:.3} ms per message",
            self.cpu.as_secs_f64(),
            self.cpu_per_message_ms(load)
        );
        if let Some((loaded, idle)) = self.instructions {
            println!(
                "instructions:       {:.0} per message ({loaded} in the run, {idle} starting and stopping with no message; callgrind)",
                loaded.saturating_sub(idle) as f64 / self.messages(load).max(1) as f64
            );
            if let Some(out) = &load.callgrind {
                println!(
                    "callgrind output:   {} (callgrind_annotate it)",
                    out.display()
                );
            }
        }
        println!("(waited {:.2} s in all)", self.waited.as_secs_f64());
    }
}

/// redsol's configuration for a steady run: Meta's pacing and each user's inbound limit
/// lifted (the engine is measured, not the limiters), and no payment reminders to the demo
/// clients (none wrote, and on the days before a due date they would go out during the run).
fn config(load: &Load) -> String {
    let idle = if load.idle_secs > 0 {
        format!("idle_timeout_secs = {}\n", load.idle_secs)
    } else {
        String::new()
    };
    format!(
        "[whatsapp]\nsend_per_second = 1000000\nrecipient_burst = 1000\nrecipient_per_second = 1000.0\nmark_read = {}\n\
         [rules.limits]\ninbound_burst = 100000\ninbound_per_minute = 6000000\n{idle}\
         [billing]\nreminder_template = \"\"\n",
        load.receipts
    )
}

/// The user of message `n`, and which of their messages it is.
fn user_of(n: usize, users: usize) -> (usize, usize) {
    (n % users, n / users)
}

fn wa_id(user: usize) -> String {
    format!("521{user:010}")
}

/// The webhook body of one delivery: Meta's JSON, one message per user of the batch.
fn delivery(batch: &[(usize, usize, String)]) -> String {
    let messages: Vec<serde_json::Value> = batch
        .iter()
        .map(|(user, n, text)| serde_json::json!({"from": wa_id(*user), "id": format!("wamid.{n}"), "type": "text", "text": {"body": text}}))
        .collect();
    let contacts: Vec<serde_json::Value> = batch
        .iter()
        .map(
            |(user, _, _)| serde_json::json!({"wa_id": wa_id(*user), "profile": {"name": "Bench"}}),
        )
        .collect();
    serde_json::json!({"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {"metadata": {"phone_number_id": PHONE_ID}, "contacts": contacts, "messages": messages}}]}]}).to_string()
}

/// Runs `load` against a fresh redsol in `data`, its replies arriving at `sink` (served at
/// `graph_url`).
pub async fn run(
    load: &Load,
    utterances: &Utterances,
    redsol: &Path,
    data: &Path,
    graph_url: &str,
    sink: &Sink,
) -> anyhow::Result<Figures> {
    sink.clear();
    let config = config(load);
    let (mut child, addr) = start_redsol(
        redsol,
        data,
        &config,
        graph_url,
        load.callgrind.as_deref(),
        0,
        &[],
    )?;
    let pid = child.id();
    let url = format!("http://{addr}/webhook");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(load.concurrency)
        .build()?;

    let total = (load.rate * load.seconds) as usize;
    let cpu_before = cpu_time(pid);
    // When each user's messages were sent, in order.
    let sent_at: Arc<Mutex<HashMap<String, Vec<Instant>>>> =
        Arc::new(Mutex::new(HashMap::with_capacity(load.users)));
    let accepted = Arc::new(AtomicUsize::new(0));
    let permits = Arc::new(tokio::sync::Semaphore::new(load.concurrency));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for d in 0..total {
        let due = start + Duration::from_secs_f64(d as f64 / load.rate as f64);
        tokio::time::sleep_until(due.into()).await;
        let batch: Vec<(usize, usize, String)> = (0..load.per_delivery)
            .map(|m| {
                let n = d * load.per_delivery + m;
                let (user, turn) = user_of(n, load.users);
                (user, n, utterances.line(user, turn))
            })
            .collect();
        let body = delivery(&batch);
        let users: Vec<String> = batch.iter().map(|(u, _, _)| wa_id(*u)).collect();
        let signature = sign(SECRET.as_bytes(), body.as_bytes());
        let permit = permits.clone().acquire_owned().await?;
        let (http, url, sent_at, accepted) =
            (http.clone(), url.clone(), sent_at.clone(), accepted.clone());
        tasks.push(tokio::spawn(async move {
            let now = Instant::now();
            let ok = http
                .post(&url)
                .header("X-Hub-Signature-256", signature)
                .body(body)
                .send()
                .await
                .map(|r| r.status().is_success())
                .unwrap_or(false);
            // Only accepted messages are owed a reply (Meta redelivers the others).
            if ok {
                accepted.fetch_add(1, Ordering::Relaxed);
                if let Ok(mut s) = sent_at.lock() {
                    for u in users {
                        s.entry(u).or_default().push(now);
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

    // Wait for the replies: until all are in, or nothing new arrives for `patience`.
    let expected = accepted.load(Ordering::Relaxed) * load.per_delivery;
    let mut last = (0, Instant::now());
    loop {
        let n = sink.replies_to(&sent_at);
        if n >= expected || last.1.elapsed() > load.patience {
            break;
        }
        if n != last.0 {
            last = (n, Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let waited = start.elapsed();
    // Replies that left joined into another's message (a user who wrote again before the
    // first reply left): one message at the sink answers several.
    let joined = metric(&http, &addr, "redsol_replies_coalesced_total").await as usize;
    let rss_mib = peak_rss_mib(pid);
    let cpu = cpu_time(pid).saturating_sub(cpu_before);
    // Instructions: this run's, less those of a run that starts and stops with no message.
    let instructions = match &load.callgrind {
        Some(out) => {
            stop_gracefully(&mut child)?;
            let loaded = instructions_in(out)?;
            let idle_data = data.with_extension("idle");
            let idle_out = data.with_extension("idle.callgrind.out");
            let (mut idle, _) = start_redsol(
                redsol,
                &idle_data,
                &config,
                graph_url,
                Some(&idle_out),
                0,
                &[],
            )?;
            stop_gracefully(&mut idle)?;
            let idle_ir = instructions_in(&idle_out)?;
            let _ = std::fs::remove_dir_all(&idle_data);
            Some((loaded, idle_ir))
        }
        None => {
            let _ = child.kill();
            let _ = child.wait();
            None
        }
    };
    let _ = std::fs::remove_dir_all(data);

    let replies = sink.replies.lock().map(|r| r.clone()).unwrap_or_default();
    let sent = sent_at.lock().map(|s| s.clone()).unwrap_or_default();
    let mut latencies: Vec<Duration> = Vec::with_capacity(expected);
    let (mut unanswered, mut duplicated) = (0usize, 0usize);
    let mut last_reply = start;
    for (user, sent_times) in &sent {
        // Replies to one user leave in order: the k-th reply answers the k-th message.
        let times = replies.get(user).map(Vec::as_slice).unwrap_or_default();
        unanswered += sent_times.len().saturating_sub(times.len());
        duplicated += times.len().saturating_sub(sent_times.len());
        for (t0, t1) in sent_times.iter().zip(times) {
            latencies.push(t1.saturating_duration_since(*t0));
            last_reply = last_reply.max(*t1);
        }
    }
    latencies.sort();
    Ok(Figures {
        offered: total,
        offered_for,
        accepted: accepted.load(Ordering::Relaxed),
        answered: latencies.len(),
        last_reply: last_reply.duration_since(start),
        p50: percentile(&latencies, 0.5),
        p99: percentile(&latencies, 0.99),
        max: latencies.last().copied().unwrap_or_default(),
        lost: unanswered.saturating_sub(joined),
        joined,
        duplicated,
        receipts: sink.receipts.load(Ordering::Relaxed),
        rss_mib,
        cpu,
        instructions,
        waited,
    })
}
