//! Benchmark of the WhatsApp path: signed deliveries offered at a fixed rate to a running
//! `redsol run --mode whatsapp`, replies counted at a fake Graph API sink.
//!
//! Prints deliveries/s accepted, replies/s at the sink, end-to-end latency p50/p99 (message
//! sent → its reply received), lost and duplicated replies, read receipts, redsol's peak RSS
//! and its CPU time per message.
//!
//! ```sh
//! cargo build --release --bins
//! target/release/redsol-bench-whatsapp --rate 2000 --seconds 10 --users 5000 [--receipts 1]
//! ```
//! With `--storm 1 [--users 10000 --seconds 20 --kill-at 10]`, it runs the outage storm
//! instead (see `bench_whatsapp/storm.rs`): Meta's default pacing, an outage declared, every
//! user writing twice; `--kill-at` kills redsol with SIGKILL midway.
//! With `--callgrind 1`, redsol runs under `valgrind --tool=callgrind` and the bench prints the
//! instructions per message: those of the run less those of a run that starts and stops with
//! no message, over the messages. A figure the noise of a shared machine does not move:
//! `--rate 100 --seconds 100 --users 2000 --receipts 1 --callgrind 1` is the README's.
//! With `--idle-secs S`, conversations idle for S seconds are passivated: each user writes
//! every `users / rate` seconds, so above S every message after a user's first finds their
//! conversation passivated and read back from its snapshot (first messages open new ones).
//! The load is a conversation, not one sentence: `--users` users (default: one per message)
//! take turns, each going through a varied script (a greeting, a price question, a coverage
//! question, a fault report and its answers...), so most messages land on a live, multi-turn
//! conversation. Each message gets one reply, matched in order per user. Meta's pacing limits
//! and each user's inbound limit are lifted in the redsol under test (we measure redsol, not
//! Meta's quota or the limiter); `--receipts 1` marks every message read, as production does.

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use redsol::whatsapp::signature::sign;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[path = "bench_whatsapp/process.rs"]
mod process;
#[path = "bench_whatsapp/storm.rs"]
mod storm;

use process::{cpu_time, instructions_in, peak_rss_mib, start_redsol, stop_gracefully};

const SECRET: &str = "bench-secret";
const TOKEN: &str = "bench-token";
const PHONE_ID: &str = "1000000001";
/// The admin API's token (the storm declares an outage).
const ADMIN_TOKEN: &str = "bench-admin-token";

/// A user's script: what they write, turn after turn (then again from the start).
const SCRIPT: [&str; 8] = [
    "hola buenas tardes",
    "cuanto cuesta el de 50?",
    "llegan a la colonia centro?",
    "no tengo internet desde ayer",
    "desde ayer en la tarde",
    "si ya lo reinicie",
    "si",
    "gracias",
];

#[derive(Default)]
struct Sink {
    replies: Mutex<HashMap<String, Vec<Instant>>>,
    receipts: std::sync::atomic::AtomicUsize,
    /// When every request arrived (messages and receipts: Meta paces them together).
    requests: Mutex<Vec<Instant>>,
}

