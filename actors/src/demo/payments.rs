//! Deterministic, plausible payments for the demo clients: the last three periods of every
//! active or suspended client; most paid on time, some with this period pending, a few overdue
//! by one or two periods.

use crate::model::Client;
use crate::rules::Billing;
use crate::store::payments::{payment_id, Payment, PaymentStatus};

/// A small stable hash of a client id, to spread clients over the cases.
fn bucket(id: &str) -> u64 {
    id.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    }) % 100
}

/// The period `back` months before (`year`, `month`).
fn period(year: i64, month: u32, back: u32) -> (i64, u32) {
    let index = year * 12 + i64::from(month) - 1 - i64::from(back);
    (index.div_euclid(12), (index.rem_euclid(12) + 1) as u32)
}

/// The demo payments as of `today` (`year`, `month`, `day`): periods two months back, last
/// month and this month.
pub fn demo_payments(
    clients: &[Client],
    billing: &Billing,
    today: (i64, u32, u32),
) -> Vec<Payment> {
    let (year, month, day) = today;
    let mut out = Vec::new();
    for c in clients.iter().filter(|c| c.status != "Cancelado") {
        let case = bucket(&c.id);
        for back in (0..3).rev() {
            let (y, m) = period(year, month, back);
            let due_passed = back > 0 || day > billing.due_day;
            let paid = match case {
                // Most: everything paid but this period, paid when due.
                0..=69 => back > 0 || due_passed,
                // Some pay early: this period too.
                70..=84 => true,
                // A few owe last month.
                85..=94 => back == 2,
                // A few more owe two periods.
                _ => false,
            };
            let status = match (paid, due_passed) {
                (true, _) => PaymentStatus::Pagado,
                (false, true) => PaymentStatus::Vencido,
                (false, false) => PaymentStatus::Pendiente,
            };
            out.push(Payment {
                id: payment_id(out.len() as u64 + 1),
                client_id: c.id.clone(),
                period: format!("{y:04}-{m:02}"),
                amount: c.price,
                due: format!("{y:04}-{m:02}-{:02}", billing.due_day),
                status,
                reference: billing.reference(&c.id),
                paid_on: paid.then(|| {
                    format!(
                        "{y:04}-{m:02}-{:02}",
                        billing.due_day.saturating_sub(2).max(1)
                    )
                }),
                receipt: None,
                reporter: None,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_pay_on_time_and_a_few_owe_one_or_two_periods() {
        let zones = vec!["Norte".to_string(), "Sur".to_string()];
        let clients = crate::demo::demo_clients(536, &zones, &[(50, 450), (100, 600)]);
        let billing = Billing::default();
        let a = demo_payments(&clients, &billing, (2026, 12, 6));
        assert_eq!(
            a,
            demo_payments(&clients, &billing, (2026, 12, 6)),
            "deterministic"
        );
        let owing = |n: usize| {
            clients
                .iter()
                .filter(|c| {
                    a.iter()
                        .filter(|p| p.client_id == c.id && p.status == PaymentStatus::Vencido)
                        .count()
                        == n
                })
                .count()
        };
        let active = clients.iter().filter(|c| c.status != "Cancelado").count();
        assert_eq!(a.len(), active * 3);
        assert!(owing(0) * 100 > active * 80, "most owe nothing overdue");
        assert!(owing(1) > 0 && owing(2) > 0, "{} {}", owing(1), owing(2));
        assert!(a
            .iter()
            .any(|p| p.status == PaymentStatus::Pendiente && p.period == "2026-12"));
        assert!(a.iter().all(|p| billing.reference_ok(&p.reference)));
        assert_eq!(period(2026, 1, 2), (2025, 11));
    }
}
