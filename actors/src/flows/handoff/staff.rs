//! The staff member's side of a handoff: taking a conversation (the card's button, a `/mis`
//! button or `/atender H-000001`), the commands, and what they write going to the customer.

use super::{channel_name, Addressed, Relay, RELAYED_CHARS, TAKE};
use crate::engine::{phone_of, ConversationState, Engine};
use crate::model::{
    Attachment, AttachmentKind, Channel, Content, ConversationKey, Inbound, QuickReply, Reply,
};
use crate::store::handoff::{Claim, Ended, Handoff, NewHandoff, Owner};
use crate::text;

pub(super) const RELEASE: &str = "/soltar";
pub(super) const MINE: &str = "/mis";
pub(super) const CUSTOMER: &str = "/cliente";
pub(super) const ATTEND: &str = "/atender";
/// The customer's turns a staff member who takes a conversation sees.
const TURNS_SHOWN: usize = 5;

impl Engine {
    /// A tap on "Atender" (or "Responder a…" of `/mis`, or `/atender H-000001`).
    pub(super) async fn take(
        &self,
        state: &mut ConversationState,
        inbound: &Inbound,
        id: &str,
    ) -> Reply {
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
        let claim = self
            .store
            .handoffs()
            .claim_handoff(id, owner, now, state.turn_source.clone())
            .await;
        let (handoff, fresh) = match claim {
            Ok(Claim::Taken { handoff, fresh }) => (handoff, fresh),
            Ok(Claim::HeldBy(h)) => {
                let by = h.owner.map(|o| o.name).unwrap_or_default();
                return self.say("handoff_held_by", &[("staff", by)]);
            }
            Ok(Claim::Gone) => return self.say("handoff_gone", &[]),
            Err(e) => {
                tracing::error!(error = %e, "could not claim a handoff");
                return self.say("store_error", &[]);
            }
        };
        state.relay = Some(Relay {
            customer: handoff.customer.clone(),
            handoff: handoff.id.clone(),
        });
        if !fresh {
            // Held already: the tap only switches whom the staff member answers.
            return self.say("handoff_switched", &[("name", handoff.name.clone())]);
        }
        metrics::counter!("redsol_handoffs_total", "channel" => handoff.customer.channel.as_str(), "outcome" => "taken").increment(1);
        metrics::histogram!("redsol_handoff_wait_seconds")
            .record(now.saturating_sub(handoff.requested_at) as f64);
        self.send_to(
            state,
            &handoff.customer,
            self.say("handoff_taken_customer", &[("staff", staff_name.clone())]),
        );
        let details = self.details(&handoff).await;
        match (&inbound.reply_to, &inbound.tapped) {
            // Tapped on the card in the group: the card now says who took it (its button
            // gone), and the details go private.
            (Some(group), Some(card)) => {
                self.send_to(state, key, details);
                state.outgoing.push(Addressed {
                    key: ConversationKey::new(key.channel, group.clone()),
                    reply: self.say(
                        "handoff_card_taken",
                        &[
                            ("id", handoff.id.clone()),
                            ("name", handoff.name.clone()),
                            ("channel", channel_name(handoff.customer.channel).into()),
                            ("staff", staff_name),
                        ],
                    ),
                    edit: Some(card.clone()),
                });
                state.silent = true;
                Reply::default()
            }
            // Taken in the group without the card (a command): the group is told who.
            (Some(_), None) => {
                self.send_to(state, key, details);
                self.say(
                    "handoff_taken_group",
                    &[("name", handoff.name.clone()), ("staff", staff_name)],
                )
            }
            (None, _) => details,
        }
    }

