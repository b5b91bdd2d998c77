//! [`Payments`] for the [`MemoryStore`].

use super::super::payments::{Payment, PaymentStatus, Payments, Verdict};
use super::*;

impl MemoryStore {
    /// Adds payments (tests and benchmarks seed the demo's).
    pub fn seed_payments(&self, payments: Vec<Payment>) {
        self.with(|i| i.payments.extend(payments));
    }
}

impl Payments for MemoryStore {
    fn payments_of(&self, client_id: &str) -> BoxFuture<'_, StoreResult<Vec<Payment>>> {
        ready(Ok(self.with(|i| {
            let mut v: Vec<Payment> = i
                .payments
                .iter()
                .filter(|p| p.client_id == client_id)
                .cloned()
                .collect();
            v.sort_by(|a, b| a.period.cmp(&b.period));
            v
        })))
    }

    fn report_payment(
        &self,
        client_id: &str,
        receipt: &str,
        reporter: &ConversationKey,
    ) -> BoxFuture<'_, StoreResult<Option<Payment>>> {
        ready(Ok(self.with(|i| {
            if let Some(p) = i
                .payments
                .iter()
                .find(|p| p.client_id == client_id && p.receipt.as_deref() == Some(receipt))
            {
                return Some(p.clone());
            }
            let mut owed: Vec<&mut Payment> = i
                .payments
                .iter_mut()
                .filter(|p| p.client_id == client_id && p.status.owed())
                .collect();
            owed.sort_by(|a, b| a.period.cmp(&b.period));
            let p = owed.into_iter().next()?;
            p.status = PaymentStatus::PorConfirmar;
            p.receipt = Some(receipt.to_string());
            p.reporter = Some(reporter.clone());
            Some(p.clone())
        })))
    }

    fn period_and_overdue(&self, period: &str) -> BoxFuture<'_, StoreResult<Vec<Payment>>> {
        ready(Ok(self.with(|i| {
            i.payments
                .iter()
                .filter(|p| p.period == period || p.status == PaymentStatus::Vencido)
                .cloned()
                .collect()
        })))
    }

    fn pending_due(&self, dues: Vec<String>) -> BoxFuture<'_, StoreResult<Vec<Payment>>> {
        ready(Ok(self.with(|i| {
            i.payments
                .iter()
                .filter(|p| p.status == PaymentStatus::Pendiente && dues.contains(&p.due))
                .cloned()
                .collect()
        })))
    }

    fn settle_payment(
        &self,
        id: &str,
        verdict: Verdict,
        on: &str,
    ) -> BoxFuture<'_, StoreResult<Option<Payment>>> {
        ready(Ok(self.with(|i| {
            let p = i
                .payments
                .iter_mut()
                .find(|p| p.id == id && p.status == PaymentStatus::PorConfirmar)?;
            match verdict {
                Verdict::Confirmed => {
                    p.status = PaymentStatus::Pagado;
                    p.paid_on = Some(on.to_string());
                }
                Verdict::Rejected => {
                    p.status = if p.due.as_str() < on {
                        PaymentStatus::Vencido
                    } else {
                        PaymentStatus::Pendiente
                    };
                }
            }
            Some(p.clone())
        })))
    }
}
