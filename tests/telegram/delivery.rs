//! The sender: Telegram's 429 waited out, 5xx retried, a blocked user not retried, long
//! replies split, each outbox reply sent once, a relayed photo sent by its `file_id`.

use crate::fake::{Failure, FakeTelegram};
use crate::harness::{demo_store, rules, Bot, User, TOKEN};
use crate::metrics;
use redsol_actors::model::{
    Attachment, AttachmentKind, Channel, ConversationKey, Outbound, QuickReply, Reply,
};
use redsol_actors::store::{OutboxEntry, Store, TurnCommit};
use std::time::Duration;

fn outbound(user: &str, text: &str, outbox_id: Option<&str>) -> Outbound {
    Outbound {
        key: ConversationKey::new(Channel::Telegram, user),
        reply: Reply {
            text: text.to_string(),
            quick_replies: vec![QuickReply::new("intent:help", "Menú")],
            attachment: None,
        },
        in_reply_to: None,
        outbox_id: outbox_id.map(str::to_string),
        accepted_at: tokio::time::Instant::now(),
        reply_to: None,
        edit: None,
        template: None,
    }
}

#[tokio::test]
async fn a_429_is_waited_out_and_the_message_arrives_once() {
    let fake = FakeTelegram::start(TOKEN).await;
    let bot = Bot::start(&fake, demo_store(&rules())).await;
    fake.fail_next([Failure::RetryAfter(1)]);

    let user = User::new(&fake, 11, "Eva", None);
    let reply = user.say("/start").await;
    assert!(reply.text.contains("Hola"), "{}", reply.text);

    let calls = fake.calls("sendmessage");
    assert_eq!(calls.len(), 2, "one refused with 429, one accepted");
    assert_eq!(calls[0].status, 429);
    assert_eq!(calls[1].status, 200);
    let waited = calls[1].at.duration_since(calls[0].at);
    assert!(
        waited >= Duration::from_secs(1),
        "retry_after was not waited: {waited:?}"
    );
    assert_eq!(fake.sent().len(), 1);
    // The sender records its metrics once the answer is back: wait until it is done.
    bot.channel.drain(Duration::from_secs(5)).await;
    let tg = ("channel", "telegram");
    assert!(
        metrics::total(
            "redsol_rate_limited_total",
            &[tg, ("direction", "outbound")]
        ) >= 1
    );
    assert!(metrics::total("redsol_messages_sent_total", &[tg, ("outcome", "ok")]) >= 1);
    assert!(metrics::total("redsol_response_seconds", &[tg]) >= 1);
    // Marked sent in the outbox: nothing to resend.
    assert!(bot
        .store
        .outbox_pending(Channel::Telegram)
        .await
        .expect("outbox")
        .is_empty());
    bot.stop().await;
}

#[tokio::test]
async fn a_server_error_is_retried_and_a_blocked_user_is_not() {
    let fake = FakeTelegram::start(TOKEN).await;
    let bot = Bot::start(&fake, demo_store(&rules())).await;

    fake.fail_next([Failure::ServerError]);
    let user = User::new(&fake, 12, "Iván", None);
    let reply = user.say("/start").await;
    assert!(reply.text.contains("Hola"), "{}", reply.text);
    let statuses: Vec<u16> = fake.calls("sendmessage").iter().map(|c| c.status).collect();
    assert_eq!(statuses, [500, 200]);

    fake.fail_next([Failure::Blocked]);
    let blocked = User::new(&fake, 13, "Olga", None);
    fake.push(
        "message",
        crate::fake::update::text(&blocked.profile, "/start"),
    );
    fake.wait_until("the blocked send", |f| {
        f.calls("sendmessage").iter().any(|c| c.status == 403)
    })
    .await;
    // The next reply to the same chat goes out after the blocked one finished: had it been
    // retried, its retry would come first.
    let later = blocked.say("/menu").await;
    assert!(later.text.contains("Puedo ayudarte"), "{}", later.text);
    let to_olga: Vec<u16> = fake
        .calls("sendmessage")
        .iter()
        .filter(|c| c.params["chat_id"] == 13)
        .map(|c| c.status)
        .collect();
    assert_eq!(to_olga, [403, 200], "the blocked reply was not retried");
    bot.channel.drain(Duration::from_secs(5)).await;
    assert!(
        bot.store
            .outbox_pending(Channel::Telegram)
            .await
            .expect("outbox")
            .is_empty(),
        "the blocked reply's outbox entry is closed"
    );
    assert!(
        metrics::total(
            "redsol_messages_sent_total",
            &[("channel", "telegram"), ("outcome", "blocked")]
        ) >= 1
    );
    bot.stop().await;
}

