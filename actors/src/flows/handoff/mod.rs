//! Handoff to a person. A customer who asks for one gets the expected wait and the staff
//! chat gets a card with "Atender"; the first staff member who taps it holds the
//! conversation (the store decides, once). While it is held, what the customer writes is
//! relayed to that staff member's private chat and what they write goes back, and the bot says
//! nothing itself. `/soltar`, or silence on both sides for `handoff.idle_release_mins`,
//! returns it to the bot. `/mis` lists what a staff member holds,
//! `/cliente` shows the customer's record, `/atender H-000001` takes one without the button.
//!
//! Both sides keep their part in their own snapshot (the customer the handoff's id, the staff
//! member whom they answer), and the store keeps who holds what: every relayed message is an
//! ordinary durable reply of the turn that relays it, and every store change a turn makes is
//! found again when the turn is replayed, so a restart neither loses nor doubles anything.
//!
//! - this file: the customer's side (asking, the relay to the person, backing out);
//! - [`card`]: what staff see of the customer (the card, and what it is made of);
//! - [`staff`]: taking, the commands, the relay to the customer;
//! - [`sweep`]: the idle release, expired requests, cards queued out of hours.

mod card;
mod staff;
mod sweep;

pub use sweep::SweepEvent;

use crate::dialogue::signals::{self, Signal};
use crate::engine::{ConversationState, Dialogue, Engine};
use crate::model::{Channel, Content, ConversationKey, Inbound, Intent, Reply};
use crate::store::handoff::{Ended, Handoff, NewHandoff};
use crate::text;
use serde::{Deserialize, Serialize};

/// A reply addressed to a conversation other than the one that made it (the staff chat, a
/// customer, a staff member's private chat).
#[derive(Clone, Debug, PartialEq)]
pub struct Addressed {
    pub key: ConversationKey,
    pub reply: Reply,
    /// The platform id of a message of ours it replaces, where the platform can edit.
    pub edit: Option<String>,
}

/// A staff member's: the customer their messages go to, and the handoff that lets them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relay {
    pub customer: ConversationKey,
    pub handoff: String,
}

/// The longest relayed message, either way (the platforms take 4,096 characters; the bot's own
/// replies are held to `limits.max_reply_chars`, a person's are not).
const RELAYED_CHARS: usize = 3500;
/// The quick-reply id of the card's button.
const TAKE: &str = "take:";
/// Every staff command of handoffs, tickets and outages (refused to anyone else). Channels keep
/// their slash: without it they are words a staff member may well write to a customer.
pub const STAFF_COMMANDS: &[&str] = &[
    staff::RELEASE,
    staff::MINE,
    staff::CUSTOMER,
    staff::ATTEND,
    "/cerrar",
    crate::flows::outage::DECLARE,
    crate::flows::outage::RESOLVE,
    crate::flows::outage::LIST,
    crate::flows::billing::PAY,
];

fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::WhatsApp => "WhatsApp",
        Channel::Telegram => "Telegram",
        Channel::Console => "consola",
    }
}

/// What a customer's message says, as a person reads it in a relay.
fn relayed_text(content: &Content) -> String {
    match content {
        Content::Text(t) => text::truncate_chars(t, RELAYED_CHARS),
        Content::Choice(c) => format!("[tocó «{c}»]"),
        Content::Location {
            latitude,
            longitude,
            ..
        } => format!("[ubicación https://maps.google.com/?q={latitude:.5},{longitude:.5}]"),
        Content::Contact { phone } => format!("[contacto {phone}]"),
        Content::Unsupported(kind) => format!("[{kind}]"),
        Content::Media { kind, id, caption } => match caption {
            Some(c) => format!(
                "[{kind}, id de medio {id}] {}",
                text::truncate_chars(c, RELAYED_CHARS)
            ),
            None => format!("[{kind}, id de medio {id}]"),
        },
    }
}

impl Engine {
    /// Loads the customers with an open handoff (at start).
    pub async fn load_handoffs(&self) -> crate::store::StoreResult<()> {
        let open = self.store.handoffs().open_handoffs().await?;
        if let Ok(mut set) = self.handoff_customers.write() {
            *set = open.into_iter().map(|h| h.customer).collect();
        }
        Ok(())
    }

    fn note_handoff(&self, customer: &ConversationKey, open: bool) {
        if let Ok(mut set) = self.handoff_customers.write() {
            if open {
                set.insert(customer.clone());
            } else {
                set.remove(customer);
            }
        }
    }

