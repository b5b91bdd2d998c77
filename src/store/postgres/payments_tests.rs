//! Clients' payments in PostgreSQL against a real server: seeded once into an empty table, read
//! oldest period first, a receipt reported once (the same receipt is the same payment), staff's
//! answer applied once, and two replicas at once taking turns.

use super::tests::{client, drop_schema, key, store};
use crate::store::conformance::payments::{self as cases, demo, payment};
use redsol_actors::store::payments::{Payment, PaymentStatus, Verdict};

fn statuses(payments: &[Payment]) -> Vec<(&str, &str, PaymentStatus)> {
    payments
        .iter()
        .map(|p| (p.id.as_str(), p.period.as_str(), p.status))
        .collect()
}

#[tokio::test]
async fn payments_are_seeded_once_and_read_oldest_period_first() {
    let Some((store, schema)) = store(vec![client(1), client(2), client(3)]).await else {
        return;
    };
    assert_eq!(store.seed_payments(demo).await.expect("seed"), 5);
    // Not empty any more: nothing made, nothing added.
    assert_eq!(
        store
            .seed_payments(|| panic!("made only for an empty table"))
            .await
            .expect("again"),
        0
    );
    let ana = store.payments_of("CLI-0001").await.expect("payments");
    assert_eq!(
        statuses(&ana),
        [
            ("PAG-000002", "2026-10", PaymentStatus::Pagado),
            ("PAG-000001", "2026-11", PaymentStatus::Vencido),
            ("PAG-000003", "2026-12", PaymentStatus::Pendiente),
        ]
    );
    assert_eq!(
        ana[0],
        Payment {
            id: "PAG-000002".into(),
            ..payment("CLI-0001", "2026-10", PaymentStatus::Pagado)
        }
    );
    assert!(store
        .payments_of("CLI-0099")
        .await
        .expect("none")
        .is_empty());

    // Staff's figures: the period's, and every overdue one.
    let figures = store.period_and_overdue("2026-12").await.expect("figures");
    assert_eq!(
        statuses(&figures),
        [
            ("PAG-000001", "2026-11", PaymentStatus::Vencido),
            ("PAG-000003", "2026-12", PaymentStatus::Pendiente),
            ("PAG-000004", "2026-12", PaymentStatus::Pendiente),
            ("PAG-000005", "2026-12", PaymentStatus::Pagado),
        ]
    );
    // Reminders: only what is pending, due on one of the days.
    let due = store
        .pending_due(vec!["2026-12-10".into(), "2026-11-10".into()])
        .await
        .expect("due");
    assert_eq!(
        statuses(&due),
        [
            ("PAG-000003", "2026-12", PaymentStatus::Pendiente),
            ("PAG-000004", "2026-12", PaymentStatus::Pendiente),
        ]
    );
    assert!(store
        .pending_due(vec!["2026-12-11".into()])
        .await
        .expect("none due")
        .is_empty());
    assert!(store
        .pending_due(Vec::new())
        .await
        .expect("no days")
        .is_empty());
    drop_schema(store, &schema).await;
}

#[tokio::test]
async fn a_receipt_is_reported_once_against_the_oldest_period_owed() {
    let Some((store, schema)) = store(Vec::new()).await else {
        return;
    };
    store.seed_payments(cases::demo).await.expect("seed");
    cases::a_receipt_is_reported_once_against_the_oldest_period_owed(&store).await;
    drop_schema(store, &schema).await;
}

#[tokio::test]
async fn staff_answer_a_report_once_paid_or_owed_again() {
    let Some((store, schema)) = store(Vec::new()).await else {
        return;
    };
    store.seed_payments(cases::demo).await.expect("seed");
    cases::staff_answer_a_report_once_paid_or_owed_again(&store).await;
    drop_schema(store, &schema).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_replicas_at_once_take_turns_on_a_client_and_settle_once() {
    let Some((store, schema)) = store(Vec::new()).await else {
        return;
    };
    // Two replicas starting together seed once.
    let (a, b) = tokio::join!(
        tokio::spawn({
            let store = store.clone();
            async move { store.seed_payments(demo).await.expect("seed a") }
        }),
        tokio::spawn({
            let store = store.clone();
            async move { store.seed_payments(demo).await.expect("seed b") }
        })
    );
    let mut seeded = [a.expect("a"), b.expect("b")];
    seeded.sort();
    assert_eq!(seeded, [0, 5]);

    // Two receipts for one client at once: two periods, not one overwritten.
    let (a, b) = tokio::join!(
        tokio::spawn({
            let store = store.clone();
            async move {
                store
                    .report_payment("CLI-0001", "MEDIA-A", &key("524421110001"))
                    .await
                    .expect("report a")
            }
        }),
        tokio::spawn({
            let store = store.clone();
            async move {
                store
                    .report_payment("CLI-0001", "MEDIA-B", &key("524421110001"))
                    .await
                    .expect("report b")
            }
        })
    );
    let (a, b) = (a.expect("a").expect("owed"), b.expect("b").expect("owed"));
    let mut ids = [a.id.clone(), b.id.clone()];
    ids.sort();
    assert_eq!(ids, ["PAG-000001", "PAG-000003"]);
    let ana = store.payments_of("CLI-0001").await.expect("payments");
    let mut receipts: Vec<&str> = ana.iter().filter_map(|p| p.receipt.as_deref()).collect();
    receipts.sort();
    assert_eq!(receipts, ["MEDIA-A", "MEDIA-B"]);

    // Two staff answers at once: one applies.
    let (a, b) = tokio::join!(
        tokio::spawn({
            let store = store.clone();
            async move {
                store
                    .settle_payment("PAG-000001", Verdict::Confirmed, "2026-12-06")
                    .await
                    .expect("settle a")
            }
        }),
        tokio::spawn({
            let store = store.clone();
            async move {
                store
                    .settle_payment("PAG-000001", Verdict::Rejected, "2026-12-06")
                    .await
                    .expect("settle b")
            }
        })
    );
    let answers = [a.expect("a"), b.expect("b")];
    assert_eq!(
        answers.iter().filter(|p| p.is_some()).count(),
        1,
        "{answers:?}"
    );
    drop_schema(store, &schema).await;
}