    /// `/atender 5214641234567` (a WhatsApp number) or `/atender tg:123456789` (a Telegram
    /// user): a handoff staff start for a customer who did not ask; its id, or the reply that
    /// says why not.
    async fn start_handoff(&self, state: &ConversationState, who: &str) -> Result<String, Reply> {
        let customer = match who.strip_prefix("tg:") {
            Some(id) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) => {
                ConversationKey::new(Channel::Telegram, id)
            }
            Some(_) => return Err(self.say("handoff_attend_usage", &[])),
            None => {
                let digits: String = who.chars().filter(char::is_ascii_digit).collect();
                match digits.len() {
                    10 => ConversationKey::new(Channel::WhatsApp, format!("521{digits}")),
                    12..=15 => ConversationKey::new(Channel::WhatsApp, digits),
                    _ => return Err(self.say("handoff_attend_usage", &[])),
                }
            }
        };
        let phone = phone_of(&customer);
        let name = self
            .client_by_phone(phone.as_deref())
            .await
            .map_or_else(|| "Cliente".to_string(), |c| c.name);
        let new = NewHandoff {
            customer: customer.clone(),
            name,
            topic: "iniciada por el equipo".into(),
            source: state.turn_source.clone(),
            at: self.now(),
            carded: true,
        };
        match self.store.handoffs().open_handoff(new).await {
            Ok((h, _)) => {
                self.note_handoff(&customer, true);
                Ok(h.id)
            }
            Err(e) => {
                tracing::error!(error = %e, "could not start a handoff");
                Err(self.say("store_error", &[]))
            }
        }
    }

    /// What only the staff member who takes a conversation sees: phone, client id, what to
    /// do, and the customer's last turns.
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
        let head = self.rules.render(
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
            ],
        );
        // The turns after the instructions, and not cut to the bot's reply limit.
        let skip = snapshot.history.len().saturating_sub(TURNS_SHOWN);
        let turns: Vec<String> = snapshot
            .history
            .iter()
            .skip(skip)
            .map(|t| format!("👤 {}\n🤖 {}", t.user, t.bot))
            .collect();
        Reply {
            text: text::truncate_chars(&format!("{head}\n{}", turns.join("\n")), RELAYED_CHARS),
            quick_replies: Vec::new(),
            attachment: None,
        }
    }

    /// A staff member's commands, and what they write while answering a customer.
    pub(super) async fn staff_side(
        &self,
        state: &mut ConversationState,
        inbound: &Inbound,
    ) -> Option<Reply> {
        let key = &inbound.key;
        let typed = match &inbound.content {
            Content::Text(t) => t.trim().to_string(),
            _ => String::new(),
        };
        if let Some(reply) = self.followup_command(state, &typed).await {
            return Some(reply);
        }
        if let Some(reply) = self.outage_command(state, &typed).await {
            return Some(reply);
        }
        if let Some(reply) = self.payment_command(state, &typed).await {
            return Some(reply);
        }
        let mut words = typed.split_whitespace();
        let command = words.next().unwrap_or_default();
        if command == ATTEND {
            let who = words.collect::<Vec<_>>().join(" ");
            let id = if who.to_uppercase().starts_with("H-") {
                who.to_uppercase()
            } else {
                match self.start_handoff(state, &who).await {
                    Ok(id) => id,
                    Err(reply) => return Some(reply),
                }
            };
            return Some(self.take(state, inbound, &id).await);
        }
        // What a staff member holds is theirs to see, never a group's.
        if matches!(command, MINE | CUSTOMER) {
            state.private_reply = true;
        }
        if command == RELEASE {
            return Some(self.release(state).await);
        }
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
            .and_then(|r| held.iter().find(|h| h.id == r.handoff))
            .cloned();
        if state.relay.is_some() && current.is_none() {
            // Ended elsewhere (idle): nothing to relay to any more.
            state.relay = None;
        }
        let Some(current) = current else {
            return (command == CUSTOMER).then(|| self.say("handoff_none_held", &[]));
        };
        if command == CUSTOMER {
            return Some(self.details(&current).await);
        }
        if inbound.reply_to.is_some() {
            return None; // a command in a group, for the bot
        }
        let reply = match &inbound.content {
            Content::Text(t) => Reply {
                text: text::truncate_chars(t, RELAYED_CHARS),
                quick_replies: Vec::new(),
                attachment: None,
            },
            // A photo or a document goes with its caption; the customer's channel sends it
            // again from Telegram. A voice note, a sticker, a video: they say it in words.
            Content::Media { kind, id, caption } => match AttachmentKind::of(kind) {
                Some(kind) => Reply {
                    text: caption
                        .as_deref()
                        .map(|c| text::truncate_chars(c, RELAYED_CHARS))
                        .unwrap_or_default(),
                    quick_replies: Vec::new(),
                    attachment: Some(Attachment {
                        kind,
                        telegram_file: id.clone(),
                    }),
                },
                None => {
                    return Some(self.say("handoff_relay_unsupported", &[("kind", kind.clone())]))
                }
            },
            Content::Unsupported(kind) => {
                return Some(self.say("handoff_relay_unsupported", &[("kind", kind.clone())]))
            }
            _ => return None,
        };
        self.touch(&current.id).await;
        self.send_to(state, &current.customer, reply);
        state.silent = true;
        Some(Reply::default())
    }

    fn mine(&self, state: &ConversationState, held: &[Handoff]) -> Reply {
        if held.is_empty() {
            return self.say("handoff_none_held", &[]);
        }
        let active = state.relay.as_ref().map(|r| r.handoff.as_str());
        let lines: Vec<String> = held
            .iter()
            .map(|h| {
                let here = if active == Some(h.id.as_str()) {
                    " ← respondes aquí"
                } else {
                    ""
                };
                format!(
                    "• {} · {} · {} · {}{here}",
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

    /// `/soltar`: the conversation the staff member answers goes back to the bot (the
    /// customer is told); they answer nobody until they pick another (`/mis`).
    async fn release(&self, state: &mut ConversationState) -> Reply {
        let Some(relay) = state.relay.clone() else {
            return self.say("handoff_none_held", &[]);
        };
        let ended = self
            .store
            .handoffs()
            .end_handoff(
                &relay.handoff,
                Ended::Released,
                self.now(),
                state.turn_source.clone(),
            )
            .await;
        state.relay = None;
        match ended {
            Ok(Some(h)) => {
                metrics::counter!("redsol_handoffs_total", "channel" => h.customer.channel.as_str(), "outcome" => "released").increment(1);
                self.note_handoff(&h.customer, false);
                self.send_to(
                    state,
                    &h.customer,
                    self.say("handoff_released_customer", &[]),
                );
                self.say("handoff_released_staff", &[("name", h.name)])
            }
            Ok(None) => self.say("handoff_none_held", &[]),
            Err(e) => {
                tracing::error!(error = %e, "could not release a handoff");
                state.relay = Some(relay);
                self.say("store_error", &[])
            }
        }
    }
}