    fn may_have_handoff(&self, customer: &ConversationKey) -> bool {
        self.handoff_customers
            .read()
            .is_ok_and(|set| set.contains(customer))
    }

    pub(crate) fn send_to(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        reply: Reply,
    ) {
        state.outgoing.push(Addressed {
            key: key.clone(),
            reply,
            edit: None,
        });
    }

    /// Where cards and alerts go: the staff group, or else every staff member's private chat;
    /// none when Telegram is not running.
    pub(crate) fn staff_targets(&self) -> Vec<ConversationKey> {
        if !self.runs(Channel::Telegram) {
            return Vec::new();
        }
        match &self.rules.staff.telegram_chat_id {
            Some(group) => vec![ConversationKey::new(Channel::Telegram, group.clone())],
            None => self
                .rules
                .staff
                .telegram_ids
                .iter()
                .map(|id| ConversationKey::new(Channel::Telegram, id.clone()))
                .collect(),
        }
    }

    /// A customer asks for a person: the handoff opens (once), the customer is told the wait
    /// (or the hours, when nobody is in), and in hours the staff chat gets the card. Without a
    /// staff chat the request is only recorded, and the customer is told so.
    pub(crate) async fn ask_for_person(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
    ) -> Reply {
        let targets = self.staff_targets();
        if targets.is_empty() {
            // A setting to fix, not an event per customer: said once at warn, then at debug.
            let said = self
                .no_staff_chat_said
                .swap(true, std::sync::atomic::Ordering::Relaxed);
            if said {
                tracing::debug!(
                    event = "handoff_no_staff_chat",
                    "a customer asked for a person and no staff chat runs; the request is recorded"
                );
            } else {
                tracing::warn!(
                    event = "handoff_no_staff_chat",
                    "a customer asked for a person and no staff chat runs (Telegram with rules.staff.telegram_chat_id or telegram_ids); the request is recorded, and later ones are logged at debug"
                );
            }
            return self.with_menu(self.say("handoff_unavailable", &[]));
        }
        let now = self.now();
        let topic = state
            .last_intent
            .and_then(|i| self.rules.topics.get(i.as_str()))
            .cloned()
            .unwrap_or_else(|| "una consulta general".into());
        let name = state
            .profile
            .name
            .clone()
            .unwrap_or_else(|| "Cliente".into());
        let hours = &self.rules.handoff;
        let new = NewHandoff {
            customer: key.clone(),
            name,
            topic,
            source: state.turn_source.clone(),
            at: now,
            carded: hours.open_at(now),
        };
        let (handoff, created) = match self.store.handoffs().open_handoff(new).await {
            Ok(opened) => opened,
            Err(e) => {
                tracing::error!(error = %e, conversation = %key.opaque_id(), "could not open a handoff");
                return self.say("store_error", &[]);
            }
        };
        state.handoff = Some(handoff.id.clone());
        self.note_handoff(key, true);
        // Whether the card went out is the store's (a replay across the opening hour decides
        // as the first run did).
        if !handoff.carded {
            return self.say(
                "handoff_closed_hours",
                &[
                    ("hours", hours.describe()),
                    ("next", hours.next_opening(now)),
                ],
            );
        }
        // The turn that opened it posts the card (a replay posts it again, under the same
        // outbox ids); asked again after the expected wait, the card is posted again.
        let opened_here = handoff.source.is_some() && handoff.source == state.turn_source;
        let overdue = now >= handoff.requested_at + hours.expected_wait_mins * 60;
        if created || opened_here || (handoff.owner.is_none() && overdue) {
            let card = self.card(&handoff, state).await;
            for target in targets {
                self.send_to(state, &target, card.clone());
            }
        }
        self.say(
            "handoff_waiting",
            &[("wait", hours.expected_wait_mins.to_string())],
        )
    }

    /// Handoff business before the dialogue sees the message: a staff member's tap, command
    /// or relayed answer, or a customer's message while a person holds the conversation.
    /// `None` when the dialogue goes on as usual.
    pub(crate) async fn handoff_turn(
        &self,
        state: &mut ConversationState,
        inbound: &Inbound,
    ) -> Option<Reply> {
        let key = &inbound.key;
        if let Content::Choice(id) = &inbound.content {
            if let Some(id) = id.strip_prefix(TAKE) {
                return Some(self.take(state, inbound, id).await);
            }
        }
        if self.rules.is_staff(key) {
            if let Some(reply) = self.staff_side(state, inbound).await {
                return Some(reply);
            }
        } else if let Content::Text(t) = &inbound.content {
            let command = t.split_whitespace().next().unwrap_or_default();
            if STAFF_COMMANDS.contains(&command) {
                tracing::warn!(
                    event = "staff_refused",
                    channel = key.channel.as_str(),
                    conversation = %key.opaque_id(),
                    command,
                    "a staff command from a non-staff user refused"
                );
                return Some(self.say("staff_only", &[]));
            }
        }
        self.customer_side(state, inbound).await
    }

