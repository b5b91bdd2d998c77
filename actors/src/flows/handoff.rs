//! Handoff to a person. A customer who asks for one gets the expected wait and the staff
//! chat gets a card with "Atender"; the first staff member who taps it holds the
//! conversation (the store decides, once). While it is held, what the customer writes is
//! relayed to that staff member's private chat and what they write goes back, and the bot says
//! nothing itself. `/soltar`, or silence past `handoff.idle_release_mins`, returns it to the
//! bot. `/mis` lists what a staff member holds, `/cliente` shows the customer's record.
//!
//! Both sides keep their part in their own snapshot (the customer the handoff's id, the staff
//! member whom they answer), and the store keeps who holds what: every relayed message is an
//! ordinary durable reply of the turn that relays it, so a restart neither loses nor doubles it.

use crate::dialogue::signals::{self, Signal};
use crate::engine::{phone_of, ConversationState, Dialogue, Engine};
use crate::model::{Channel, Content, ConversationKey, Inbound, Intent, QuickReply, Reply};
use crate::store::handoff::{Claim, Ended, Handoff, NewHandoff, Owner};
use crate::text;

/// A reply addressed to a conversation other than the one that made it (the staff chat, a
/// customer, a staff member's private chat).
#[derive(Clone, Debug, PartialEq)]
pub struct Addressed {
    pub key: ConversationKey,
    pub reply: Reply,
}

/// The longest relayed message, either way (the platforms take 4,096 characters; the bot's own
/// replies are held to `limits.max_reply_chars`, a person's are not).
const RELAYED_CHARS: usize = 3500;
/// The quick-reply id of the card's button.
const TAKE: &str = "take:";
/// Staff commands of a held conversation, as the channels hand them over.
const RELEASE: &str = "/soltar";
const MINE: &str = "/mis";
const CUSTOMER: &str = "/cliente";
/// Every staff command (refused to anyone else).
const STAFF_COMMANDS: &[&str] = &[RELEASE, MINE, CUSTOMER, "/cerrar"];

fn channel_name(channel: Channel) -> &'static str {
    match channel {
        Channel::WhatsApp => "WhatsApp",
        Channel::Telegram => "Telegram",
        Channel::Console => "consola",
    }
}

impl Engine {
    pub(crate) fn send_to(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        reply: Reply,
    ) {
        state.outgoing.push(Addressed {
            key: key.clone(),
            reply,
        });
    }

