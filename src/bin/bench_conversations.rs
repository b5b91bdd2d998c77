//! Benchmark: how much memory live conversations take, and how fast the tree answers.
//!
//! Starts the real actor tree and engine over an in-memory store, opens N conversations
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

    let mut rules = redsol_actors::testing::rules();
    rules.limits.idle_timeout_secs = 24 * 3600;
    let rules = Arc::new(rules);
    let zones: Vec<String> = rules.zones.iter().map(|z| z.name.clone()).collect();
    let plans: Vec<(u32, u32)> = rules.plans.iter().map(|p| (p.mbps, p.price)).collect();
    let store = Arc::new(MemoryStore::new(redsol_actors::demo::demo_clients(
        536, &zones, &plans,
    )));
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
    let done = sink.done.notified();
    for i in 0..n {
        let key = ConversationKey::new(Channel::WhatsApp, format!("52146{i:08}"));
        router.route(Inbound::text(key, "hola, cuanto cuesta el de 50?"))?;
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
        "per conversation:       {:.1} KiB (actor, mailbox, state and its snapshot in the in-memory store)",
        (rss_after.saturating_sub(rss_before)) as f64 / n.max(1) as f64
    );
    Ok(())
}
