//! The conversation engine: one turn of dialogue, from an inbound message and the
//! conversation's state to a reply, reading and writing the store on the way.
//!
//! The dialogue is an enum whose variants carry what has been collected so far; the question
//! to ask next is derived from what is missing, so a user may give the details in any order,
//! or all at once.

use crate::brain::{Brain, UnderstandContext};
pub(crate) use crate::dialogue::replies::yes_no_buttons;
use crate::dialogue::signals;
use crate::dialogue::state::context_of;
pub use crate::dialogue::state::{
    ConversationState, Dialogue, IncidentDraft, Paused, RegisterDraft, Turn,
};
use crate::flows::incident::fill_incident;
use crate::model::{
    Channel, Content, ConversationKey, Inbound, Intent, PendingRequest, Profile, Reply,
    Understanding,
};
use crate::reports;
use crate::rules::Rules;
use crate::store::Store;
use crate::text;
use std::sync::Arc;

mod dispatch;
mod parse;

use parse::Said;

/// Runs turns of dialogue. Shared by every conversation (cheap to clone).
#[derive(Clone)]
pub struct Engine {
    pub(crate) rules: Arc<Rules>,
    pub(crate) brain: Arc<dyn Brain>,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) clock: crate::clock::Clock,
    /// The channels running in this process (a reply elsewhere cannot be sent).
    pub(crate) running: Arc<Vec<Channel>>,
    /// The open zone outages, as the store has them (every change goes through the engine).
    pub(crate) outages: Arc<std::sync::RwLock<Vec<crate::store::outages::Outage>>>,
    /// The customers with an open handoff (the store's, kept here so that a customer's turn
    /// asks the store only when it may matter).
    pub(crate) handoff_customers:
        Arc<std::sync::RwLock<std::collections::HashSet<ConversationKey>>>,
    /// Whether the log said that no staff chat runs (a setting to fix: said once, at warn).
    pub(crate) no_staff_chat_said: Arc<std::sync::atomic::AtomicBool>,
}

impl Engine {
    pub fn new(rules: Arc<Rules>, brain: Arc<dyn Brain>, store: Arc<dyn Store>) -> Self {
        Self {
            rules,
            brain,
            store,
            clock: crate::clock::Clock::System,
            running: Arc::new(Channel::ALL.to_vec()),
            outages: Arc::default(),
            handoff_customers: Arc::default(),
            no_staff_chat_said: Arc::default(),
        }
    }

    /// The same engine, told which channels run (all of them unless told).
    pub fn with_running(mut self, channels: impl IntoIterator<Item = Channel>) -> Self {
        self.running = Arc::new(channels.into_iter().collect());
        self
    }

    /// Whether a channel runs in this process.
    pub(crate) fn runs(&self, channel: Channel) -> bool {
        self.running.contains(&channel)
    }

