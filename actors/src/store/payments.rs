//! Clients' payments: one row per client and period (`Pagos` in the sheet), what they owe,
//! their reports of having paid (a receipt photo, "Por confirmar") and staff's confirmation.

use super::{BoxFuture, StoreResult};
use crate::model::ConversationKey;
use serde::{Deserialize, Serialize};

/// Where a period's payment stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PaymentStatus {
    Pendiente,
    Pagado,
    Vencido,
    /// The customer sent a receipt; staff have not confirmed it yet.
    PorConfirmar,
}

impl PaymentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pendiente => "Pendiente",
            PaymentStatus::Pagado => "Pagado",
            PaymentStatus::Vencido => "Vencido",
            PaymentStatus::PorConfirmar => "Por confirmar",
        }
    }

    pub fn parse(s: &str) -> Option<PaymentStatus> {
        [
            PaymentStatus::Pendiente,
            PaymentStatus::Pagado,
            PaymentStatus::Vencido,
            PaymentStatus::PorConfirmar,
        ]
        .into_iter()
        .find(|p| p.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// Still owed (a receipt waiting for staff is not owed twice, but not paid either).
    pub fn owed(self) -> bool {
        matches!(self, PaymentStatus::Pendiente | PaymentStatus::Vencido)
    }
}

/// One client's payment of one period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payment {
    /// `PAG-000001`.
    pub id: String,
    pub client_id: String,
    /// `YYYY-MM`.
    pub period: String,
    /// Pesos.
    pub amount: u32,
    /// `YYYY-MM-DD`.
    pub due: String,
    pub status: PaymentStatus,
    /// The client's payment reference (OXXO and deposits).
    pub reference: String,
    /// `YYYY-MM-DD`, once paid.
    pub paid_on: Option<String>,
    /// The receipt the customer sent (a WhatsApp media id, a Telegram file id).
    pub receipt: Option<String>,
    /// Who sent the receipt, to be told staff's answer.
    pub reporter: Option<ConversationKey>,
}

pub fn payment_id(seq: u64) -> String {
    format!("PAG-{seq:06}")
}

/// Staff's answer to a payment report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    Confirmed,
    Rejected,
}

impl Verdict {
    /// Staff's word for it: `ok`, `confirmar`... or `rechazar`, `no`.
    pub fn parse(word: &str) -> Option<Verdict> {
        match crate::text::fold(word).as_str() {
            "ok" | "si" | "confirmar" | "confirmado" | "confirm" | "confirmed" => {
                Some(Verdict::Confirmed)
            }
            "rechazar" | "rechazado" | "no" | "reject" | "rejected" => Some(Verdict::Rejected),
            _ => None,
        }
    }
}

/// The payment records. Every method is atomic on its own.
pub trait Payments: Send + Sync + 'static {
    /// A client's payments, oldest period first.
    fn payments_of(&self, client_id: &str) -> BoxFuture<'_, StoreResult<Vec<Payment>>>;

    /// A customer's receipt for what the client owes: the oldest owed period becomes "Por
    /// confirmar" with the receipt; `None` when nothing is owed. Reported again (the same
    /// receipt), it is the same payment.
    fn report_payment(
        &self,
        client_id: &str,
        receipt: &str,
        reporter: &ConversationKey,
    ) -> BoxFuture<'_, StoreResult<Option<Payment>>>;

    /// Staff's figures: every payment of `period` (`YYYY-MM`), and every overdue one.
    fn period_and_overdue(&self, period: &str) -> BoxFuture<'_, StoreResult<Vec<Payment>>>;

    /// The payments still pending (not overdue, not paid, not reported) due on one of `dues`
    /// (`YYYY-MM-DD`).
    fn pending_due(&self, dues: Vec<String>) -> BoxFuture<'_, StoreResult<Vec<Payment>>>;

    /// Staff's answer to a payment "Por confirmar": paid on `on`, or owed again (Pendiente,
    /// or Vencido past its due date). `None` when no such payment waits for an answer.
    fn settle_payment(
        &self,
        id: &str,
        verdict: Verdict,
        on: &str,
    ) -> BoxFuture<'_, StoreResult<Option<Payment>>>;
}
