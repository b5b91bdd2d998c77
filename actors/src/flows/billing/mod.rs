//! Billing self-service: a client's balance, due dates, reference and where to pay; "ya pagué"
//! with the receipt as a payment report for staff; staff's `/pago PAG-… ok|rechazar motivo`.
//!
//! Money is private, so a customer sees only their own account: a WhatsApp number that matches
//! a client's phone is that client; on Telegram, the phone they shared (their own contact)
//! must match; otherwise the bot asks for the client id and the last 4 digits of the phone on
//! file, and three wrong tries lock the lookup for an hour (a `billing_lockout` log line).
//! Staff see any client's account by its id. Every amount comes from the store, never from a
//! language model.
//!
//! Metrics: `redsol_billing_queries_total{channel,outcome}` (`answered`, `verify`, `locked`,
//! `staff`);
//! `redsol_payment_reports_total{outcome}` (`reported`, `confirmed`, `rejected`).

mod account;
mod collections;
mod receipts;
mod reminders;

use crate::engine::{phone_of, ConversationState, Dialogue, Engine};
use crate::model::{Channel, Client, ConversationKey, Reply};
use crate::text;
use serde::{Deserialize, Serialize};

/// Staff's command to settle a payment report.
pub(crate) const PAY: &str = "/pago";
/// Wrong answers before the lookup locks.
const MAX_TRIES: u8 = 3;
const LOCK_SECS: u64 = 3600;

/// Where the billing dialogue is.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BillingStep {
    /// Asked for the client id.
    AskId { tries: u8, receipt: bool },
    /// Asked for the last 4 digits of the phone on file of `client_id`.
    AskDigits {
        client_id: String,
        tries: u8,
        receipt: bool,
    },
    /// Asked for the receipt (a photo or a document).
    Receipt { client_id: String },
    /// A staff member asked which client's account to show.
    StaffId,
}

/// The client whose id has these digits (`CLI-0042`: "42", "0042").
fn client_by_digits<'a>(clients: &'a [Client], digits: &str) -> Option<&'a Client> {
    let digits = digits.trim_start_matches('0');
    clients.iter().find(|c| {
        let id: String = c.id.chars().filter(char::is_ascii_digit).collect();
        !digits.is_empty() && id.trim_start_matches('0') == digits
    })
}

/// An amount as customers read it: 1350 → "1,350".
fn money(amount: u32) -> String {
    crate::reports::money(u64::from(amount))
}

fn count(channel: Channel, outcome: &'static str) {
    metrics::counter!("redsol_billing_queries_total", "channel" => channel.as_str(), "outcome" => outcome)
        .increment(1);
}

fn count_report(outcome: &'static str) {
    metrics::counter!("redsol_payment_reports_total", "outcome" => outcome).increment(1);
}

/// Whether a message says they paid already or were cut off for not paying.
fn says_paid(folded: &str) -> bool {
    [
        "ya pague",
        "ya page",
        "ya deposite",
        "ya transferi",
        "comprobante",
        "me cortaron",
        "me suspendieron",
    ]
    .iter()
    .any(|p| folded.contains(p))
}

impl Engine {
    /// Today, `YYYY-MM-DD`, on the engine's clock.
    pub(crate) fn today(&self) -> String {
        let (y, m, d) = crate::store::civil_from_days((self.now() / 86_400) as i64);
        format!("{y:04}-{m:02}-{d:02}")
    }

    /// The client whose account this customer may see without more questions.
    async fn billing_client(
        &self,
        state: &ConversationState,
        key: &ConversationKey,
    ) -> Option<Client> {
        if let Some(id) = &state.billing_client {
            let clients = self.store.clients().await.ok()?;
            return clients.iter().find(|c| &c.id == id).cloned();
        }
        // WhatsApp: the number itself; Telegram: the phone they shared (their own contact).
        let phone = match key.channel {
            Channel::WhatsApp => phone_of(key),
            Channel::Telegram => state.profile.phone.clone(),
            Channel::Console => None,
        }?;
        self.client_by_phone(Some(&phone)).await
    }

    /// "¿cuánto debo?", "¿cuándo vence?", "ya pagué": the intent's entry.
    pub(crate) async fn billing(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        t: &str,
    ) -> Reply {
        let receipt = says_paid(&text::fold(t));
        if self.rules.is_staff(key) {
            return self.staff_lookup(state, key, t).await;
        }
        if state.billing_locked_until > self.now() {
            count(key.channel, "locked");
            return self.with_menu(self.say("billing_locked", &[]));
        }
        match self.billing_client(state, key).await {
            Some(client) => self.billing_answer(state, key, &client, t, receipt).await,
            None => {
                count(key.channel, "verify");
                state.dialogue = Dialogue::Billing(BillingStep::AskId { tries: 0, receipt });
                self.say("billing_ask_id", &[])
            }
        }
    }

