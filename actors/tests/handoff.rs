//! Handoff to a person, turn by turn: the card, the first tap wins, the relay both ways with
//! the bot silent, `/mis`, `/cliente`, `/soltar`, the idle release and the out-of-hours queue
//! (on the engine's clock, which follows paused tokio time).

mod common;

use common::desk::{desk_at, group, Party, Sent, GROUP};
use common::{MONDAY_10AM, MONDAY_UTC};
use redsol_actors::model::{Attachment, AttachmentKind, Channel, Content, ConversationKey};

/// The "Atender" button's id on a card.
fn take_id(sent: &Sent) -> String {
    let card = sent
        .others
        .iter()
        .find(|a| a.key == group())
        .unwrap_or_else(|| panic!("no card in the staff group: {:?}", sent.others));
    card.reply
        .quick_replies
        .iter()
        .find(|q| q.title == "Atender")
        .map(|q| q.id.clone())
        .unwrap_or_else(|| panic!("no Atender button: {:?}", card.reply))
}

#[tokio::test(start_paused = true)]
async fn a_person_takes_over_relays_both_ways_and_gives_it_back() {
    let mut desk = desk_at(MONDAY_10AM);
    let mut customer = Party::new(Channel::WhatsApp, "5214641112233", "Lupita");
    let mut ana = Party::new(Channel::Telegram, "900", "Ana");
    let mut beto = Party::new(Channel::Telegram, "901", "Beto");

    desk.say(&mut customer, "no tengo internet desde ayer en la norte")
        .await;
    let asked = desk
        .say(&mut customer, "quiero hablar con una persona")
        .await;
    assert!(asked.text().contains("10 minutos"), "{}", asked.text());
    let card = asked.to(&group()).join("\n");
    assert!(
        card.contains("Lupita") && card.contains("WhatsApp"),
        "{card}"
    );
    assert!(card.contains("Norte") && card.contains("falla"), "{card}");
    assert!(
        !card.contains("5214641112233"),
        "no phone in the group: {card}"
    );
    let take = take_id(&asked);

    // Ana taps first: the group sees who, the customer is greeted, the details go private.
    let taken = desk.tap(&mut ana, &take).await;
    assert!(taken.text().contains("lo atiende Ana"), "{}", taken.text());
    let private = taken.to(&ana.key).join("\n");
    assert!(
        private.contains("5214641112233") && private.contains("no tengo internet"),
        "{private}"
    );
    assert!(taken.to(&customer.key).join("").contains("te atiende Ana"));

    // Beto is too late, and so is a customer who found the button.
    let late = desk.tap(&mut beto, &take).await;
    assert!(late.text().contains("Ya lo atiende Ana"), "{}", late.text());
    assert!(late.others.is_empty());
    let mut stranger = Party::new(Channel::Telegram, "555", "Intruso");
    let refused = desk.tap(&mut stranger, &take).await;
    assert!(
        refused.text().contains("solo para el personal"),
        "{}",
        refused.text()
    );
    assert!(refused.others.is_empty());

    // Three messages each way, in order, with the bot silent.
    for (from_customer, from_ana) in [
        ("sigue sin jalar", "¿Ya reiniciaste el módem?"),
        ("si ya lo reinicie", "Te mando un técnico hoy"),
        ("ok gracias", "De nada"),
    ] {
        let relayed = desk.say(&mut customer, from_customer).await;
        assert!(relayed.reply.is_none(), "the bot is silent");
        let got = relayed.to(&ana.key);
        assert_eq!(got.len(), 1);
        assert!(
            got[0].contains("Lupita") && got[0].ends_with(from_customer),
            "{got:?}"
        );
        let answered = desk.say(&mut ana, from_ana).await;
        assert!(answered.reply.is_none(), "nothing back to Ana");
        assert_eq!(answered.to(&customer.key), [from_ana.to_string()]);
    }

    // A photo goes to the person with its media id and caption; a person's photo goes to the
    // customer as an attachment with its caption; a voice note cannot be relayed, and they are
    // told to say it in words.
    let photo = Content::Media {
        kind: "image".into(),
        id: "1234567890".into(),
        caption: Some("así se ve el módem".into()),
    };
    let relayed = desk.send(&mut customer, photo, None).await;
    let got = relayed.to(&ana.key).join("");
    assert!(
        got.contains("id de medio 1234567890") && got.contains("así se ve el módem"),
        "{got}"
    );
    let theirs = Content::Media {
        kind: "photo".into(),
        id: "tg-file".into(),
        caption: Some("así debe verse".into()),
    };
    let relayed = desk.send(&mut ana, theirs, None).await;
    assert!(relayed.reply.is_none(), "nothing back to Ana");
    let to_customer: Vec<_> = relayed
        .others
        .iter()
        .filter(|o| o.key == customer.key)
        .collect();
    assert_eq!(to_customer.len(), 1, "{:?}", relayed.others);
    assert_eq!(to_customer[0].reply.text, "así debe verse");
    assert_eq!(
        to_customer[0].reply.attachment,
        Some(Attachment {
            kind: AttachmentKind::Photo,
            telegram_file: "tg-file".into()
        })
    );
    let voice = Content::Media {
        kind: "voice".into(),
        id: "tg-voice".into(),
        caption: None,
    };
    let refused = desk.send(&mut ana, voice, None).await;
    assert!(
        refused.text().contains("No puedo reenviar"),
        "{}",
        refused.text()
    );
    assert!(refused.to(&customer.key).is_empty());

    let mine = desk.say(&mut ana, "/mis").await;
    assert!(mine.text().contains("Lupita"), "{}", mine.text());
    let record = desk.say(&mut ana, "/cliente").await;
    assert!(record.text().contains("5214641112233"), "{}", record.text());
    assert!(desk
        .say(&mut beto, "/mis")
        .await
        .text()
        .contains("No tienes"));

    let released = desk.say(&mut ana, "/soltar").await;
    assert!(
        released.text().contains("Lupita regresó"),
        "{}",
        released.text()
    );
    assert!(released.to(&customer.key).join("").contains("asistente"));
    let back = desk.say(&mut customer, "cuanto cuesta el de 50").await;
    assert!(
        back.text().contains("$450"),
        "the bot answers again: {}",
        back.text()
    );
    assert!(back.others.is_empty());
    let after = desk.say(&mut ana, "hola?").await;
    assert!(
        after.to(&customer.key).is_empty(),
        "nothing relayed after /soltar"
    );
}

