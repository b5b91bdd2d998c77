//! A client's account as the customer reads it: what is owed and where to pay, or the next
//! due date; dates as Mexicans write them.

use super::money;
use crate::engine::Engine;
use crate::model::{Client, Reply};
use crate::store::payments::{Payment, PaymentStatus};

/// `2026-12-10` as `10/12/2026`.
pub(super) fn date(iso: &str) -> String {
    let mut parts = iso.split('-');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(y), Some(m), Some(d)) => format!("{d}/{m}/{y}"),
        _ => iso.to_string(),
    }
}

/// The day `days` after `iso` (`YYYY-MM-DD`).
pub(super) fn plus_days(iso: &str, days: u32) -> String {
    let mut parts = iso.split('-').map(|p| p.parse::<u32>().unwrap_or(1));
    let (y, m, d) = (
        parts.next().unwrap_or(1970),
        parts.next().unwrap_or(1),
        parts.next().unwrap_or(1),
    );
    let day = crate::store::days_from_civil(i64::from(y), m, d) + i64::from(days);
    let (y, m, d) = crate::store::civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

impl Engine {
    /// A client's account: what is owed and where to pay, or the next due date.
    pub(crate) fn account(&self, client: &Client, payments: &[Payment], folded: &str) -> Reply {
        let billing = &self.rules.billing;
        let reference = billing.reference(&client.id);
        let owed: Vec<&Payment> = payments.iter().filter(|p| p.status.owed()).collect();
        let name = client
            .name
            .split_whitespace()
            .next()
            .unwrap_or_default()
            .to_string();
        let next = owed.first().copied().or_else(|| payments.last());
        if folded.contains("vence") || folded.contains("cuando pago") || folded.contains("fecha") {
            if let Some(p) = next {
                return self.say(
                    "billing_next_due",
                    &[
                        ("amount", money(p.amount)),
                        ("period", p.period.clone()),
                        ("due", date(&p.due)),
                    ],
                );
            }
        }
        if owed.is_empty() {
            let waiting = payments
                .iter()
                .any(|p| p.status == PaymentStatus::PorConfirmar);
            return self.say(
                if waiting {
                    "billing_waiting"
                } else {
                    "billing_clear"
                },
                &[("name", name), ("reference", reference)],
            );
        }
        let total: u32 = owed.iter().map(|p| p.amount).sum();
        let periods = owed
            .iter()
            .map(|p| {
                let status = if p.status == PaymentStatus::Vencido {
                    " (vencido)"
                } else {
                    ""
                };
                format!(
                    "• {}: ${} vence el {}{status}",
                    p.period,
                    money(p.amount),
                    date(&p.due)
                )
            })
            .collect::<Vec<_>>()
            .join("\n");
        let mut text = self.rules.render(
            "billing_balance",
            &[
                ("name", name),
                ("total", money(total)),
                ("periods", periods),
            ],
        );
        if let Some(oldest) = owed.iter().find(|p| p.status == PaymentStatus::Vencido) {
            let suspend = plus_days(&oldest.due, billing.suspend_after_days);
            text.push_str("\n\n");
            text.push_str(
                &self
                    .rules
                    .render("billing_overdue", &[("suspend", date(&suspend))]),
            );
        }
        text.push_str("\n\n");
        text.push_str(&self.rules.render(
            "billing_places",
            &[
                ("reference", reference),
                ("clabe", billing.spei_clabe.clone()),
                ("bank", billing.bank_name.clone()),
                ("account", billing.bank_account.clone()),
                ("office", billing.office_address.clone()),
                ("hours", billing.office_hours.clone()),
            ],
        ));
        Reply {
            text: self.rules.finish(text),
            quick_replies: Vec::new(),
            attachment: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_move_across_months_and_read_the_mexican_way() {
        assert_eq!(plus_days("2026-11-10", 10), "2026-11-20");
        assert_eq!(plus_days("2026-12-25", 10), "2027-01-04");
        assert_eq!(plus_days("2024-02-25", 5), "2024-03-01");
        assert_eq!(date("2026-12-10"), "10/12/2026");
    }
}