    /// Where cards and alerts go: the staff group, or else every staff member's private chat.
    pub(crate) fn staff_targets(&self) -> Vec<ConversationKey> {
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
    /// (or the hours, when nobody is in), and in hours the staff chat gets the card.
    pub(crate) async fn ask_for_person(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
    ) -> Reply {
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
        let open = hours.open_at(now);
        let new = NewHandoff {
            customer: key.clone(),
            name,
            topic,
            source: state.turn_source.clone(),
            at: now,
            carded: open,
        };
        let (handoff, created) = match self.store.handoffs().open_handoff(new).await {
            Ok(opened) => opened,
            Err(e) => {
                tracing::error!(error = %e, conversation = %key.opaque_id(), "could not open a handoff");
                return self.say("store_error", &[]);
            }
        };
        state.handoff = Some(handoff.id.clone());
        if !open {
            return self.say(
                "handoff_closed_hours",
                &[
                    ("hours", hours.describe()),
                    ("next", hours.next_opening(now)),
                ],
            );
        }
        // The turn that opened it posts the card (a replayed turn posts it again, under the
        // same outbox ids); a request still waiting is not announced twice.
        let opened_here = handoff.source.is_some() && handoff.source == state.turn_source;
        if created || opened_here {
            let targets = self.staff_targets();
            if targets.is_empty() {
                tracing::warn!(
                    event = "handoff_no_staff_chat",
                    "a customer asked for a person and no staff chat is configured (rules.staff.telegram_chat_id or telegram_ids)"
                );
            }
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

    /// The card staff see in the group: name, channel, zone, open tickets, topic; nothing else.
    async fn card(&self, h: &Handoff, snapshot: &ConversationState) -> Reply {
        let client = self.customer_client(&h.customer, snapshot).await;
        let zone = snapshot
            .last_zone
            .clone()
            .or_else(|| client.as_ref().map(|c| c.zone.clone()))
            .unwrap_or_else(|| "sin zona".into());
        let tickets = self.open_tickets(&h.customer).await;
        let mut r = self.say(
            "handoff_card",
            &[
                ("id", h.id.clone()),
                ("name", h.name.clone()),
                ("channel", channel_name(h.customer.channel).into()),
                ("zone", zone),
                ("tickets", tickets),
                ("topic", h.topic.clone()),
            ],
        );
        r.quick_replies = vec![QuickReply::new(format!("{TAKE}{}", h.id), "Atender")];
        r
    }

    async fn customer_state(&self, customer: &ConversationKey) -> ConversationState {
        match self.store.load_snapshot(customer).await {
            Ok(Some(json)) => serde_json::from_str(&json).unwrap_or_default(),
            _ => ConversationState::default(),
        }
    }

    async fn customer_client(
        &self,
        customer: &ConversationKey,
        snapshot: &ConversationState,
    ) -> Option<crate::model::Client> {
        let phone = snapshot
            .profile
            .phone
            .clone()
            .or_else(|| phone_of(customer));
        self.client_by_phone(phone.as_deref()).await
    }

    async fn open_tickets(&self, customer: &ConversationKey) -> String {
        let ids: Vec<String> = self
            .store
            .incidents_for(customer)
            .await
            .unwrap_or_default()
            .into_iter()
            .filter(|i| i.is_open())
            .map(|i| i.id)
            .collect();
        if ids.is_empty() {
            "ninguno".into()
        } else {
            ids.join(", ")
        }
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
        let id = state.handoff.clone()?;
        let open = match self.store.handoffs().handoff_for(key).await {
            Ok(h) => h.filter(|h| h.id == id),
            Err(e) => {
                tracing::error!(error = %e, conversation = %key.opaque_id(), "could not read a handoff; the bot answers");
                return None;
            }
        };
        let Some(handoff) = open else {
            // Released or idle: the bot is back.
            state.handoff = None;
            return None;
        };
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
            if backs_out && self.abandon_handoff(state, key).await {
                return Some(self.with_menu(self.say("handoff_abandoned", &[])));
            }
            return None;
        };
        let now = self.now();
        if let Err(e) = self.store.handoffs().touch_handoff(&handoff.id, now).await {
            tracing::warn!(error = %e, "could not note a relayed message");
        }
        let said = match &inbound.content {
            Content::Text(t) => text::truncate_chars(t, RELAYED_CHARS),
            Content::Choice(c) => c.clone(),
            Content::Location {
                latitude,
                longitude,
                ..
            } => format!("[ubicación {latitude:.5},{longitude:.5}]"),
            Content::Contact { phone } => format!("[contacto {phone}]"),
            Content::Unsupported(kind) => format!("[{kind}]"),
        };
        let header = self.rules.render(
            "handoff_relay",
            &[
                ("name", handoff.name.clone()),
                ("channel", channel_name(key.channel).into()),
            ],
        );
        let relayed = Reply {
            text: format!("{header}\n{said}"),
            quick_replies: Vec::new(),
        };
        self.send_to(state, &owner.key, relayed);
        state.silent = true;
        Some(Reply::default())
    }

    /// A tap on "Atender".
    async fn take(&self, state: &mut ConversationState, inbound: &Inbound, id: &str) -> Reply {
        let key = &inbound.key;
        if !self.rules.is_staff(key) {
            tracing::warn!(
                event = "staff_refused",
                channel = key.channel.as_str(),
                conversation = %key.opaque_id(),
                "a non-staff user tried to take a conversation"
            );
            return self.say("staff_only", &[]);
        }
        let staff_name = state
            .profile
            .name
            .clone()
            .unwrap_or_else(|| "el equipo".into());
        let owner = Owner {
            key: key.clone(),
            name: staff_name.clone(),
        };
        let now = self.now();
        match self.store.handoffs().claim_handoff(id, owner, now).await {
            Ok(Claim::Taken(h)) => {
                if state.relay.as_ref() != Some(&h.customer) {
                    metrics::counter!("redsol_handoffs_total", "channel" => h.customer.channel.as_str(), "outcome" => "taken").increment(1);
                    metrics::histogram!("redsol_handoff_wait_seconds")
                        .record(now.saturating_sub(h.requested_at) as f64);
                }
                state.relay = Some(h.customer.clone());
                self.send_to(
                    state,
                    &h.customer,
                    self.say("handoff_taken_customer", &[("staff", staff_name.clone())]),
                );
                let details = self.details(&h).await;
                if inbound.reply_to.is_some() {
                    // Tapped in the group: the group sees who took it, the details go private.
                    self.send_to(state, key, details);
                    self.say(
                        "handoff_taken_group",
                        &[("name", h.name.clone()), ("staff", staff_name)],
                    )
                } else {
                    details
                }
            }
            Ok(Claim::HeldBy(h)) => {
                let by = h.owner.map(|o| o.name).unwrap_or_default();
                self.say("handoff_held_by", &[("staff", by)])
            }
            Ok(Claim::Gone) => self.say("handoff_gone", &[]),
            Err(e) => {
                tracing::error!(error = %e, "could not claim a handoff");
                self.say("store_error", &[])
            }
        }
    }

    /// What only the staff member who takes a conversation sees: phone, client id, last turns.
    async fn details(&self, h: &Handoff) -> Reply {
        let snapshot = self.customer_state(&h.customer).await;
        let client = self.customer_client(&h.customer, &snapshot).await;
        let phone = snapshot
            .profile
            .phone
            .clone()
            .or_else(|| phone_of(&h.customer))
            .or_else(|| client.as_ref().map(|c| c.phone.clone()))
            .unwrap_or_else(|| "sin teléfono".into());
        let turns: Vec<String> = snapshot
            .history
            .iter()
            .rev()
            .take(5)
            .rev()
            .map(|t| format!("👤 {}\n🤖 {}", t.user, t.bot))
            .collect();
        self.say(
            "handoff_taken_staff",
            &[
                ("id", h.id.clone()),
                ("name", h.name.clone()),
                ("channel", channel_name(h.customer.channel).into()),
                ("phone", phone),
                (
                    "client",
                    client.map_or_else(|| "no es cliente".into(), |c| c.id),
                ),
                ("turns", turns.join("\n")),
            ],
        )
    }

    /// A staff member's commands, and what they write while answering a customer.
    async fn staff_side(&self, state: &mut ConversationState, inbound: &Inbound) -> Option<Reply> {
        let key = &inbound.key;
        let typed = match &inbound.content {
            Content::Text(t) => t.trim().to_string(),
            _ => String::new(),
        };
        if let Some(reply) = self.followup_command(state, &typed).await {
            return Some(reply);
        }
        let command = typed.split_whitespace().next().unwrap_or_default();
        let held = match self.store.handoffs().handoffs_held(key).await {
            Ok(held) => held,
            Err(e) => {
                tracing::error!(error = %e, "could not read the handoffs a staff member holds");
                return None;
            }
        };
        if command == MINE {
            return Some(self.mine(state, &held));
        }
        let current = state
            .relay
            .as_ref()
            .and_then(|c| held.iter().find(|h| &h.customer == c))
            .cloned();
        if state.relay.is_some() && current.is_none() {
            // Released elsewhere (idle): nothing to relay to any more.
            state.relay = None;
        }
        let Some(current) = current else {
            return matches!(command, RELEASE | CUSTOMER)
                .then(|| self.say("handoff_none_held", &[]));
        };
        match command {
            RELEASE => Some(self.release(state, &current, Ended::Released).await),
            CUSTOMER => Some(self.details(&current).await),
            _ if inbound.reply_to.is_some() => None,
            _ => {
                let reply = match &inbound.content {
                    Content::Text(t) => Reply {
                        text: text::truncate_chars(t, RELAYED_CHARS),
                        quick_replies: Vec::new(),
                    },
                    Content::Unsupported(kind) => {
                        return Some(
                            self.say("handoff_relay_unsupported", &[("kind", kind.clone())]),
                        )
                    }
                    _ => return None,
                };
                if let Err(e) = self
                    .store
                    .handoffs()
                    .touch_handoff(&current.id, self.now())
                    .await
                {
                    tracing::warn!(error = %e, "could not note a relayed message");
                }
                self.send_to(state, &current.customer, reply);
                state.silent = true;
                Some(Reply::default())
            }
        }
    }

    fn mine(&self, state: &ConversationState, held: &[Handoff]) -> Reply {
        if held.is_empty() {
            return self.say("handoff_none_held", &[]);
        }
        let lines: Vec<String> = held
            .iter()
            .map(|h| {
                let active = if state.relay.as_ref() == Some(&h.customer) {
                    " ← respondes aquí"
                } else {
                    ""
                };
                format!(
                    "• {} · {} · {} · {}{active}",
                    h.id,
                    h.name,
                    channel_name(h.customer.channel),
                    h.topic
                )
            })
            .collect();
        let mut r = self.say("handoff_mine", &[("list", lines.join("\n"))]);
        r.quick_replies = held
            .iter()
            .map(|h| QuickReply::new(format!("{TAKE}{}", h.id), format!("Responder a {}", h.name)))
            .collect();
        r
    }

    /// Gives a held conversation back to the bot: the customer is told, and so is the staff
    /// member, who answers the next one they hold, if any.
    async fn release(
        &self,
        state: &mut ConversationState,
        current: &Handoff,
        ended: Ended,
    ) -> Reply {
        match self
            .store
            .handoffs()
            .end_handoff(&current.id, ended, self.now())
            .await
        {
            Ok(Some(_)) => {
                metrics::counter!("redsol_handoffs_total", "channel" => current.customer.channel.as_str(), "outcome" => ended.as_str()).increment(1);
                self.send_to(
                    state,
                    &current.customer,
                    self.say("handoff_released_customer", &[]),
                );
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, "could not release a handoff");
                return self.say("store_error", &[]);
            }
        }
        state.relay = self
            .store
            .handoffs()
            .handoffs_held(
                &current
                    .owner
                    .as_ref()
                    .map_or_else(|| current.customer.clone(), |o| o.key.clone()),
            )
            .await
            .ok()
            .and_then(|held| held.last().map(|h| h.customer.clone()));
        self.say("handoff_released_staff", &[("name", current.name.clone())])
    }

    /// A customer who backs out while nobody has taken the conversation yet.
    async fn abandon_handoff(&self, state: &mut ConversationState, key: &ConversationKey) -> bool {
        let Some(id) = state.handoff.take() else {
            return false;
        };
        match self
            .store
            .handoffs()
            .end_handoff(&id, Ended::Abandoned, self.now())
            .await
        {
            Ok(Some(h)) if h.owner.is_none() => {
                metrics::counter!("redsol_handoffs_total", "channel" => key.channel.as_str(), "outcome" => "abandoned").increment(1);
                true
            }
            Ok(_) => false,
            Err(e) => {
                tracing::error!(error = %e, "could not end a handoff");
                false
            }
        }
    }

    /// The periodic work of handoffs at Unix time `now`: held conversations silent past the
    /// idle limit go back to the bot (both sides told), and requests queued out of hours get
    /// their card once hours start. Returns what to send.
    pub async fn handoff_sweep(&self, now: u64) -> Vec<Addressed> {
        let mut out = Vec::new();
        let idle = self.rules.handoff.idle_release_mins * 60;
        let open = match self.store.handoffs().open_handoffs().await {
            Ok(open) => open,
            Err(e) => {
                tracing::error!(error = %e, "could not list open handoffs");
                return out;
            }
        };
        let held = open.iter().filter(|h| h.owner.is_some()).count();
        metrics::gauge!("redsol_handoffs_active").set(held as f64);
        for h in open {
            match &h.owner {
                Some(owner) if h.last_activity + idle <= now => {
                    match self
                        .store
                        .handoffs()
                        .end_handoff(&h.id, Ended::Idle, now)
                        .await
                    {
                        Ok(Some(_)) => {
                            metrics::counter!("redsol_handoffs_total", "channel" => h.customer.channel.as_str(), "outcome" => "idle").increment(1);
                            out.push(Addressed {
                                key: h.customer.clone(),
                                reply: self.say("handoff_released_customer", &[]),
                            });
                            out.push(Addressed {
                                key: owner.key.clone(),
                                reply: self.say("handoff_idle_staff", &[("name", h.name.clone())]),
                            });
                        }
                        Ok(None) => {}
                        Err(e) => tracing::error!(error = %e, "could not release an idle handoff"),
                    }
                }
                None if !h.carded && self.rules.handoff.open_at(now) => {
                    let snapshot = self.customer_state(&h.customer).await;
                    let card = self.card(&h, &snapshot).await;
                    match self.store.handoffs().mark_carded(&h.id).await {
                        Ok(()) => {
                            out.extend(self.staff_targets().into_iter().map(|key| Addressed {
                                key,
                                reply: card.clone(),
                            }))
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "could not mark a handoff's card posted")
                        }
                    }
                }
                _ => {}
            }
        }
        out
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