#[tokio::test(start_paused = true)]
async fn silence_returns_the_conversation_to_the_bot() {
    let mut desk = desk_at(MONDAY_10AM);
    let mut customer = Party::new(Channel::Telegram, "777", "Memo");
    let mut ana = Party::new(Channel::Telegram, "900", "Ana");
    let asked = desk.say(&mut customer, "pasame con un asesor").await;
    desk.tap(&mut ana, &take_id(&asked)).await;
    desk.say(&mut customer, "hola").await;

    // 29 minutes of silence: still held.
    tokio::time::advance(std::time::Duration::from_secs(29 * 60)).await;
    assert!(desk.sweep().await.is_empty());
    // The customer writes: the staff member has said nothing for 31 minutes, but the
    // conversation is not silent on both sides.
    desk.say(&mut customer, "sigue sin funcionar").await;
    tokio::time::advance(std::time::Duration::from_secs(2 * 60)).await;
    assert!(
        desk.sweep().await.is_empty(),
        "the customer is still talking"
    );
    tokio::time::advance(std::time::Duration::from_secs(27 * 60)).await;
    assert!(desk.sweep().await.is_empty());
    // 30 minutes after the last message either way: back to the bot.
    tokio::time::advance(std::time::Duration::from_secs(60)).await;
    let swept = desk.sweep().await;
    let to = |key: &ConversationKey| {
        swept
            .iter()
            .filter(|a| &a.key == key)
            .map(|a| a.reply.text.clone())
            .collect::<String>()
    };
    assert!(to(&customer.key).contains("asistente"), "{swept:?}");
    assert!(to(&ana.key).contains("inactividad"), "{swept:?}");
    let back = desk.say(&mut customer, "que planes tienen").await;
    assert!(back.reply.is_some() && back.to(&ana.key).is_empty());
}

