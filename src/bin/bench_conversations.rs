//! Benchmark: how much memory live conversations take, and how fast the tree answers.
//!
//! Starts the real actor tree and engine over the SQLite store (snapshots on disk, as in
//! production; `--store memory` for the in-memory one), opens N conversations
//! (default 100,000; `--conversations N`) with one message each, waits for every reply, and
//! prints the time, the throughput and the process RSS before and after, per conversation.
//! Run it with `cargo run --release --bin redsol-bench-conversations`.

use redsol_actors::brain::OfflineBrain;
use redsol_actors::engine::Engine;
use redsol_actors::model::{Channel, ConversationKey, Inbound, Outbound, ReplySink};
use redsol_actors::store::MemoryStore;
use redsol_actors::supervisor::{self, SupervisorArgs};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::sync::Notify;

struct CountingSink {
    count: AtomicUsize,
    target: usize,
    done: Notify,
}

impl ReplySink for CountingSink {
    fn deliver(&self, _out: Outbound) {
        if self.count.fetch_add(1, Ordering::AcqRel) + 1 == self.target {
            self.done.notify_one();
        }
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// A do-nothing actor: the baseline cost of one ractor actor (`--bare`).
struct Bare;

impl ractor::Actor for Bare {
    type Msg = ();
    type State = ();
    type Arguments = ();

    async fn pre_start(
        &self,
        _myself: ractor::ActorRef<()>,
        _args: (),
    ) -> Result<(), ractor::ActorProcessingErr> {
        Ok(())
    }
}

async fn bare(n: usize) -> anyhow::Result<()> {
    let before = rss_kib();
    let mut actors = Vec::with_capacity(n);
    for _ in 0..n {
        let (actor, _) = ractor::Actor::spawn(None, Bare, ()).await?;
        actors.push(actor);
    }
    let after = rss_kib();
    println!(
        "bare ractor actors: {n}, RSS {:.1} MiB, {:.1} KiB each",
        after as f64 / 1024.0,
        after.saturating_sub(before) as f64 / n.max(1) as f64
    );
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args
        .iter()
        .position(|a| a == "--conversations")
        .and_then(|i| args.get(i + 1))
        .map(|v| v.parse())
        .transpose()?
        .unwrap_or(100_000);
    if args.iter().any(|a| a == "--bare") {
        return bare(n).await;
    }

    // `--idle-secs S`: conversations passivate after S idle seconds (default: they stay live),
    // and the bench waits for all to passivate, then prints the RSS of the known users.
    let idle_secs = args
        .iter()
        .position(|a| a == "--idle-secs")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse::<u64>().ok());
    let mut rules = redsol_actors::testing::rules();
    rules.limits.idle_timeout_secs = idle_secs.unwrap_or(24 * 3600);
    let rules = Arc::new(rules);
    let zones: Vec<String> = rules.zones.iter().map(|z| z.name.clone()).collect();
    let plans: Vec<(u32, u32)> = rules.plans.iter().map(|p| (p.mbps, p.price)).collect();
    let clients = redsol_actors::demo::demo_clients(536, &zones, &plans);
    // As in production, snapshots on disk (SQLite); `--store memory` keeps them in the
    // process (the in-memory store of the actor tests).
    let data = std::env::temp_dir().join(format!("redsol-bench-conv-{}", std::process::id()));
    let store: Arc<dyn redsol_actors::store::Store> = if args
        .windows(2)
        .any(|w| w[0] == "--store" && w[1] == "memory")
    {
        Arc::new(MemoryStore::new(clients))
    } else {
        Arc::new(redsol::store::sqlite::SqliteStore::open(&data, || clients)?)
    };
    let backend = store.backend();
    let engine = Engine::new(
        rules.clone(),
        Arc::new(OfflineBrain::new(rules.clone())),
        store,
    );
    let sink = Arc::new(CountingSink {
        count: AtomicUsize::new(0),
        target: n,
        done: Notify::new(),
    });
    let sinks = [(Channel::WhatsApp, sink.clone() as Arc<dyn ReplySink>)]
        .into_iter()
        .collect();
    let (router, _root, _handle) = supervisor::start(SupervisorArgs { engine, sinks })
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;

    let rss_before = rss_kib();
    let started = Instant::now();
    // `--wave N`: conversations are opened N at a time, each wave answered before the next,
    // as traffic arrives; without it all at once (then the turns in flight together, freed
    // afterwards, stay in the RSS: the allocator keeps the pages).
    let wave = args
        .iter()
        .position(|a| a == "--wave")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(n)
        .max(1);
    let done = sink.done.notified();
    for i in 0..n {
        let key = ConversationKey::new(Channel::WhatsApp, format!("52146{i:08}"));
        router.route(Inbound::text(key, "hola, cuanto cuesta el de 50?"))?;
        if (i + 1) % wave == 0 {
            while sink.count.load(Ordering::Acquire) < i + 1 {
                tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            }
        }
    }
    done.await;
    let elapsed = started.elapsed();
    let active = router.active().await?;
    let rss_after = rss_kib();
    println!("conversations live:     {active}");
    println!(
        "first messages answered: {n} in {:.2} s ({:.0} msg/s)",
        elapsed.as_secs_f64(),
        n as f64 / elapsed.as_secs_f64()
    );
    println!(
        "RSS before:             {:.1} MiB",
        rss_before as f64 / 1024.0
    );
    println!(
        "RSS after:              {:.1} MiB",
        rss_after as f64 / 1024.0
    );
    println!(
        "per conversation:       {:.1} KiB (actor, mailbox and state; snapshots in the {backend} store)",
        (rss_after.saturating_sub(rss_before)) as f64 / active.max(1) as f64
    );
    if idle_secs.is_some() {
        let deadline = Instant::now() + std::time::Duration::from_secs(600);
        while router.active().await? > 0 && Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        }
        let rss = rss_kib();
        println!(
            "after passivation:      {} live, RSS {:.1} MiB for {n} known users ({:.0} bytes each over the start)",
            router.active().await?,
            rss as f64 / 1024.0,
            rss.saturating_sub(rss_before) as f64 * 1024.0 / n.max(1) as f64
        );
    }
    let _ = std::fs::remove_dir_all(&data);
    Ok(())
}
