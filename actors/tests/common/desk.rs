//! Two or more parties talking through one engine, turn by turn, as the conversation actors
//! would (a snapshot saved after every turn): what each turn answered and sent to others.

use redsol_actors::brain::OfflineBrain;
use redsol_actors::clock::Clock;
use redsol_actors::engine::{ConversationState, Engine};
use redsol_actors::flows::handoff::Addressed;
use redsol_actors::model::{Channel, Content, ConversationKey, Inbound, Profile, Reply};
use redsol_actors::store::MemoryStore;
use std::sync::Arc;

pub const GROUP: &str = "-1001";

pub struct Party {
    pub key: ConversationKey,
    pub state: ConversationState,
    pub name: &'static str,
}

impl Party {
    pub fn new(channel: Channel, user: &str, name: &'static str) -> Self {
        Self {
            key: ConversationKey::new(channel, user),
            state: ConversationState::default(),
            name,
        }
    }
}

pub struct Desk {
    pub engine: Engine,
    pub store: Arc<MemoryStore>,
    seq: u64,
}

/// What one turn sent: the reply to the sender (none when silent) and to others.
pub struct Sent {
    pub reply: Option<Reply>,
    pub others: Vec<Addressed>,
}

impl Sent {
    pub fn to(&self, key: &ConversationKey) -> Vec<String> {
        self.others
            .iter()
            .filter(|a| &a.key == key)
            .map(|a| a.reply.text.clone())
            .collect()
    }

    pub fn text(&self) -> String {
        self.reply
            .as_ref()
            .map(|r| r.text.clone())
            .unwrap_or_default()
    }
}

pub fn desk_at(unix: u64) -> Desk {
    desk_with(unix, Vec::new())
}

/// A desk whose store knows these clients.
pub fn desk_with(unix: u64, clients: Vec<redsol_actors::model::Client>) -> Desk {
    let mut rules = redsol_actors::testing::rules();
    rules.staff.telegram_ids = vec!["900".into(), "901".into()];
    rules.staff.telegram_chat_id = Some(GROUP.into());
    let rules = Arc::new(rules);
    let store = Arc::new(MemoryStore::new(clients));
    let engine = Engine::new(
        rules.clone(),
        Arc::new(OfflineBrain::new(rules)),
        store.clone(),
    )
    .with_clock(Clock::starting_at(unix));
    Desk {
        engine,
        store,
        seq: 0,
    }
}

impl Desk {
    pub async fn send(
        &mut self,
        who: &mut Party,
        content: Content,
        reply_to: Option<&str>,
    ) -> Sent {
        self.seq += 1;
        let inbound = Inbound {
            message_id: Some(format!("m{}", self.seq)),
            content,
            profile: Profile {
                name: Some(who.name.into()),
                phone: None,
            },
            reply_to: reply_to.map(str::to_string),
            ..Inbound::text(who.key.clone(), "")
        };
        let reply = self.engine.turn(&mut who.state, &inbound).await;
        // As the conversation actor does after every turn.
        let snapshot = serde_json::to_string(&who.state).expect("serializable");
        self.engine
            .store()
            .save_snapshot(&who.key, snapshot)
            .await
            .expect("snapshot saved");
        Sent {
            reply: (!who.state.silent).then_some(reply),
            others: std::mem::take(&mut who.state.outgoing),
        }
    }

    /// The handoff sweep now, its notices in order.
    pub async fn sweep(&self) -> Vec<Addressed> {
        self.engine
            .handoff_sweep(self.engine.now())
            .await
            .into_iter()
            .flat_map(|e| e.notices)
            .collect()
    }

    /// A message handled, then handled again from the state before it with the same id, as
    /// after a crash before its turn was committed: both results.
    pub async fn replayed(&mut self, who: &mut Party, text: &str) -> (Sent, Sent) {
        let before = who.state.clone();
        let first = self.say(who, text).await;
        self.seq -= 1;
        who.state = before;
        let again = self.say(who, text).await;
        (first, again)
    }

    pub async fn say(&mut self, who: &mut Party, text: &str) -> Sent {
        self.send(who, Content::Text(text.into()), None).await
    }

    pub async fn tap(&mut self, who: &mut Party, id: &str) -> Sent {
        self.send(who, Content::Choice(id.into()), Some(GROUP))
            .await
    }
}

pub fn group() -> ConversationKey {
    ConversationKey::new(Channel::Telegram, GROUP)
}
