//! The real channel and the real actor tree, in process, over a [`MemoryStore`] with the demo
//! clients, against the fake Bot API: a running bot, as far as Telegram can tell.

use crate::fake::{FakeTelegram, Sent};
use redsol::settings::{GroupMode, Secret, TelegramSettings, TelegramTuning};
use redsol::telegram::TelegramChannel;
use redsol_actors::brain::OfflineBrain;
use redsol_actors::engine::Engine;
use redsol_actors::model::Channel;
use redsol_actors::rules::Rules;
use redsol_actors::store::{MemoryStore, Store};
use redsol_actors::supervisor::{self, RootMsg, Router, Sinks, SupervisorArgs};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

pub const TOKEN: &str = "7000000001:AAH-test_token-for_the_fake";
/// A staff member's Telegram id (added to `rules.staff.telegram_ids`).
pub const STAFF_ID: i64 = 900;

/// The shipped rules, with a staff id and an inbound rate limit loose enough for scripts.
pub fn rules() -> Rules {
    let mut rules = redsol_actors::testing::rules();
    rules.limits.inbound_burst = 1000;
    rules.limits.inbound_per_minute = 60_000;
    rules.staff.telegram_ids.push(STAFF_ID.to_string());
    rules
}

pub fn demo_store(rules: &Rules) -> Arc<MemoryStore> {
    let zones: Vec<String> = rules.zones.iter().map(|z| z.name.clone()).collect();
    let plans: Vec<(u32, u32)> = rules.plans.iter().map(|p| (p.mbps, p.price)).collect();
    Arc::new(MemoryStore::new(redsol_actors::demo::demo_clients(
        536, &zones, &plans,
    )))
}

/// Tuning for tests: short polls, generous limits, quick backoff.
pub fn tuning(api_url: &str) -> TelegramTuning {
    TelegramTuning {
        api_url: api_url.to_string(),
        poll_timeout_secs: 5,
        send_per_second: 30,
        chat_burst: 20,
        chat_per_second: 50.0,
        max_retries: 3,
        backoff_base_ms: 10,
        backoff_max_secs: 1,
        groups: GroupMode::Commands,
        memory_queue: 10_000,
    }
}

pub fn settings(fake: &FakeTelegram) -> TelegramSettings {
    TelegramSettings {
        token: Secret::new(TOKEN),
        api_url: fake.url.clone(),
        webhook_url: None,
        webhook_secret: None,
    }
}

/// A running bot: the channel and the actor tree.
pub struct Bot {
    pub channel: TelegramChannel,
    pub router: Router,
    pub root: ractor::ActorRef<RootMsg>,
    pub root_handle: tokio::task::JoinHandle<()>,
    pub store: Arc<MemoryStore>,
    pub rules: Arc<Rules>,
}

/// Starts the actor tree with the channel's sink (the channel prepared already).
pub async fn start_tree(
    channel: &TelegramChannel,
    store: Arc<MemoryStore>,
    rules: Rules,
) -> (
    Router,
    ractor::ActorRef<RootMsg>,
    tokio::task::JoinHandle<()>,
    Arc<Rules>,
) {
    let rules = Arc::new(rules);
    let brain = Arc::new(OfflineBrain::new(rules.clone()));
    let store_dyn: Arc<dyn Store> = store;
    let engine = Engine::new(rules.clone(), brain, store_dyn);
    let mut sinks: Sinks = HashMap::new();
    sinks.insert(Channel::Telegram, channel.sink());
    let (router, root, handle) = supervisor::start(SupervisorArgs { engine, sinks })
        .await
        .expect("actor tree starts");
    (router, root, handle, rules)
}

impl Bot {
    /// Starts a bot in polling mode over `store`, as `redsol run` would: prepare, tree, replay
    /// of the journal, inbound, resend of the outbox.
    pub async fn start(fake: &FakeTelegram, store: Arc<MemoryStore>) -> Bot {
        Self::start_with(fake, store, settings(fake), tuning(&fake.url)).await
    }