#[tokio::test]
async fn long_replies_are_split_and_each_outbox_reply_goes_out_once() {
    let fake = FakeTelegram::start(TOKEN).await;
    let bot = Bot::start(&fake, demo_store(&rules())).await;
    let sink = bot.channel.sink();

    let long = "Línea de prueba con acentos y emojis 📶. ".repeat(300);
    sink.deliver(outbound("77", &long, None));
    let sent = fake.wait_for(4).await;
    assert!(sent.len() >= 4);
    assert!(sent.iter().all(|s| s.chat_id == 77));
    assert!(sent.iter().all(|s| s.text.encode_utf16().count() <= 4096));
    assert!(sent[..sent.len() - 1].iter().all(|s| s.buttons.is_empty()));
    assert_eq!(
        sent[sent.len() - 1].buttons,
        ["intent:help"],
        "the keyboard rides on the last part"
    );
    let parts = sent.len();

    // The same durable reply twice, then a resend from the outbox: one message.
    let key = ConversationKey::new(Channel::Telegram, "78");
    bot.store
        .commit_turn(TurnCommit {
            key: key.clone(),
            message_id: None,
            snapshot: "{}".into(),
            lease: None,
            replies: vec![OutboxEntry {
                id: "telegram:tg:1:0".into(),
                key: key.clone(),
                reply: Reply {
                    text: "una vez".into(),
                    quick_replies: vec![],
                    attachment: None,
                },
                in_reply_to: Some("tg:1".into()),
                queued_at: 0,
                reply_to: None,
                attempted: false,
                edit: None,
                template: None,
            }],
        })
        .await
        .expect("commit");
    sink.deliver(outbound("78", "una vez", Some("telegram:tg:1:0")));
    sink.deliver(outbound("78", "una vez", Some("telegram:tg:1:0")));
    assert!(bot.channel.drain(Duration::from_secs(10)).await);
    assert_eq!(
        bot.channel.resend_pending().await,
        0,
        "marked sent in the outbox"
    );
    assert!(bot.channel.drain(Duration::from_secs(10)).await);
    let to_78: Vec<_> = fake
        .sent()
        .into_iter()
        .filter(|s| s.chat_id == 78)
        .collect();
    assert_eq!(to_78.len(), 1, "{to_78:#?}");
    assert_eq!(fake.sent().len(), parts + 1);
    bot.stop().await;
}

#[tokio::test]
async fn unsent_outbox_replies_are_resent_at_start_and_a_contact_request_gets_its_own_reply_keyboard(
) {
    let fake = FakeTelegram::start(TOKEN).await;
    let store = demo_store(&rules());
    let key = ConversationKey::new(Channel::Telegram, "79");
    store
        .commit_turn(TurnCommit {
            key: key.clone(),
            message_id: None,
            snapshot: "{}".into(),
            lease: None,
            replies: vec![OutboxEntry {
                id: "telegram:tg:5:0".into(),
                key: key.clone(),
                reply: Reply {
                    text: "¿Me compartes tu teléfono?".into(),
                    quick_replies: vec![
                        QuickReply::new("contact:request", "Compartir mi teléfono"),
                        QuickReply::new("cancel", "Cancelar"),
                    ],
                    attachment: None,
                },
                in_reply_to: Some("tg:5".into()),
                queued_at: 0,
                reply_to: None,
                attempted: false,
                edit: None,
                template: None,
            }],
        })
        .await
        .expect("commit");
    let bot = Bot::start(&fake, store.clone()).await;
    let sent = fake.wait_for(2).await;
    assert_eq!(sent[0].chat_id, 79);
    assert_eq!(sent[0].buttons, ["cancel"], "{:#?}", sent[0]);
    assert!(!sent[0].contact_button);
    assert_eq!(sent[1].chat_id, 79);
    assert!(sent[1].contact_button, "{:#?}", sent[1]);
    assert!(bot.channel.drain(Duration::from_secs(10)).await);
    assert!(store
        .outbox_pending(Channel::Telegram)
        .await
        .expect("outbox")
        .is_empty());
    bot.stop().await;
}

#[tokio::test]
async fn a_relayed_photo_is_sent_again_by_its_file_id_and_an_unknown_file_is_not_retried() {
    let fake = FakeTelegram::start(TOKEN).await;
    fake.add_file("AgAD-staff", b"\xFF\xD8\xFF\xE0photo");
    let store = demo_store(&rules());
    let key = ConversationKey::new(Channel::Telegram, "81");
    let entry = |id: &str, kind: AttachmentKind, file: &str, text: &str| OutboxEntry {
        id: id.into(),
        key: key.clone(),
        reply: Reply {
            text: text.into(),
            quick_replies: Vec::new(),
            attachment: Some(Attachment {
                kind,
                telegram_file: file.into(),
            }),
        },
        in_reply_to: None,
        queued_at: 0,
        reply_to: None,
        attempted: false,
        edit: None,
        template: None,
    };
    store
        .commit_turn(TurnCommit {
            key: key.clone(),
            message_id: None,
            snapshot: "{}".into(),
            lease: None,
            replies: vec![
                entry("relay:1", AttachmentKind::Photo, "AgAD-staff", "tu módem"),
                entry("relay:2", AttachmentKind::Document, "AgAD-gone", ""),
            ],
        })
        .await
        .expect("commit");
    let bot = Bot::start(&fake, store.clone()).await;
    let sent = fake.wait_for(1).await;
    assert_eq!(sent[0].chat_id, 81);
    assert_eq!(sent[0].file.as_deref(), Some("photo:AgAD-staff"));
    assert_eq!(sent[0].text, "tu módem", "the text is the caption");
    assert!(bot.channel.drain(Duration::from_secs(10)).await);
    let documents = fake.calls("senddocument");
    assert_eq!(documents.len(), 1, "refused once, not retried");
    assert_eq!(documents[0].status, 400);
    assert!(store
        .outbox_pending(Channel::Telegram)
        .await
        .expect("outbox")
        .is_empty());
    bot.stop().await;
}