    /// The same engine on another clock (tests of business hours and idle limits).
    pub fn with_clock(mut self, clock: crate::clock::Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Unix seconds now, on the engine's clock.
    pub fn now(&self) -> u64 {
        self.clock.now()
    }

    pub fn rules(&self) -> &Arc<Rules> {
        &self.rules
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// One turn: updates `state` and returns the reply.
    pub async fn turn(&self, state: &mut ConversationState, inbound: &Inbound) -> Reply {
        merge_profile(&mut state.profile, &inbound.profile);
        state.private_reply = false;
        state.silent = false;
        state.outgoing.clear();
        state.turn_source = inbound
            .message_id
            .as_ref()
            .map(|id| format!("{}:{}:{}", inbound.key.channel, inbound.key.user, id));
        state.zone_outage = self.outage_for(state, &inbound.key, None).await;
        self.touch_contact(state, inbound).await;
        if let Some(reply) = self.handoff_turn(state, inbound).await {
            return self.remembered(state, &inbound.content, reply);
        }
        if let Some(reply) = self.survey_turn(state, inbound).await {
            return self.remembered(state, &inbound.content, reply);
        }
        match &inbound.content {
            Content::Text(t) => {
                if let Some(reply) = self.notices_command(&inbound.key, t).await {
                    return self.remembered(state, &inbound.content, reply);
                }
            }
            // The receipt a billing dialogue waits for.
            Content::Media { id, .. } => {
                if let Some(reply) = self.billing_receipt(state, &inbound.key, id).await {
                    return self.remembered(state, &inbound.content, reply);
                }
            }
            _ => {}
        }
        let said = self.parse(state, &inbound.content);
        let user_text = match &said {
            Said::Text(t) => t.clone(),
            Said::Forced(i) => format!("[{}]", i.as_str()),
            Said::Nothing(kind) => format!("[{kind}]"),
        };
        let reply = match said {
            Said::Nothing(template) => {
                let mut r = self.say(template, &[]);
                if let Some(q) = self.pending_question(state) {
                    r.text = format!("{}\n\n{}", r.text, q.text);
                    r.quick_replies = q.quick_replies;
                } else {
                    r.quick_replies = self.menu_buttons();
                }
                r
            }
            Said::Forced(intent) => {
                let u = Understanding {
                    intent,
                    confidence: 1.0,
                    entities: Default::default(),
                    source: crate::model::Source::Rules,
                    runner_up: None,
                };
                state.dialogue = Dialogue::Idle;
                self.dispatch(state, &inbound.key, "", &u, &context_of(state))
                    .await
            }
            Said::Text(t) => self.text_turn(state, &inbound.key, &t).await,
        };
        self.remember_turn(state, &user_text, reply)
    }

    /// A handoff turn in the history: what the customer said, and what the person answered
    /// is theirs (not in the bot's history).
    fn remembered(&self, state: &mut ConversationState, content: &Content, reply: Reply) -> Reply {
        let user_text = match content {
            Content::Text(t) => t.clone(),
            Content::Choice(c) => format!("[{c}]"),
            _ => "[adjunto]".to_string(),
        };
        self.remember_turn(state, &user_text, reply)
    }

    fn remember_turn(&self, state: &mut ConversationState, user_text: &str, reply: Reply) -> Reply {
        state.history.push_back(Turn {
            user: text::truncate_chars(user_text, 200),
            bot: text::truncate_chars(&reply.text, 200),
        });
        while state.history.len() > self.rules.limits.history_turns {
            state.history.pop_front();
        }
        reply
    }

    /// The reply sent when a message was dropped after the restart budget ran out.
    pub fn apology(&self) -> Reply {
        Reply {
            text: self.rules.render("apology", &[]),
            quick_replies: self.menu_buttons(),
            attachment: None,
        }
    }

    /// The one notice a rate-limited user gets.
    /// Said in a group when the answer holds staff data and goes to the private chat instead.
    pub fn private_notice(&self) -> Reply {
        Reply {
            text: self.rules.render("staff_private", &[]),
            quick_replies: Vec::new(),
            attachment: None,
        }
    }

    pub fn rate_limited_notice(&self) -> Reply {
        Reply {
            text: self.rules.render("rate_limited", &[]),
            quick_replies: Vec::new(),
            attachment: None,
        }
    }

    /// A text message: answered, then the other requests it holds are kept for later (or
    /// served at once when nothing is running).
    async fn text_turn(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        t: &str,
    ) -> Reply {
        let (now, others) = if t.split_whitespace().count() >= 6 {
            self.split_requests(t, &context_of(state)).await
        } else {
            (t.to_string(), Vec::new())
        };
        let mut primary = None;
        let reply = self.answer(state, key, &now, &mut primary).await;
        let others = others
            .into_iter()
            .filter(|f| Some(f.intent) != primary)
            .collect();
        self.queue_or_serve(state, key, reply, others).await
    }

    /// The answer to a text message; `primary` is set to the intent understood, if any.
    async fn answer(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        t: &str,
        primary: &mut Option<Intent>,
    ) -> Reply {
        let folded = text::fold(t);
        if let Some(reply) = self.repair(state, t) {
            return reply;
        }
        match folded.as_str() {
            "menu" | "inicio" | "ayuda" | "opciones" => {
                state.dialogue = Dialogue::Idle;
                return self.with_menu(self.say("menu", &[]));
            }
            "start" => {
                state.dialogue = Dialogue::Idle;
                return self.greeting(state);
            }
            _ => {}
        }
        let ctx = context_of(state);
        let u = self.brain.understand(t, &ctx).await;
        let u = self.settled(&u).unwrap_or(u);
        metrics::counter!("redsol_intents_total", "intent" => u.intent.as_str(), "source" => u.source.as_str())
            .increment(1);
        state.remember(&u);
        *primary = Some(u.intent);
        // A question the config answers, wherever it is asked; the flow's question follows.
        if let Some(answer) = self.rules.faq_answer(t) {
            let mut r = self.with_menu(Reply {
                text: self.rules.finish(answer.to_string()),
                quick_replies: Vec::new(),
                attachment: None,
            });
            if let Some(q) = self.pending_question(state) {
                r.text = self.rules.finish(format!("{}\n\n{}", r.text, q.text));
                r.quick_replies = q.quick_replies;
            }
            return r;
        }
        // A phone said in passing ("mi cel es 442 123 4567"), with nothing else to act on:
        // kept, said so, and the running flow's question follows.
        let wants_phone = matches!(state.dialogue, Dialogue::Lead(_));
        if u.entities.phone.is_some() && !wants_phone && self.only_gives_a_phone(t, &u) {
            let mut r = self.with_menu(self.say("contact_saved", &[]));
            if let Some(q) = self.pending_question(state) {
                r.text = self.rules.finish(format!("{}\n\n{}", r.text, q.text));
                r.quick_replies = q.quick_replies;
            }
            return r;
        }

        match std::mem::take(&mut state.dialogue) {
            Dialogue::Idle => match self.correct_last_registration(state, key, t, &u).await {
                Some(reply) => reply,
                None => self.dispatch(state, key, t, &u, &ctx).await,
            },
            Dialogue::Registering(draft) => {
                self.continue_register(state, key, t, &u, &ctx, draft).await
            }
            Dialogue::Reporting(draft) => {
                self.continue_incident(state, key, t, &u, &ctx, draft).await
            }
            Dialogue::AskingCoverageZone => {
                if u.entities.zone.is_some() || !self.switches(&u) {
                    self.coverage(state, t, &u)
                } else {
                    self.dispatch(state, key, t, &u, &ctx).await
                }
            }
            Dialogue::AskingSearchQuery => {
                if self.switches(&u) && u.intent != Intent::ClientSearch {
                    self.dispatch(state, key, t, &u, &ctx).await
                } else {
                    self.search(state, key, t).await
                }
            }
            Dialogue::ChangingPlan { plan_mbps } => {
                self.continue_change_plan(state, key, t, &u, &ctx, plan_mbps)
                    .await
            }
            Dialogue::CancellingService { reason } => {
                self.continue_cancel_service(state, key, t, &u, &ctx, reason)
                    .await
            }
            Dialogue::Billing(step) => {
                // An id or 4 digits is the answer; anything else clear is a new request.
                let answers = t.chars().any(|c| c.is_ascii_digit());
                if !answers && self.switches(&u) && u.intent != Intent::Billing {
                    self.dispatch(state, key, t, &u, &ctx).await
                } else {
                    self.continue_billing(state, key, t, step).await
                }
            }
            Dialogue::Lead(draft) => match self.continue_lead(state, key, t, &u, draft).await {
                Some(reply) => reply,
                None => self.dispatch(state, key, t, &u, &ctx).await,
            },
        }
    }
}

/// The phone of a WhatsApp user is their id.
pub(crate) fn phone_of(key: &ConversationKey) -> Option<String> {
    (key.channel == Channel::WhatsApp && key.user.chars().all(|c| c.is_ascii_digit()))
        .then(|| key.user.clone())
}

fn merge_profile(into: &mut Profile, from: &Profile) {
    if let Some(name) = from.name.as_ref().filter(|n| !n.trim().is_empty()) {
        if into.name.is_none() {
            into.name = Some(text::clean_input(name, 60));
        }
    }
    if let Some(phone) = &from.phone {
        into.phone = Some(phone.clone());
    }
}
