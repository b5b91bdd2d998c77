//! Billing through the real engine over the demo clients and their demo payments: a WhatsApp
//! client sees their own balance, reference and where to pay; a number that is no client's
//! proves who it is (client id and last 4 digits) or is locked out after three wrong tries; a
//! Telegram user sees an account only through the phone they shared; "ya pagué" and a photo
//! make a payment report for staff, whose `/pago … ok|rechazar` the customer is told.

mod common;

use common::default_rules;
use common::payments::{payments_of, say, sent_to, staff_says, text, world, World, STAFF};
use redsol_actors::engine::ConversationState;
use redsol_actors::model::{Channel, Client, Content, ConversationKey};
use redsol_actors::store::payments::PaymentStatus;

/// A client who owes an overdue period, and one who owes nothing.
async fn owing_and_clear(w: &World) -> (Client, Client) {
    let mut owing = None;
    let mut clear = None;
    for c in &w.clients {
        let p = payments_of(w, &c.id).await;
        if p.is_empty() {
            continue;
        }
        let overdue = p
            .iter()
            .filter(|p| p.status == PaymentStatus::Vencido)
            .count();
        let owed = p.iter().filter(|p| p.status.owed()).count();
        if overdue >= 1 && owing.is_none() {
            owing = Some(c.clone());
        }
        if owed == 0 && clear.is_none() {
            clear = Some(c.clone());
        }
    }
    (
        owing.expect("someone owes"),
        clear.expect("someone owes nothing"),
    )
}

#[tokio::test]
async fn a_whatsapp_client_sees_their_own_balance_reference_and_where_to_pay() {
    let w = world();
    let (owing, clear) = owing_and_clear(&w).await;
    let key = ConversationKey::new(Channel::WhatsApp, format!("521{}", owing.phone));
    let mut state = ConversationState::default();
    let r = say(&w, &mut state, &key, text("cuanto debo?")).await;
    let payments = payments_of(&w, &owing.id).await;
    let total: u32 = payments
        .iter()
        .filter(|p| p.status.owed())
        .map(|p| p.amount)
        .sum();
    let reference = w.engine.rules().billing.reference(&owing.id);
    assert!(
        r.contains(&format!(
            "${}",
            redsol_actors::reports::money(u64::from(total))
        )),
        "{r}"
    );
    assert!(
        r.contains(&reference) && r.contains("CLABE") && r.contains("suspensión"),
        "{r}"
    );
    for p in payments.iter().filter(|p| p.status.owed()) {
        assert!(r.contains(&p.period), "{}: {r}", p.period);
    }
    // Nobody else's account, and the next due date on its own.
    let r = say(&w, &mut state, &key, text("y cuando vence?")).await;
    assert!(r.contains("vence el"), "{r}");

    let key = ConversationKey::new(Channel::WhatsApp, format!("52{}", clear.phone));
    let r = say(
        &w,
        &mut ConversationState::default(),
        &key,
        text("mi saldo porfa"),
    )
    .await;
    assert!(r.contains("al corriente"), "{r}");
}

#[tokio::test]
async fn a_stranger_proves_who_they_are_or_is_locked_out_after_three_tries() {
    let w = world();
    let (owing, _) = owing_and_clear(&w).await;
    let key = ConversationKey::new(Channel::WhatsApp, "5214649990000");
    let mut state = ConversationState::default();
    let r = say(&w, &mut state, &key, text("cuanto debo")).await;
    assert!(r.contains("titular") && !r.contains("CLABE"), "{r}");
    let r = say(&w, &mut state, &key, text(&owing.id)).await;
    assert!(r.contains("últimos 4 dígitos"), "{r}");
    let last4 = &owing.phone[owing.phone.len() - 4..];
    let r = say(&w, &mut state, &key, text(last4)).await;
    assert!(
        r.contains(&w.engine.rules().billing.reference(&owing.id)),
        "{r}"
    );

    // Someone else: three wrong answers lock the lookup, even with the right ones after.
    let key = ConversationKey::new(Channel::WhatsApp, "5214649990001");
    let mut state = ConversationState::default();
    say(&w, &mut state, &key, text("mi saldo")).await;
    for _ in 0..2 {
        say(&w, &mut state, &key, text(&owing.id)).await;
        let r = say(&w, &mut state, &key, text("0000")).await;
        assert!(r.contains("No coincide"), "{r}");
    }
    say(&w, &mut state, &key, text(&owing.id)).await;
    let r = say(&w, &mut state, &key, text("0000")).await;
    assert!(r.contains("bloqueé"), "{r}");
    let r = say(&w, &mut state, &key, text("cuanto debo")).await;
    assert!(r.contains("bloqueé") && !r.contains("CLABE"), "{r}");
}