#[tokio::test(start_paused = true)]
async fn out_of_hours_the_request_waits_for_the_opening() {
    // Sunday 20:00 in Mexico City.
    let mut desk = desk_at(MONDAY_UTC + 2 * 3600);
    let mut customer = Party::new(Channel::WhatsApp, "5214649998877", "Rosa");
    let asked = desk.say(&mut customer, "quiero hablar con alguien").await;
    assert!(
        asked.text().contains("lunes a sábado") && asked.text().contains("mañana a las 09:00"),
        "{}",
        asked.text()
    );
    assert!(asked.others.is_empty(), "no card at night");
    // Still night at 08:59: nothing posted.
    tokio::time::advance(std::time::Duration::from_secs(12 * 3600 + 59 * 60)).await;
    assert!(desk.sweep().await.is_empty());
    // 09:00: the card, once.
    tokio::time::advance(std::time::Duration::from_secs(60)).await;
    let swept = desk.sweep().await;
    assert_eq!(swept.len(), 1, "{swept:?}");
    assert_eq!(swept[0].key, group());
    assert!(swept[0].reply.text.contains("Rosa"));
    assert!(desk.sweep().await.is_empty());
    // Nobody takes it in a day: it expires, and the customer is told.
    tokio::time::advance(std::time::Duration::from_secs(24 * 3600)).await;
    let expired = desk.sweep().await;
    assert_eq!(expired.len(), 1, "{expired:?}");
    assert_eq!(expired[0].key, customer.key);
    assert!(
        expired[0].reply.text.contains("Nadie del equipo"),
        "{expired:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn backing_out_before_anyone_takes_it_withdraws_the_request() {
    let mut desk = desk_at(MONDAY_10AM);
    let mut customer = Party::new(Channel::Telegram, "778", "Toño");
    let mut ana = Party::new(Channel::Telegram, "900", "Ana");
    let asked = desk
        .say(&mut customer, "quiero hablar con una persona")
        .await;
    let take = take_id(&asked);
    // Waiting, the bot still helps.
    let price = desk.say(&mut customer, "cuanto cuesta el de 20").await;
    assert!(price.text().contains("$350"), "{}", price.text());
    let withdrawn = desk.say(&mut customer, "ya no").await;
    assert!(
        withdrawn.text().contains("cancelé la solicitud"),
        "{}",
        withdrawn.text()
    );
    let late = desk.tap(&mut ana, &take).await;
    assert!(
        late.text().contains("ya no está abierta"),
        "{}",
        late.text()
    );
}

#[tokio::test(start_paused = true)]
async fn replays_lose_and_double_nothing_and_switching_greets_nobody() {
    let mut desk = desk_at(MONDAY_10AM);
    let mut lupita = Party::new(Channel::WhatsApp, "5214641112233", "Lupita");
    let mut memo = Party::new(Channel::Telegram, "777", "Memo");
    let mut ana = Party::new(Channel::Telegram, "900", "Ana");
    let first = take_id(&desk.say(&mut lupita, "quiero hablar con una persona").await);
    let second = take_id(&desk.say(&mut memo, "pasame con un asesor").await);

    // A tap replayed after a crash greets the customer again (the first one never left).
    let id = first.trim_start_matches("take:");
    let (taken, again) = desk.replayed(&mut ana, &format!("/atender {id}")).await;
    for sent in [&taken, &again] {
        assert!(
            sent.to(&lupita.key).join("").contains("te atiende Ana"),
            "{}",
            sent.text()
        );
    }
    desk.tap(&mut ana, &second).await;
    // Back to Lupita with /mis's button: she is not greeted again.
    let mine = desk.say(&mut ana, "/mis").await;
    let back = mine
        .reply
        .as_ref()
        .and_then(|r| r.quick_replies.iter().find(|q| q.title.contains("Lupita")))
        .map(|q| q.id.clone())
        .expect("a button per conversation");
    let switched = desk.send(&mut ana, Content::Choice(back), None).await;
    assert!(
        switched.text().contains("Ahora respondes a Lupita"),
        "{}",
        switched.text()
    );
    assert!(switched.others.is_empty(), "{:?}", switched.others);
    assert_eq!(
        desk.say(&mut ana, "hola Lupita").await.to(&lupita.key),
        ["hola Lupita"]
    );

    // /soltar replayed: the customer is told both times (the same outbox ids).
    let (released, again) = desk.replayed(&mut ana, "/soltar").await;
    for sent in [&released, &again] {
        assert!(sent.text().contains("Lupita regresó"), "{}", sent.text());
        assert!(sent.to(&lupita.key).join("").contains("asistente"));
    }
    // Nobody answers after /soltar until picked again.
    let after = desk.say(&mut ana, "sigues ahi?").await;
    assert!(after.to(&lupita.key).is_empty() && after.to(&memo.key).is_empty());
}

#[tokio::test(start_paused = true)]
async fn staff_details_stay_private_and_nobody_takes_their_own_request() {
    let mut desk = desk_at(MONDAY_10AM);
    let mut lupita = Party::new(Channel::WhatsApp, "5214641112233", "Lupita");
    let mut ana = Party::new(Channel::Telegram, "900", "Ana");
    let take = take_id(&desk.say(&mut lupita, "quiero hablar con una persona").await);
    desk.tap(&mut ana, &take).await;
    desk.send(&mut ana, Content::Text("/cliente".into()), Some(GROUP))
        .await;
    assert!(
        ana.state.private_reply,
        "/cliente asked in the group is answered privately"
    );

    // A staff member asking for a person gets a card nobody takes from their own tap.
    let mut beto = Party::new(Channel::Telegram, "901", "Beto");
    let own = take_id(&desk.say(&mut beto, "quiero hablar con una persona").await);
    let refused = desk.tap(&mut beto, &own).await;
    assert!(
        refused.text().contains("ya no está abierta"),
        "{}",
        refused.text()
    );
    assert!(refused.others.is_empty());
}

#[tokio::test(start_paused = true)]
async fn staff_start_a_conversation_with_a_customer_who_did_not_ask() {
    let mut desk = desk_at(MONDAY_10AM);
    let mut lupita = Party::new(Channel::WhatsApp, "5214641112233", "Lupita");
    let mut ana = Party::new(Channel::Telegram, "900", "Ana");
    let usage = desk.say(&mut ana, "/atender 123").await;
    assert!(
        usage.text().contains("/atender H-000001"),
        "{}",
        usage.text()
    );

    let started = desk.say(&mut ana, "/atender 464 111 2233").await;
    assert!(
        started.to(&lupita.key).join("").contains("te atiende Ana"),
        "{:?}",
        started.others
    );
    // Lupita never asked, yet what she writes now reaches Ana, and Ana's answers reach her.
    let relayed = desk.say(&mut lupita, "hola, quién es?").await;
    assert!(relayed.reply.is_none(), "the bot is silent");
    assert!(relayed.to(&ana.key).join("").ends_with("hola, quién es?"));
    let answered = desk.say(&mut ana, "Soy Ana, de soporte").await;
    assert_eq!(answered.to(&lupita.key), ["Soy Ana, de soporte"]);
    desk.say(&mut ana, "/soltar").await;
    let back = desk.say(&mut lupita, "cuanto cuesta el de 50").await;
    assert!(back.text().contains("$450"), "{}", back.text());
}
