//! The harness of the actor tests: the real actor tree and engine over a [`MemoryStore`] with
//! the demo clients, a reply sink that the test reads, and a brain that can be told to panic.

#![allow(dead_code)]

pub mod desk;
pub mod payments;

use redsol_actors::brain::{Brain, OfflineBrain, UnderstandContext};
use redsol_actors::clock::Clock;
use redsol_actors::engine::Engine;
use redsol_actors::model::{Channel, ConversationKey, Inbound, Outbound, ReplySink, Understanding};
use redsol_actors::rules::Rules;
use redsol_actors::store::{BoxFuture, MemoryStore};
use redsol_actors::supervisor::{self, Router, SupervisorArgs};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// 2026-12-07 00:00 UTC, a Monday (Sunday 18:00 in Mexico City).
pub const MONDAY_UTC: u64 = 1_796_601_600;
/// Monday 10:00 in Mexico City.
pub const MONDAY_10AM: u64 = MONDAY_UTC + 16 * 3600;

/// Collects replies per test.
pub struct TestSink(mpsc::UnboundedSender<Outbound>);

impl ReplySink for TestSink {
    fn deliver(&self, out: Outbound) {
        let _ = self.0.send(out);
    }
}

/// The offline brain, except that it panics on any text containing "boom" while it has panics
/// left: a bug in understanding, as far as the conversation can tell.
pub struct FlakyBrain {
    inner: OfflineBrain,
    pub panics_left: AtomicUsize,
    pub panics: AtomicUsize,
}

impl Brain for FlakyBrain {
    fn understand<'a>(
        &'a self,
        text: &'a str,
        ctx: &'a UnderstandContext,
    ) -> BoxFuture<'a, Understanding> {
        if text.contains("boom")
            && self
                .panics_left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
        {
            self.panics.fetch_add(1, Ordering::SeqCst);
            panic!("simulated failure while understanding a message");
        }
        self.inner.understand(text, ctx)
    }
}

pub struct Harness {
    pub router: Router,
    pub replies: mpsc::UnboundedReceiver<Outbound>,
    pub store: Arc<MemoryStore>,
    pub brain: Arc<FlakyBrain>,
    pub rules: Arc<Rules>,
}

/// The shipped rules, with a rate limit loose enough for scripted conversations.
pub fn default_rules() -> Rules {
    let mut rules = redsol_actors::testing::rules();
    rules.limits.inbound_burst = 1000;
    rules.limits.inbound_per_minute = 60_000;
    rules
}

pub async fn start() -> Harness {
    start_with(default_rules(), 0).await
}

pub fn demo_store(rules: &Rules) -> Arc<MemoryStore> {
    let zones: Vec<String> = rules.zones.iter().map(|z| z.name.clone()).collect();
    let plans: Vec<(u32, u32)> = rules.plans.iter().map(|p| (p.mbps, p.price)).collect();
    Arc::new(MemoryStore::new(redsol_actors::demo::demo_clients(
        536, &zones, &plans,
    )))
}

pub async fn start_with(rules: Rules, panics: usize) -> Harness {
    let store = demo_store(&rules);
    start_with_store(rules, panics, store).await
}

/// A tree over an existing store: a restarted process, as far as the store can tell.
pub async fn start_with_store(rules: Rules, panics: usize, store: Arc<MemoryStore>) -> Harness {
    let rules = Arc::new(rules);
    let brain = Arc::new(FlakyBrain {
        inner: OfflineBrain::new(rules.clone()),
        panics_left: AtomicUsize::new(panics),
        panics: AtomicUsize::new(0),
    });
    // A Monday at 10:00 in Mexico City: people answer (the outcome never depends on when the
    // tests run).
    let engine = Engine::new(rules.clone(), brain.clone(), store.clone())
        .with_clock(Clock::starting_at(MONDAY_10AM));
    let (tx, replies) = mpsc::unbounded_channel();
    let sink: Arc<dyn ReplySink> = Arc::new(TestSink(tx));
    let sinks = Channel::ALL
        .into_iter()
        .map(|c| (c, sink.clone()))
        .collect::<HashMap<_, _>>();
    let (router, _root, _handle) = supervisor::start(SupervisorArgs { engine, sinks })
        .await
        .expect("actor tree starts");
    Harness {
        router,
        replies,
        store,
        brain,
        rules,
    }
}

pub fn wa(user: &str) -> ConversationKey {
    ConversationKey::new(Channel::WhatsApp, user)
}

pub fn tg(user: &str) -> ConversationKey {
    ConversationKey::new(Channel::Telegram, user)
}

impl Harness {
    pub fn send(&self, key: &ConversationKey, text: &str) {
        self.router
            .route(Inbound::text(key.clone(), text))
            .expect("router accepts");
    }

    pub fn send_inbound(&self, inbound: Inbound) {
        self.router.route(inbound).expect("router accepts");
    }

    /// The next reply, waiting at most 10 s (virtual time under paused tests).
    pub async fn reply(&mut self) -> Outbound {
        tokio::time::timeout(Duration::from_secs(10), self.replies.recv())
            .await
            .expect("a reply within 10 s")
            .expect("reply channel open")
    }

    /// Sends a text and returns the reply text.
    pub async fn ask(&mut self, key: &ConversationKey, text: &str) -> String {
        self.send(key, text);
        let out = self.reply().await;
        assert_eq!(&out.key, key, "reply went to the wrong conversation");
        out.reply.text
    }

    /// Asserts that no reply arrives within `wait`.
    pub async fn no_reply_within(&mut self, wait: Duration) {
        if let Ok(Some(out)) = tokio::time::timeout(wait, self.replies.recv()).await {
            panic!("unexpected reply to {:?}: {}", out.key, out.reply.text);
        }
    }

    /// Polls (bounded) until `active()` equals `n`.
    pub async fn wait_active(&self, n: usize) {
        for _ in 0..1000 {
            if self.router.active().await.expect("router alive") == n {
                return;
            }
            tokio::task::yield_now().await;
        }
        panic!("active conversations never reached {n}");
    }
}