#[tokio::test]
async fn on_telegram_only_the_phone_they_shared_opens_an_account() {
    let w = world();
    let (owing, _) = owing_and_clear(&w).await;
    let key = ConversationKey::new(Channel::Telegram, "880011");
    let mut state = ConversationState::default();
    let r = say(&w, &mut state, &key, text("cuanto debo")).await;
    assert!(r.contains("titular"), "without a shared phone it asks: {r}");
    // (The channel takes only the user's own contact: a card of someone else never arrives.)
    let mut state = ConversationState::default();
    say(
        &w,
        &mut state,
        &key,
        Content::Contact {
            phone: format!("+52{}", owing.phone),
        },
    )
    .await;
    let r = say(&w, &mut state, &key, text("cuanto debo")).await;
    assert!(
        r.contains(&w.engine.rules().billing.reference(&owing.id)),
        "{r}"
    );
}

#[tokio::test]
async fn a_receipt_becomes_a_report_for_staff_and_the_customer_is_told_their_answer() {
    let w = world();
    let (owing, _) = owing_and_clear(&w).await;
    let key = ConversationKey::new(Channel::WhatsApp, format!("52{}", owing.phone));
    let mut state = ConversationState::default();
    let r = say(&w, &mut state, &key, text("ya pague y me cortaron")).await;
    assert!(r.contains("comprobante"), "{r}");
    let media = Content::Media {
        kind: "image".into(),
        id: "wamid-media-123".into(),
        caption: None,
    };
    let r = say(&w, &mut state, &key, media).await;
    assert!(
        r.contains("Por confirmar") || r.contains("por confirmar"),
        "{r}"
    );
    let reported = payments_of(&w, &owing.id).await;
    let report = reported
        .iter()
        .find(|p| p.status == PaymentStatus::PorConfirmar)
        .expect("a payment report");
    assert_eq!(report.receipt.as_deref(), Some("wamid-media-123"));
    // Staff are alerted with the command to answer.
    let alert = sent_to(&state, &ConversationKey::new(Channel::Telegram, STAFF));
    assert!(alert.contains(&format!("/pago {}", report.id)), "{alert}");

    // A customer who is not staff cannot settle it.
    let r = say(
        &w,
        &mut state,
        &key,
        text(&format!("/pago {} ok", report.id)),
    )
    .await;
    assert!(r.contains("solo para el personal"), "{r}");

    let (r, staff_turn) = staff_says(&w, &format!("/pago {} ok", report.id)).await;
    assert!(r.contains("Pagado"), "{r}");
    let told = sent_to(&staff_turn, &key);
    assert!(told.contains("Confirmamos tu pago"), "{told}");
    let after = payments_of(&w, &owing.id).await;
    assert!(after
        .iter()
        .any(|p| p.id == report.id && p.status == PaymentStatus::Pagado));
    // Settled once: again, it is unknown.
    let (r, _) = staff_says(&w, &format!("/pago {} ok", report.id)).await;
    assert!(r.contains("No encontré"), "{r}");

    // A rejected receipt: the period is owed again and the customer told why.
    let mut state = ConversationState::default();
    say(&w, &mut state, &key, text("ya pague")).await;
    let media = Content::Media {
        kind: "document".into(),
        id: "wamid-media-456".into(),
        caption: None,
    };
    say(&w, &mut state, &key, media).await;
    let second = payments_of(&w, &owing.id)
        .await
        .into_iter()
        .find(|p| p.receipt.as_deref() == Some("wamid-media-456"))
        .expect("a second report");
    let (_, staff_turn) = staff_says(
        &w,
        &format!("/pago {} rechazar no aparece el deposito", second.id),
    )
    .await;
    let told = sent_to(&staff_turn, &key);
    assert!(told.contains("no aparece el deposito"), "{told}");
    let back = payments_of(&w, &owing.id).await;
    assert!(back.iter().any(|p| p.id == second.id && p.status.owed()));
}

