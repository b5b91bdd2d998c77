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
//! With `--find 1`, it searches the sustained rate: runs of `--seconds` each, doubling from
//! `--rate` while a run holds (p99 ≤ 50 ms, nothing lost or duplicated), then halving the gap
//! to the first rate that failed, until the two are within 10%; one line per run, then the
//! sustained run's figures.
//!
//! The load is conversations, not one sentence: `--users` users (default: two seconds of
//! messages, so each writes every two seconds) walk multi-turn scripts (a registration, a fault
//! report and its status, questions) whose opening lines are drawn from the NLU corpus
//! (`bench_whatsapp/scripts.rs`), so most messages land on a live, multi-turn conversation.
//! Each message gets one reply, matched in order per user. Meta's pacing limits and each
//! user's inbound limit are lifted in the redsol under test (we measure redsol, not Meta's
//! quota or the limiter); `--receipts 1` marks every message read, as production does.

use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[path = "bench_whatsapp/process.rs"]
mod process;
#[path = "bench_whatsapp/replicas.rs"]
mod replicas;
#[path = "bench_whatsapp/replicas_report.rs"]
mod replicas_report;
#[path = "bench_whatsapp/scripts.rs"]
mod scripts;
#[path = "bench_whatsapp/steady.rs"]
mod steady;
#[path = "bench_whatsapp/storm.rs"]
mod storm;

use steady::{Figures, Load};

const SECRET: &str = "bench-secret";
const TOKEN: &str = "bench-token";
const PHONE_ID: &str = "1000000001";
/// The admin API's token (the storm declares an outage).
const ADMIN_TOKEN: &str = "bench-admin-token";

#[derive(Default)]
struct Sink {
    replies: Mutex<HashMap<String, Vec<Instant>>>,
    receipts: std::sync::atomic::AtomicUsize,
    /// When every request arrived (messages and receipts: Meta paces them together).
    requests: Mutex<Vec<Instant>>,
}

impl Sink {
    /// Forgets every request seen (a new run begins).
    fn clear(&self) {
        if let Ok(mut r) = self.replies.lock() {
            r.clear();
        }
        if let Ok(mut r) = self.requests.lock() {
            r.clear();
        }
        self.receipts.store(0, std::sync::atomic::Ordering::Relaxed);
    }

    /// How many replies went to the users in `sent` (redsol may write to others meanwhile).
    fn replies_to(&self, sent: &Mutex<HashMap<String, Vec<Instant>>>) -> usize {
        match (self.replies.lock(), sent.lock()) {
            (Ok(r), Ok(sent)) => r
                .iter()
                .filter(|(user, _)| sent.contains_key(*user))
                .map(|(_, times)| times.len())
                .sum(),
            _ => 0,
        }
    }
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

    if arg(&args, "--replicas", 0) > 0 {
        let text = |name: &str, var: &str| {
            args.iter()
                .position(|a| a == name)
                .and_then(|i| args.get(i + 1).cloned())
                .or_else(|| std::env::var(var).ok())
                .filter(|v| !v.is_empty())
        };
        let kill_at = arg(&args, "--kill-at", 0);
        let run = replicas::Replicas {
            replicas: arg(&args, "--replicas", 3) as usize,
            users: arg(&args, "--users", 500).max(1) as usize,
            per_user: arg(&args, "--per-user", 10) as usize,
            rate,
            redeliver_pct: arg(&args, "--redeliver-pct", 10),
            kill_at: (kill_at > 0).then_some(kill_at),
            down_secs: arg(&args, "--down-secs", 2),
            send_rate: arg(&args, "--send-rate", 400).max(1),
            database_url: text("--database-url", "REDSOL_TEST_DATABASE_URL").ok_or_else(|| {
                anyhow::anyhow!("--replicas needs --database-url (or REDSOL_TEST_DATABASE_URL)")
            })?,
            redis_url: text("--redis-url", "REDSOL_TEST_REDIS_URL"),
            check: arg(&args, "--check", 0) == 1,
            patience: Duration::from_secs(arg(&args, "--wait-secs", 20).max(1)),
        };
        let result = replicas::run(run, &redsol, &data, &graph_url, sink).await;
        let _ = std::fs::remove_dir_all(&data);
        return result;
    }

