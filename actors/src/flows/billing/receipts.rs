//! Payment reports: the receipt a customer sends (a payment "Por confirmar" and an alert for
//! staff), and staff's `/pago PAG-… ok|rechazar motivo`, which the customer is told.

use super::{count_report, BillingStep, PAY};
use crate::engine::{ConversationState, Dialogue, Engine};
use crate::flows::handoff::Addressed;
use crate::model::{ConversationKey, Reply};
use crate::store::payments::{Payment, Verdict};
use crate::store::StoreResult;
use crate::text;

impl Engine {
    /// A photo or a document while the receipt is awaited: a payment report for staff.
    pub(crate) async fn billing_receipt(
        &self,
        state: &mut ConversationState,
        key: &ConversationKey,
        media_id: &str,
    ) -> Option<Reply> {
        let Dialogue::Billing(BillingStep::Receipt { client_id }) = &state.dialogue else {
            return None;
        };
        let client_id = client_id.clone();
        let reported = self
            .store
            .payments()
            .report_payment(&client_id, media_id, key)
            .await;
        state.dialogue = Dialogue::Idle;
        let reply = match reported {
            Ok(Some(p)) => {
                count_report("reported");
                let name = self
                    .billing_client(state, key)
                    .await
                    .map(|c| c.name)
                    .unwrap_or_default();
                let values = [
                    ("id", p.id.clone()),
                    ("name", name),
                    ("client", client_id.clone()),
                    ("period", p.period.clone()),
                    ("amount", super::money(p.amount)),
                ];
                let alert = self.say("billing_staff_alert", &values);
                for target in self.staff_targets() {
                    self.send_to(state, &target, alert.clone());
                }
                self.say("billing_receipt_received", &values)
            }
            Ok(None) => self.say("billing_nothing_owed", &[]),
            Err(e) => {
                tracing::error!(error = %e, "could not record a payment report");
                self.say("store_error", &[])
            }
        };
        Some(self.with_menu(reply))
    }

    /// Settles a payment report (staff's `/pago`, the admin API): the payment as it now
    /// stands, and what its customer is to be told; `None` when no payment with this id waits
    /// for an answer.
    pub async fn settle_payment(
        &self,
        id: &str,
        verdict: Verdict,
        reason: &str,
    ) -> StoreResult<Option<(Payment, Vec<Addressed>)>> {
        let reason = if reason.trim().is_empty() {
            "no lo encontramos en nuestras cuentas".to_string()
        } else {
            text::truncate_chars(reason.trim(), 200)
        };
        let Some(p) = self
            .store
            .payments()
            .settle_payment(id, verdict.clone(), &self.today())
            .await?
        else {
            return Ok(None);
        };
        let (told, outcome) = match verdict {
            Verdict::Confirmed => ("payment_confirmed", "confirmed"),
            Verdict::Rejected => ("payment_rejected", "rejected"),
        };
        count_report(outcome);
        let values = payment_values(&p, reason);
        let notices = p
            .reporter
            .iter()
            .map(|customer| Addressed {
                key: customer.clone(),
                reply: self.say(told, &values),
                edit: None,
            })
            .collect();
        tracing::info!(event = "payment_settled", payment = %p.id, outcome, "a payment report settled");
        Ok(Some((p, notices)))
    }

    /// `/pago PAG-000123 ok` or `/pago PAG-000123 rechazar motivo`, from staff.
    pub(crate) async fn payment_command(
        &self,
        state: &mut ConversationState,
        typed: &str,
    ) -> Option<Reply> {
        let mut words = typed.split_whitespace();
        if words.next()? != PAY {
            return None;
        }
        let (Some(id), Some(what)) = (words.next(), words.next()) else {
            return Some(self.say("payment_usage", &[]));
        };
        let id = id.to_uppercase();
        let Some(verdict) = Verdict::parse(what) else {
            return Some(self.say("payment_usage", &[]));
        };
        let reason = words.collect::<Vec<_>>().join(" ");
        Some(match self.settle_payment(&id, verdict, &reason).await {
            Ok(Some((p, notices))) => {
                state.outgoing.extend(notices);
                self.say("payment_settled_staff", &payment_values(&p, String::new()))
            }
            Ok(None) => self.say("payment_unknown", &[("id", id)]),
            Err(e) => {
                tracing::error!(error = %e, "could not settle a payment");
                self.say("store_error", &[])
            }
        })
    }
}

fn payment_values(p: &Payment, reason: String) -> [(&'static str, String); 5] {
    [
        ("id", p.id.clone()),
        ("period", p.period.clone()),
        ("amount", super::money(p.amount)),
        ("reason", reason),
        ("status", p.status.as_str().to_string()),
    ]
}
