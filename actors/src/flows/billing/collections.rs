//! Staff's view of collections: this period's payments collected against expected, the
//! receipts waiting for an answer, and who is overdue with how much (staff only; part of the
//! finance report).

use crate::engine::Engine;
use crate::reports;
use crate::store::payments::{Payment, PaymentStatus};
use std::collections::BTreeMap;

/// Overdue clients listed at most.
const OVERDUE_LISTED: usize = 5;

impl Engine {
    /// The collections lines of the finance report; `None` with no payments on record.
    pub(crate) async fn collections(&self) -> Option<String> {
        let period = self.today()[..7].to_string();
        let payments = match self.store.payments().period_and_overdue(&period).await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "could not read the payments for the finance report");
                return None;
            }
        };
        if payments.is_empty() {
            return None;
        }
        let this: Vec<&Payment> = payments.iter().filter(|p| p.period == period).collect();
        let expected: u32 = this.iter().map(|p| p.amount).sum();
        let collected: u32 = this
            .iter()
            .filter(|p| p.status == PaymentStatus::Pagado)
            .map(|p| p.amount)
            .sum();
        let reported = this
            .iter()
            .filter(|p| p.status == PaymentStatus::PorConfirmar)
            .count();
        // Overdue by client: the amount and the periods.
        let mut overdue: BTreeMap<&str, (u32, Vec<&str>)> = BTreeMap::new();
        for p in payments
            .iter()
            .filter(|p| p.status == PaymentStatus::Vencido)
        {
            let e = overdue.entry(p.client_id.as_str()).or_default();
            e.0 += p.amount;
            e.1.push(p.period.as_str());
        }
        let overdue_total: u32 = overdue.values().map(|(a, _)| a).sum();
        let mut by_amount: Vec<_> = overdue.iter().collect();
        by_amount.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(b.0)));
        let clients = self.store.clients().await.ok();
        let name_of = |id: &str| {
            clients
                .as_ref()
                .and_then(|c| c.iter().find(|c| c.id == id).map(|c| c.name.clone()))
                .unwrap_or_default()
        };
        let list = by_amount
            .iter()
            .take(OVERDUE_LISTED)
            .map(|(id, (amount, periods))| {
                format!(
                    "• {id} {}: ${} ({})",
                    name_of(id),
                    reports::money(u64::from(*amount)),
                    periods.join(", ")
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        let pct = if expected == 0 {
            0
        } else {
            u64::from(collected) * 100 / u64::from(expected)
        };
        Some(self.rules.render(
            "finance_collections",
            &[
                ("period", period),
                ("collected", reports::money(u64::from(collected))),
                ("expected", reports::money(u64::from(expected))),
                ("pct", pct.to_string()),
                ("reported", reported.to_string()),
                ("overdue_clients", overdue.len().to_string()),
                ("overdue_total", reports::money(u64::from(overdue_total))),
                ("list", list),
            ],
        ))
    }
}