async fn graph(State(sink): State<Arc<Sink>>, body: Bytes) -> axum::Json<serde_json::Value> {
    let now = Instant::now();
    if let Ok(mut r) = sink.requests.lock() {
        r.push(now);
    }
    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) {
        if v.get("status").and_then(|s| s.as_str()) == Some("read") {
            sink.receipts
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        } else if let Some(to) = v.get("to").and_then(|t| t.as_str()) {
            if let Ok(mut r) = sink.replies.lock() {
                r.entry(to.to_string()).or_default().push(now);
            }
        }
    }
    axum::Json(
        serde_json::json!({"messaging_product": "whatsapp", "messages": [{"id": "wamid.bench"}]}),
    )
}

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let rate = arg(&args, "--rate", 1000).max(1);
    let seconds = arg(&args, "--seconds", 10).max(1);
    let per_delivery = arg(&args, "--per-delivery", 1).max(1) as usize;
    let concurrency = arg(&args, "--concurrency", 256).max(1) as usize;
    let receipts = arg(&args, "--receipts", 0) == 1;
    // Conversations idle this long are passivated (0: the config's 15 minutes, so every
    // conversation stays live during a run).
    let idle_secs = arg(&args, "--idle-secs", 0);
    let callgrind = arg(&args, "--callgrind", 0) == 1;

    // The fake Graph sink.
    let sink = Arc::new(Sink::default());
    let app = axum::Router::new()
        .route("/{version}/{phone}/messages", post(graph))
        .with_state(sink.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let graph_url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });

    // redsol under test, next to this binary.
    let exe = std::env::current_exe()?;
    let redsol = exe.with_file_name("redsol");
    let data = std::env::temp_dir().join(format!("redsol-bench-{}", std::process::id()));
    if arg(&args, "--storm", 0) == 1 {
        let kill_at = arg(&args, "--kill-at", 0);
        let run = storm::Storm {
            users: arg(&args, "--users", 10_000).max(1) as usize,
            seconds: arg(&args, "--seconds", 20).max(1),
            kill_at: (kill_at > 0).then_some(kill_at),
        };
        let result = storm::run(run, &redsol, &data, &graph_url, sink).await;
        let _ = std::fs::remove_dir_all(&data);
        return result;
    }
    let idle = if idle_secs > 0 {
        println!(
            "conversations:      passivated after {idle_secs} s idle: a user who writes again after that finds theirs passivated (its snapshot read back)"
        );
        format!("idle_timeout_secs = {idle_secs}\n")
    } else {
        String::new()
    };
    // No payment reminders to the demo clients (none wrote, and outside the window they need
    // a template): on the days before a due date they would go out during the run, and the
    // figures would depend on the date.
    let config = format!(
        "[whatsapp]\nsend_per_second = 1000000\nrecipient_burst = 1000\nrecipient_per_second = 1000.0\nmark_read = {receipts}\n\
         [rules.limits]\ninbound_burst = 100000\ninbound_per_minute = 6000000\n{idle}\
         [billing]\nreminder_template = \"\"\n"
    );

    // Kept after the run, for `callgrind_annotate`.
    let measure = callgrind.then(|| data.with_extension("callgrind.out"));
    let (mut child, addr) =
        start_redsol(&redsol, &data, &config, &graph_url, measure.as_deref(), 0)?;
    let pid = child.id();
    let url = format!("http://{addr}/webhook");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(concurrency)
        .build()?;

    // Offer deliveries at a fixed rate.
    let total = (rate * seconds) as usize;
    let users = arg(&args, "--users", (total * per_delivery) as u64).max(1) as usize;
    let cpu_before = cpu_time(pid);
    // When each user's messages were sent, in order.
    let sent_at: Arc<Mutex<HashMap<String, Vec<Instant>>>> =
        Arc::new(Mutex::new(HashMap::with_capacity(users)));
    let accepted = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let permits = Arc::new(tokio::sync::Semaphore::new(concurrency));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(total);
    for d in 0..total {
        let due = start + Duration::from_secs_f64(d as f64 / rate as f64);
        tokio::time::sleep_until(due.into()).await;
        // Message n goes to user n % users: its turn n / users of the script.
        let batch: Vec<(String, usize)> = (0..per_delivery)
            .map(|m| {
                let n = d * per_delivery + m;
                (format!("521{:010}", n % users), n)
            })
            .collect();
        let messages: Vec<serde_json::Value> = batch
            .iter()
            .map(|(u, n)| serde_json::json!({"from": u, "id": format!("wamid.{n}"), "type": "text", "text": {"body": SCRIPT[(n / users) % SCRIPT.len()]}}))
            .collect();
        let users_of_batch: Vec<String> = batch.into_iter().map(|(u, _)| u).collect();
        let users_here = users_of_batch.clone();
        let contacts: Vec<serde_json::Value> = users_here
            .iter()
            .map(|u| serde_json::json!({"wa_id": u, "profile": {"name": "Bench"}}))
            .collect();
        let body = serde_json::json!({"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {"metadata": {"phone_number_id": PHONE_ID}, "contacts": contacts, "messages": messages}}]}]}).to_string();
        let signature = sign(SECRET.as_bytes(), body.as_bytes());
        let permit = permits.clone().acquire_owned().await?;
        let (http, url, sent_at, accepted) =
            (http.clone(), url.clone(), sent_at.clone(), accepted.clone());
        tasks.push(tokio::spawn(async move {
            let now = Instant::now();
            if let Ok(mut s) = sent_at.lock() {
                for u in &users_of_batch {
                    s.entry(u.clone()).or_default().push(now);
                }
            }
            let ok = http
                .post(&url)
                .header("X-Hub-Signature-256", signature)
                .body(body)
                .send()
                .await
                .map(|r| r.status().is_success())
                .unwrap_or(false);
            if ok {
                accepted.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            drop(permit);
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let offered_for = start.elapsed();

    // Wait for the replies: until all are in, or nothing new arrives for 10 s.
    let expected = total * per_delivery;
    let mut last = (0, Instant::now());
    loop {
        // Replies to the bench's users only: redsol may write to others meanwhile (payment
        // reminders to the demo clients on the days before a due date).
        let n = match (sink.replies.lock(), sent_at.lock()) {
            (Ok(r), Ok(sent)) => r
                .iter()
                .filter(|(user, _)| sent.contains_key(*user))
                .map(|(_, times)| times.len())
                .sum::<usize>(),
            _ => 0,
        };
        if n >= expected || last.1.elapsed() > Duration::from_secs(10) {
            break;
        }
        if n != last.0 {
            last = (n, Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let done_at = start.elapsed();
    let rss = peak_rss_mib(pid);
    let cpu = cpu_time(pid).saturating_sub(cpu_before);
    // Instructions: this run's, less those of a run that starts and stops with no message.
    let instructions = match &measure {
        Some(out) => {
            stop_gracefully(&mut child)?;
            let loaded = instructions_in(out)?;
            let idle_data = data.with_extension("idle");
            let idle_out = data.with_extension("idle.callgrind.out");
            let (mut idle, _) =
                start_redsol(&redsol, &idle_data, &config, &graph_url, Some(&idle_out), 0)?;
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
    let _ = std::fs::remove_dir_all(&data);

    let replies = sink.replies.lock().map(|r| r.clone()).unwrap_or_default();
    let sent = sent_at.lock().map(|s| s.clone()).unwrap_or_default();
    let mut latencies: Vec<Duration> = Vec::with_capacity(expected);
    let (mut lost, mut duplicated) = (0usize, 0usize);
    let mut last_reply = start;
    for (user, sent_times) in &sent {
        // Replies to one user leave in order: the k-th reply answers the k-th message.
        let times = replies.get(user).map(Vec::as_slice).unwrap_or_default();
        lost += sent_times.len().saturating_sub(times.len());
        duplicated += times.len().saturating_sub(sent_times.len());
        for (t0, t1) in sent_times.iter().zip(times) {
            latencies.push(t1.saturating_duration_since(*t0));
            last_reply = last_reply.max(*t1);
        }
    }
    latencies.sort();
    let answered = latencies.len();
    let acc = accepted.load(std::sync::atomic::Ordering::Relaxed);
    println!("offered:            {total} deliveries × {per_delivery} message(s) at {rate}/s for {seconds} s (sent in {:.2} s)", offered_for.as_secs_f64());
    println!(
        "accepted:           {acc} deliveries ({:.0}/s, {:.0} messages/s)",
        acc as f64 / offered_for.as_secs_f64(),
        (acc * per_delivery) as f64 / offered_for.as_secs_f64()
    );
    println!(
        "replies at sink:    {answered} ({:.0}/s over {:.2} s)",
        answered as f64 / last_reply.duration_since(start).as_secs_f64().max(0.001),
        last_reply.duration_since(start).as_secs_f64()
    );
    println!(
        "end to end:         p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    println!(
        "users:              {users} (about {} messages each)",
        expected / users
    );
    println!("lost replies:       {lost}");
    println!("duplicated replies: {duplicated}");
    println!(
        "read receipts:      {} ({})",
        sink.receipts.load(std::sync::atomic::Ordering::Relaxed),
        if receipts { "on" } else { "off" }
    );
    println!("redsol peak RSS:    {rss:.1} MiB");
    println!(
        "redsol CPU:         {:.2} s, {:.3} ms per message",
        cpu.as_secs_f64(),
        cpu.as_secs_f64() * 1e3 / expected.max(1) as f64
    );
    if let Some((loaded, idle)) = instructions {
        println!(
            "instructions:       {:.0} per message ({loaded} in the run, {idle} starting and stopping with no message; callgrind)",
            loaded.saturating_sub(idle) as f64 / expected.max(1) as f64
        );
        if let Some(out) = &measure {
            println!(
                "callgrind output:   {} (callgrind_annotate it)",
                out.display()
            );
        }
    }
    println!("(waited {:.2} s in all)", done_at.as_secs_f64());
    Ok(())
}