    let per_delivery = arg(&args, "--per-delivery", 1).max(1) as usize;
    let users_given = args.iter().any(|a| a == "--users");
    // Two seconds of messages: each user writes every two seconds.
    let users_for = |rate: u64| {
        let default = 2 * rate * per_delivery as u64;
        arg(&args, "--users", default).max(1) as usize
    };
    let load = Load {
        rate,
        seconds,
        users: users_for(rate),
        per_delivery,
        concurrency: arg(&args, "--concurrency", 256).max(1) as usize,
        receipts: arg(&args, "--receipts", 0) == 1,
        idle_secs: arg(&args, "--idle-secs", 0),
        // Kept after the run, for `callgrind_annotate`.
        callgrind: (arg(&args, "--callgrind", 0) == 1)
            .then(|| data.with_extension("callgrind.out")),
        patience: Duration::from_secs(arg(&args, "--wait-secs", 10).max(1)),
    };
    let utterances = scripts::Utterances::load()?;
    println!(
        "load:               users walk scripts drawn from {} corpus lines; each user's inbound limit and Meta's pacing are lifted",
        utterances.corpus_lines()
    );
    if load.idle_secs > 0 {
        println!(
            "conversations:      passivated after {} s idle: a user who writes again after that finds theirs passivated (its snapshot read back)",
            load.idle_secs
        );
    }
    if arg(&args, "--find", 0) != 1 {
        let figures = steady::run(&load, &utterances, &redsol, &data, &graph_url, &sink).await?;
        figures.print(&load);
        return Ok(());
    }

    // The search: double while a run holds, then bisect between the last rate that held and
    // the first that did not.
    let (mut held, mut failed): (Option<(u64, Figures)>, Option<u64>) = (None, None);
    let mut rate = rate;
    for _ in 0..12 {
        let load = Load {
            rate,
            users: if users_given {
                load.users
            } else {
                users_for(rate)
            },
            ..load.clone()
        };
        let f = steady::run(&load, &utterances, &redsol, &data, &graph_url, &sink).await?;
        println!(
            "  {rate:>6}/s  {:>6} users  refused {:>5}  p50 {:>6.1} ms  p99 {:>7.1} ms  lost {:>5}  duplicated {:>3}  CPU {:.3} ms/message  RSS {:.0} MiB  {}",
            load.users,
            f.offered - f.accepted,
            f.p50.as_secs_f64() * 1e3,
            f.p99.as_secs_f64() * 1e3,
            f.lost,
            f.duplicated,
            f.cpu_per_message_ms(&load),
            f.rss_mib,
            if f.sustained() { "holds" } else { "fails" }
        );
        if f.sustained() {
            held = Some((rate, f));
        } else {
            failed = Some(rate);
        }
        let low = held.as_ref().map(|(r, _)| *r);
        rate = match (low, failed) {
            (Some(l), Some(h)) if h <= l + (l / 10).max(10) => break,
            (Some(l), Some(h)) => (l + h) / 2,
            (Some(l), None) => l * 2,
            (None, Some(h)) if h <= 10 => break,
            (None, Some(h)) => h / 2,
            (None, None) => break,
        };
    }
    match held {
        Some((rate, f)) => {
            println!("sustained rate:     {rate} messages/s (p99 ≤ 50 ms, nothing lost or duplicated); its run:");
            let users = if users_given {
                load.users
            } else {
                users_for(rate)
            };
            f.print(&Load {
                rate,
                users,
                ..load
            });
        }
        None => println!("sustained rate:     none of the rates tried held"),
    }
    Ok(())
}