    /// A customer's message while their handoff is open: relayed when someone holds it.
    async fn customer_side(
        &self,
        state: &mut ConversationState,
        inbound: &Inbound,
    ) -> Option<Reply> {
        let key = &inbound.key;
        // A handoff the customer asked for, or one staff started for them.
        if state.handoff.is_none() && !self.may_have_handoff(key) {
            return None;
        }
        let open = match self.store.handoffs().handoff_for(key).await {
            Ok(h) => h.filter(|h| state.handoff.as_ref().is_none_or(|id| *id == h.id)),
            Err(e) => {
                tracing::error!(error = %e, conversation = %key.opaque_id(), "could not read a handoff; the bot answers");
                return None;
            }
        };
        let Some(handoff) = open else {
            // Released, idle or expired: the bot is back.
            state.handoff = None;
            self.note_handoff(key, false);
            return None;
        };
        state.handoff = Some(handoff.id.clone());
        let Some(owner) = handoff.owner.clone() else {
            // Nobody has taken it yet: the bot keeps helping, and a short back-out withdraws
            // the request.
            let backs_out = match &inbound.content {
                Content::Text(t) => {
                    matches!(signals::signal(t), Some(Signal::Cancel))
                        && t.split_whitespace().count() <= 3
                        && state.dialogue == Dialogue::Idle
                }
                _ => false,
            };
            if backs_out && self.end_for(state, &handoff, Ended::Abandoned).await {
                state.handoff = None;
                return Some(self.with_menu(self.say("handoff_abandoned", &[])));
            }
            return None;
        };
        if !self.runs(owner.key.channel) {
            // The person's channel is not running here: the bot takes the conversation back.
            tracing::error!(
                event = "handoff_owner_unreachable",
                channel = owner.key.channel.as_str(),
                "a held conversation's staff member cannot be reached; it returns to the bot"
            );
            self.end_for(state, &handoff, Ended::Idle).await;
            state.handoff = None;
            return None;
        }
        let header = self.rules.render(
            "handoff_relay",
            &[
                ("name", handoff.name.clone()),
                ("channel", channel_name(key.channel).into()),
            ],
        );
        let relayed = Reply {
            text: format!("{header}\n{}", relayed_text(&inbound.content)),
            quick_replies: Vec::new(),
            attachment: None,
        };
        self.touch(&handoff.id).await;
        self.send_to(state, &owner.key, relayed);
        state.silent = true;
        Some(Reply::default())
    }

    /// Notes a message relayed either way: the idle release counts from the last one.
    async fn touch(&self, handoff: &str) {
        if let Err(e) = self
            .store
            .handoffs()
            .touch_handoff(handoff, self.now())
            .await
        {
            tracing::warn!(error = %e, "could not note a relayed message");
        }
    }

    /// Ends a handoff from this turn (found again if the turn is replayed), counting how;
    /// whether this turn ended it.
    async fn end_for(&self, state: &ConversationState, h: &Handoff, ended: Ended) -> bool {
        let source = state.turn_source.clone();
        match self
            .store
            .handoffs()
            .end_handoff(&h.id, ended, self.now(), source)
            .await
        {
            Ok(Some(_)) => {
                metrics::counter!("redsol_handoffs_total", "channel" => h.customer.channel.as_str(), "outcome" => ended.as_str()).increment(1);
                self.note_handoff(&h.customer, false);
                true
            }
            Ok(None) => false,
            Err(e) => {
                tracing::error!(error = %e, "could not end a handoff");
                false
            }
        }
    }
}

/// Whether an intent is something a customer asks about (a handoff's topic).
pub(crate) fn is_topic(intent: Intent) -> bool {
    !matches!(
        intent,
        Intent::Greeting
            | Intent::Goodbye
            | Intent::Help
            | Intent::HumanAgent
            | Intent::OutOfScope
            | Intent::Stats
            | Intent::ClientSearch
            | Intent::Finance
    )
}
