//! The harness of the WhatsApp sender's tests: a sender over the fake Graph API and an
//! in-memory store, and the replies the tests send.

use crate::fake_graph::FakeGraph;
use metrics_util::debugging::{DebugValue, Snapshotter};
use redsol::channels::media::MediaSource;
use redsol::settings::{Secret, Settings, WhatsAppTuning};
use redsol::whatsapp::graph::GraphClient;
use redsol::whatsapp::outbound::{self, WhatsAppOutbound};
use redsol_actors::model::{Channel, ConversationKey, Outbound, QuickReply, Reply, ReplySink};
use redsol_actors::store::{MemoryStore, OutboxEntry, Store, TurnCommit};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

pub(crate) const TOKEN: &str = "EAAG-test-access-token-0123456789";
pub(crate) const VERSION: &str = "v23.0";
pub(crate) const PHONE_ID: &str = "109876543210";
pub(crate) const ANA: &str = "5215512345678";
pub(crate) const BETO: &str = "5215587654321";
/// Bound of `drain` in the tests (reached only when a test fails).
pub(crate) const DRAIN: Duration = Duration::from_secs(20);

/// The default `[whatsapp]` tuning, with pacing lifted and fast retries.
pub(crate) fn tuning() -> WhatsAppTuning {
    let mut t = Settings::load_from(&HashMap::<String, String>::new())
        .expect("default settings load")
        .whatsapp_tuning;
    t.api_version = VERSION.to_string();
    t.send_per_second = 1000;
    t.recipient_burst = 1000;
    t.recipient_per_second = 1000.0;
    t.request_timeout_secs = 10;
    t.max_retries = 3;
    t.backoff_base_ms = 1;
    t.backoff_max_secs = 1;
    t.mark_read = true;
    t
}

pub(crate) struct Harness {
    pub(crate) fake: FakeGraph,
    pub(crate) store: Arc<MemoryStore>,
    pub(crate) sender: WhatsAppOutbound,
    pub(crate) sink: Arc<dyn ReplySink>,
}

pub(crate) async fn start(t: WhatsAppTuning) -> Harness {
    start_with_files(t, None).await
}

/// A Graph API client of the test number, pointed at `fake`.
pub(crate) fn graph_client(fake: &FakeGraph, t: &WhatsAppTuning) -> GraphClient {
    GraphClient::new(
        fake.base_url(),
        &t.api_version,
        PHONE_ID,
        Secret::new(TOKEN),
        Duration::from_secs(t.request_timeout_secs),
    )
    .expect("client")
}

/// [`start`], with staff's files fetched from `files`.
pub(crate) async fn start_with_files(
    t: WhatsAppTuning,
    files: Option<Arc<dyn MediaSource>>,
) -> Harness {
    let fake = FakeGraph::start(TOKEN, VERSION, PHONE_ID).await;
    let client = graph_client(&fake, &t);
    let store = Arc::new(MemoryStore::new(Vec::new()));
    let sender = outbound::spawn(client, &t, store.clone(), files)
        .await
        .expect("sender starts");
    let sink = sender.sink();
    Harness {
        fake,
        store,
        sender,
        sink,
    }
}

impl Harness {
    pub(crate) async fn drain(&self) {
        assert!(self.sender.drain(DRAIN).await, "the sender drains");
    }

    /// Outbox ids not yet marked sent.
    pub(crate) async fn unsent(&self) -> Vec<String> {
        self.store
            .outbox_pending(Channel::WhatsApp)
            .await
            .expect("outbox")
            .into_iter()
            .map(|e| e.id)
            .collect()
    }

    /// A reply committed to the outbox, as a conversation commits it, and its `Outbound`.
    pub(crate) async fn durable(&self, user: &str, message_id: &str, reply: Reply) -> Outbound {
        let key = wa(user);
        let entry = OutboxEntry {
            id: OutboxEntry::id_for(&key, message_id, 0),
            key: key.clone(),
            reply: reply.clone(),
            in_reply_to: Some(message_id.to_string()),
            queued_at: 0,
            reply_to: None,
            attempted: false,
            edit: None,
            template: None,
        };
        self.store
            .commit_turn(TurnCommit {
                key: key.clone(),
                message_id: None,
                snapshot: "{}".to_string(),
                lease: None,
                replies: vec![entry.clone()],
            })
            .await
            .expect("commit");
        Outbound {
            key,
            reply,
            in_reply_to: Some(message_id.to_string()),
            outbox_id: Some(entry.id),
            accepted_at: Instant::now(),
            reply_to: None,
            edit: None,
            template: None,
        }
    }
}

pub(crate) fn wa(user: &str) -> ConversationKey {
    ConversationKey::new(Channel::WhatsApp, user)
}

pub(crate) fn reply(text: &str, options: &[(&str, &str)]) -> Reply {
    Reply {
        text: text.to_string(),
        quick_replies: options
            .iter()
            .map(|(id, title)| QuickReply::new(*id, *title))
            .collect(),
        attachment: None,
    }
}

pub(crate) fn plain(user: &str, text: &str) -> Outbound {
    Outbound {
        key: wa(user),
        reply: reply(text, &[]),
        in_reply_to: None,
        outbox_id: None,
        accepted_at: Instant::now(),
        reply_to: None,
        edit: None,
        template: None,
    }
}

/// A text of numbered lines (`0001 ...`), at least `chars` long.
pub(crate) fn numbered_text(chars: usize) -> String {
    let mut lines = Vec::new();
    let mut len = 0;
    let mut n = 1;
    while len < chars {
        let line = format!("{n:04} Plan Estándar 50 Mbps, instalación en 24-48 h en tu zona.");
        len += line.chars().count() + 1;
        lines.push(line);
        n += 1;
    }
    lines.join("\n")
}

/// The numbers of the lines a text message carries.
pub(crate) fn line_numbers(body: &str) -> Vec<u32> {
    body.lines()
        .filter_map(|l| l.get(..4).and_then(|n| n.parse().ok()))
        .collect()
}

pub(crate) fn counter(snapshotter: &Snapshotter, name: &str, labels: &[(&str, &str)]) -> u64 {
    snapshotter
        .snapshot()
        .into_vec()
        .into_iter()
        .filter(|(k, _, _, _)| {
            k.key().name() == name
                && labels
                    .iter()
                    .all(|(lk, lv)| k.key().labels().any(|l| l.key() == *lk && l.value() == *lv))
        })
        .map(|(_, _, _, v)| match v {
            DebugValue::Counter(n) => n,
            _ => 0,
        })
        .sum()
}
