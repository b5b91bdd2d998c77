//! Clients' payments, whatever keeps them: a receipt reported once against the oldest period
//! owed (the same receipt is the same payment), and staff's answer applied once.

use redsol_actors::model::{Channel, ConversationKey};
use redsol_actors::store::payments::{Payment, PaymentStatus, Verdict};
use redsol_actors::store::Store;

fn key(user: &str) -> ConversationKey {
    ConversationKey::new(Channel::Telegram, user)
}

/// A payment of `client_id` for `period` (`YYYY-MM`), due on the 10th.
pub fn payment(client_id: &str, period: &str, status: PaymentStatus) -> Payment {
    Payment {
        id: String::new(),
        client_id: client_id.into(),
        period: period.into(),
        amount: 450,
        due: format!("{period}-10"),
        status,
        reference: format!("RS-{client_id}"),
        paid_on: (status == PaymentStatus::Pagado).then(|| format!("{period}-08")),
        receipt: None,
        reporter: None,
    }
}

/// What the cases run on, seeded in this order: Ana owes two periods (one overdue), Beto's is
/// pending, Carla paid.
pub fn demo() -> Vec<Payment> {
    vec![
        payment("CLI-0001", "2026-11", PaymentStatus::Vencido),
        payment("CLI-0001", "2026-10", PaymentStatus::Pagado),
        payment("CLI-0001", "2026-12", PaymentStatus::Pendiente),
        payment("CLI-0002", "2026-12", PaymentStatus::Pendiente),
        payment("CLI-0003", "2026-12", PaymentStatus::Pagado),
    ]
}

/// On a store seeded with [`demo`].
pub async fn a_receipt_is_reported_once_against_the_oldest_period_owed(store: &dyn Store) {
    let store = store.payments();
    let customer = key("524421110001");
    let reported = store
        .report_payment("CLI-0001", "MEDIA-1", &customer)
        .await
        .expect("report")
        .expect("something owed");
    assert_eq!(
        (reported.id.as_str(), reported.status),
        ("PAG-000001", PaymentStatus::PorConfirmar),
        "the oldest owed period"
    );
    assert_eq!(reported.receipt.as_deref(), Some("MEDIA-1"));
    assert_eq!(reported.reporter.as_ref(), Some(&customer));
    // The same receipt again (a redelivery): the same payment, nothing else changed.
    let again = store
        .report_payment("CLI-0001", "MEDIA-1", &customer)
        .await
        .expect("again");
    assert_eq!(again.as_ref(), Some(&reported));
    let ana = store.payments_of("CLI-0001").await.expect("payments");
    assert_eq!(ana[1], reported);
    assert_eq!(ana[2].status, PaymentStatus::Pendiente);
    // Another receipt: the next period owed.
    let second = store
        .report_payment("CLI-0001", "MEDIA-2", &customer)
        .await
        .expect("report")
        .expect("still owed");
    assert_eq!(second.id, "PAG-000003");
    // Nothing owed any more, or never: nothing.
    assert_eq!(
        store
            .report_payment("CLI-0001", "MEDIA-3", &customer)
            .await
            .expect("report"),
        None
    );
    assert_eq!(
        store
            .report_payment("CLI-0003", "MEDIA-4", &customer)
            .await
            .expect("paid up"),
        None
    );
    assert_eq!(
        store
            .report_payment("CLI-0099", "MEDIA-5", &customer)
            .await
            .expect("unknown"),
        None
    );
}

/// On a store seeded with [`demo`].
pub async fn staff_answer_a_report_once_paid_or_owed_again(store: &dyn Store) {
    let store = store.payments();
    let customer = key("524421110001");
    // Not waiting for an answer (pending, or unknown): nothing.
    assert_eq!(
        store
            .settle_payment("PAG-000003", Verdict::Confirmed, "2026-12-06")
            .await
            .expect("settle"),
        None
    );
    assert_eq!(
        store
            .settle_payment("PAG-999999", Verdict::Confirmed, "2026-12-06")
            .await
            .expect("settle"),
        None
    );
    store
        .report_payment("CLI-0001", "MEDIA-1", &customer)
        .await
        .expect("report");
    let paid = store
        .settle_payment("PAG-000001", Verdict::Confirmed, "2026-12-06")
        .await
        .expect("settle")
        .expect("waiting");
    assert_eq!(
        (paid.status, paid.paid_on.as_deref()),
        (PaymentStatus::Pagado, Some("2026-12-06"))
    );
    assert_eq!(paid.receipt.as_deref(), Some("MEDIA-1"));
    assert_eq!(
        store
            .settle_payment("PAG-000001", Verdict::Rejected, "2026-12-06")
            .await
            .expect("again"),
        None,
        "answered once"
    );

    // Rejected before its due date: pending again; after it: overdue.
    let reported = store
        .report_payment("CLI-0001", "MEDIA-2", &customer)
        .await
        .expect("report")
        .expect("owed");
    assert_eq!(reported.id, "PAG-000003");
    let back = store
        .settle_payment("PAG-000003", Verdict::Rejected, "2026-12-10")
        .await
        .expect("reject")
        .expect("waiting");
    assert_eq!(
        (back.status, back.paid_on.as_deref()),
        (PaymentStatus::Pendiente, None)
    );
    store
        .report_payment("CLI-0002", "MEDIA-3", &key("524421110002"))
        .await
        .expect("report");
    let late = store
        .settle_payment("PAG-000004", Verdict::Rejected, "2026-12-11")
        .await
        .expect("reject")
        .expect("waiting");
    assert_eq!(late.status, PaymentStatus::Vencido);
}