#[tokio::test]
async fn staff_finance_shows_this_period_collected_against_expected_and_who_is_overdue() {
    let w = world();
    let (r, _) = staff_says(&w, "reporte de finanzas").await;
    assert!(
        r.contains("Cobranza 2026-12") && r.contains("Vencidos:"),
        "{r}"
    );
    // The biggest debt is listed, with its periods.
    let mut debts: Vec<(u32, String)> = Vec::new();
    for c in &w.clients {
        let p = payments_of(&w, &c.id).await;
        let owed: u32 = p
            .iter()
            .filter(|p| p.status == PaymentStatus::Vencido)
            .map(|p| p.amount)
            .sum();
        if owed > 0 {
            debts.push((owed, c.id.clone()));
        }
    }
    debts.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    assert!(r.contains(&debts[0].1), "{}: {r}", debts[0].1);
    assert!(
        r.contains(&format!("Vencidos: {} clientes", debts.len())),
        "{r}"
    );
    // A customer asking the same gets the privacy refusal.
    let customer = ConversationKey::new(Channel::WhatsApp, "5214649990002");
    let r = say(
        &w,
        &mut ConversationState::default(),
        &customer,
        text("reporte de finanzas"),
    )
    .await;
    assert!(
        r.contains("solo para el personal") && !r.contains("Cobranza"),
        "{r}"
    );
}

#[tokio::test]
async fn staff_see_any_clients_account_by_its_id() {
    let w = world();
    let (owing, _) = owing_and_clear(&w).await;
    let reference = default_rules().billing.reference(&owing.id);
    let staff = ConversationKey::new(Channel::Telegram, STAFF);
    let (r, mut state) = staff_says(&w, &format!("cuanto debe el cliente {}", owing.id)).await;
    assert!(
        r.contains(&owing.id) && r.contains(&reference),
        "no check for staff: {r}"
    );
    // Without an id they are asked whom, and the answer shows the account.
    let r = say(&w, &mut state, &staff, text("saldo de un cliente")).await;
    assert!(r.contains("¿A quién busco?"), "{r}");
    let r = say(&w, &mut state, &staff, text(&owing.id)).await;
    assert!(r.contains(&reference), "{r}");
    let r = say(&w, &mut state, &staff, text("cuanto debe el CLI-99999")).await;
    assert!(r.contains("No encontré"), "{r}");
    // The same question from a customer gets the account check.
    let customer = ConversationKey::new(Channel::WhatsApp, "5214649990003");
    let r = say(
        &w,
        &mut ConversationState::default(),
        &customer,
        text(&format!("cuanto debe el cliente {}", owing.id)),
    )
    .await;
    assert!(
        !r.contains(&reference) && !r.contains(&owing.name),
        "nothing of the account: {r}"
    );
    // A staff member asking the billing question itself is asked which client, not verified.
    let r = say(&w, &mut state, &staff, text("cuanto debo?")).await;
    assert!(r.contains("¿De qué cliente?"), "{r}");
    let r = say(&w, &mut state, &staff, text(&owing.id)).await;
    assert!(r.contains(&reference) && r.contains(&owing.name), "{r}");
}