    /// Staff see any client's account, by the client id in their message; asked for it when
    /// there is none.
    async fn staff_lookup(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        t: &str,
    ) -> Reply {
        let digits: String = t.chars().filter(char::is_ascii_digit).collect();
        if digits.is_empty() {
            state.dialogue = Dialogue::Billing(BillingStep::StaffId);
            return self.say("billing_staff_ask_id", &[]);
        }
        let clients = match self.store.clients().await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "could not read the clients");
                return self.say("store_error", &[]);
            }
        };
        let Some(client) = client_by_digits(&clients, &digits).cloned() else {
            return self.say("billing_staff_unknown", &[("id", digits)]);
        };
        let mut reply = match self.account_from_store(&client, t).await {
            Ok(reply) => reply,
            Err(failed) => return failed,
        };
        count(key.channel, "staff");
        reply.text = format!("{} ({})\n{}", client.name, client.id, reply.text);
        reply
    }

    /// The answer for a known client: the receipt asked for, or the account.
    async fn billing_answer(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        client: &Client,
        t: &str,
        receipt: bool,
    ) -> Reply {
        state.billing_client = Some(client.id.clone());
        if receipt {
            state.dialogue = Dialogue::Billing(BillingStep::Receipt {
                client_id: client.id.clone(),
            });
            return self.say("billing_ask_receipt", &[]);
        }
        match self.account_from_store(client, t).await {
            Ok(reply) => {
                count(key.channel, "answered");
                self.with_menu(reply)
            }
            Err(failed) => failed,
        }
    }

    /// A client's account as the store holds it; the store error's answer when it cannot be
    /// read.
    async fn account_from_store(&self, client: &Client, t: &str) -> Result<Reply, Reply> {
        match self.store.payments().payments_of(&client.id).await {
            Ok(payments) => Ok(self.account(client, &payments, &text::fold(t))),
            Err(e) => {
                tracing::error!(error = %e, "could not read a client's payments");
                Err(self.say("store_error", &[]))
            }
        }
    }

    /// A text while the billing dialogue waits: the client id, the 4 digits, or the receipt.
    pub(crate) async fn continue_billing(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        t: &str,
        step: BillingStep,
    ) -> Reply {
        let clients = match self.store.clients().await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "could not read the clients");
                return self.say("store_error", &[]);
            }
        };
        match step {
            BillingStep::StaffId => {
                state.dialogue = Dialogue::Idle;
                self.staff_lookup(state, key, t).await
            }
            BillingStep::AskId { tries, receipt } => {
                let digits: String = t.chars().filter(char::is_ascii_digit).collect();
                if digits.is_empty() {
                    state.dialogue = Dialogue::Billing(BillingStep::AskId { tries, receipt });
                    return self.say("billing_ask_id", &[]);
                }
                let found = client_by_digits(&clients, &digits);
                // Whether the id exists is not told: the digits are asked either way.
                let client_id = found.map(|c| c.id.clone()).unwrap_or_default();
                state.dialogue = Dialogue::Billing(BillingStep::AskDigits {
                    client_id,
                    tries,
                    receipt,
                });
                self.say("billing_ask_digits", &[])
            }
            BillingStep::AskDigits {
                client_id,
                tries,
                receipt,
            } => {
                let typed: String = t.chars().filter(char::is_ascii_digit).collect();
                let client = clients.iter().find(|c| c.id == client_id);
                let ok = typed.len() == 4 && client.is_some_and(|c| c.phone.ends_with(&typed));
                if let (true, Some(client)) = (ok, client) {
                    let client = client.clone();
                    return self.billing_answer(state, key, &client, t, receipt).await;
                }
                let tries = tries + 1;
                if tries >= MAX_TRIES {
                    state.billing_locked_until = self.now() + LOCK_SECS;
                    count(key.channel, "locked");
                    tracing::warn!(
                        event = "billing_lockout",
                        channel = key.channel.as_str(),
                        conversation = %key.opaque_id(),
                        "three wrong answers to the account check; billing lookups locked for an hour"
                    );
                    return self.with_menu(self.say("billing_locked", &[]));
                }
                state.dialogue = Dialogue::Billing(BillingStep::AskId { tries, receipt });
                self.say(
                    "billing_wrong",
                    &[("left", (MAX_TRIES - tries).to_string())],
                )
            }
            BillingStep::Receipt { client_id } => {
                // Text instead of a photo: asked again, the dialogue kept.
                state.dialogue = Dialogue::Billing(BillingStep::Receipt { client_id });
                self.say("billing_ask_receipt", &[])
            }
        }
    }
}