    pub async fn start_with(
        fake: &FakeTelegram,
        store: Arc<MemoryStore>,
        settings: TelegramSettings,
        tuning: TelegramTuning,
    ) -> Bot {
        Self::start_led(fake, store, settings, tuning, None).await
    }

    /// [`Bot::start_with`], polling only while `leadership` says this replica leads.
    pub async fn start_led(
        fake: &FakeTelegram,
        store: Arc<MemoryStore>,
        settings: TelegramSettings,
        tuning: TelegramTuning,
        leadership: Option<tokio::sync::watch::Receiver<bool>>,
    ) -> Bot {
        let _ = fake;
        let store_dyn: Arc<dyn Store> = store.clone();
        let mut channel = TelegramChannel::prepare(&settings, &tuning, store_dyn.clone())
            .await
            .expect("channel prepares");
        if let Some(leadership) = leadership {
            channel.lead_with(leadership);
        }
        let (router, root, root_handle, rules) = start_tree(&channel, store.clone(), rules()).await;
        supervisor::replay_journal(store_dyn.as_ref(), &router)
            .await
            .expect("journal replays");
        channel
            .start_inbound(router.clone())
            .await
            .expect("inbound starts");
        channel.resend_pending().await;
        Bot {
            channel,
            router,
            root,
            root_handle,
            store,
            rules,
        }
    }

    /// A graceful stop: inbound (offset committed), conversations, sender.
    pub async fn stop(mut self) {
        self.channel.stop_inbound().await;
        let _ = self.router.drain(Duration::from_secs(5)).await;
        self.root.stop(Some("test over".into()));
        let _ = self.root_handle.await;
        self.channel.shutdown(Duration::from_secs(5)).await;
    }
}

/// A conversation of a test user with the bot, through the fake.
pub struct User<'a> {
    pub fake: &'a FakeTelegram,
    pub id: i64,
    pub profile: serde_json::Value,
    queries: usize,
}

impl<'a> User<'a> {
    pub fn new(fake: &'a FakeTelegram, id: i64, first: &str, last: Option<&str>) -> User<'a> {
        User {
            fake,
            id,
            profile: crate::fake::update::user(id, first, last),
            queries: 0,
        }
    }

    fn sent_to_me(&self) -> Vec<Sent> {
        self.fake
            .sent()
            .into_iter()
            .filter(|s| s.chat_id == self.id)
            .collect()
    }

    /// Waits for the next message to this user after `seen` of them.
    async fn next_after(&self, seen: usize) -> Sent {
        let id = self.id;
        self.fake
            .wait_until("a reply", |f| {
                f.sent().iter().filter(|s| s.chat_id == id).count() > seen
            })
            .await;
        self.sent_to_me()[seen].clone()
    }

    /// Types a text (or a command) and returns the reply.
    pub async fn say(&self, text: &str) -> Sent {
        let seen = self.sent_to_me().len();
        self.fake
            .push("message", crate::fake::update::text(&self.profile, text));
        self.next_after(seen).await
    }

    /// Taps an inline button and returns the reply; checks the query was answered.
    pub async fn tap(&mut self, data: &str) -> Sent {
        self.queries += 1;
        let query = format!("q-{}-{}", self.id, self.queries);
        let seen = self.sent_to_me().len();
        self.fake.push(
            "callback_query",
            crate::fake::update::callback(&self.profile, &query, data),
        );
        let reply = self.next_after(seen).await;
        self.fake
            .wait_until("the callback query answered", |f| {
                f.callback_answers().contains(&query)
            })
            .await;
        reply
    }

    /// Sends any message content and returns the reply.
    pub async fn send(&self, content: serde_json::Value) -> Sent {
        let seen = self.sent_to_me().len();
        self.fake.push(
            "message",
            crate::fake::update::message(&self.profile, content),
        );
        self.next_after(seen).await
    }

    /// Pushes a raw update of `kind` and returns the reply.
    pub async fn push(&self, kind: &str, body: serde_json::Value) -> Sent {
        let seen = self.sent_to_me().len();
        self.fake.push(kind, body);
        self.next_after(seen).await
    }
}
