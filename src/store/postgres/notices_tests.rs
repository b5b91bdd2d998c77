//! Contacts and campaigns in PostgreSQL against a real server: a notice queued once whatever
//! repeats it, released in order a few at a time into the outbox (its template kept), what was
//! not released still waiting after a reopen (two replicas at once: `replica_tests.rs`).

use super::tests::{drop_schema, key, store};
use super::*;
use redsol_actors::model::{ConversationKey, Reply, Template};
use redsol_actors::store::notices::Notice;
use redsol_actors::store::OutboxEntry;

pub(super) fn notice(user: &str, template: bool) -> Notice {
    Notice {
        id: format!("notice:FALLA-000001:declared:whatsapp:{user}"),
        key: key(user),
        reply: Reply {
            text: "Hay una falla en la zona Norte".into(),
            quick_replies: Vec::new(),
            attachment: None,
        },
        template: template.then(|| Template {
            name: "falla_zona".into(),
            language: "es_MX".into(),
            params: vec!["Norte".into(), "corte de fibra".into(), "2 h".into()],
        }),
        queued_at: 1_000,
    }
}

/// The unsent entries of the WhatsApp outbox, in order.
pub(super) async fn outbox(store: &PgStore) -> Vec<OutboxEntry> {
    store
        .outbox_page(Channel::WhatsApp, 0, 1_000)
        .await
        .expect("outbox")
        .entries
}

/// The ids waiting in the WhatsApp outbox, in order.
pub(super) async fn pending_ids(store: &PgStore) -> Vec<String> {
    outbox(store).await.into_iter().map(|e| e.id).collect()
}

/// Another replica on the same schema (a restart, or a second process).
pub(super) async fn reopen(schema: &str) -> Option<PgStore> {
    let url = std::env::var("REDSOL_TEST_DATABASE_URL").ok()?;
    let store = PgStore::connect_with(
        &url,
        &PgSettings::default(),
        &format!("-c search_path={schema}"),
        Vec::new,
    )
    .await
    .expect("reopens");
    Some(store)
}

#[tokio::test]
async fn notices_released_and_never_handed_over_go_back_to_their_campaign_at_start() {
    let Some((store, schema)) = store(Vec::new()).await else {
        return;
    };
    let campaign: Vec<Notice> = (0..3)
        .map(|n| notice(&format!("52464000000{n}"), false))
        .collect();
    store.queue_notices(campaign.clone()).await.expect("queue");
    assert_eq!(store.release_notices(3).await.expect("release").len(), 3);
    store
        .outbox_attempted(&campaign[0].id)
        .await
        .expect("attempted");
    store.outbox_sent(&campaign[1].id).await.expect("sent");
    // A reply of a conversation is never touched.
    let reply = OutboxEntry {
        id: "whatsapp:wamid.X:0".into(),
        key: key("5214640000009"),
        reply: campaign[0].reply.clone(),
        in_reply_to: None,
        queued_at: 1_000,
        reply_to: None,
        attempted: false,
        edit: None,
        template: None,
    };
    store.queue_replies(vec![reply]).await.expect("reply");

    assert_eq!(store.requeue_notices().await.expect("requeue"), 1);
    assert_eq!(store.notices_waiting().await.expect("count"), 1);
    let ids = pending_ids(&store).await;
    assert_eq!(
        ids,
        [campaign[0].id.clone(), "whatsapp:wamid.X:0".to_string()]
    );
    // Released again later, it is in the outbox once.
    let again = store.release_notices(10).await.expect("release");
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, campaign[2].id);
    drop_schema(store, &schema).await;
}

#[tokio::test]
async fn notices_handed_to_a_platform_before_a_stop_are_closed_not_sent_again() {
    let Some((store, schema)) = store(Vec::new()).await else {
        return;
    };
    let campaign: Vec<Notice> = (0..3)
        .map(|n| notice(&format!("52464000001{n}"), false))
        .collect();
    store.queue_notices(campaign.clone()).await.expect("queue");
    store.release_notices(3).await.expect("release");
    store
        .outbox_attempted(&campaign[0].id)
        .await
        .expect("attempted");
    store
        .outbox_attempted(&campaign[1].id)
        .await
        .expect("attempted");
    store.outbox_sent(&campaign[1].id).await.expect("sent");

    let closed = store.close_attempted_notices().await.expect("close");
    assert_eq!(closed, [(Channel::WhatsApp, 1)], "only the one in flight");
    let ids = pending_ids(&store).await;
    assert_eq!(
        ids,
        [campaign[2].id.clone()],
        "the one never handed over still waits"
    );
    assert!(store
        .close_attempted_notices()
        .await
        .expect("again")
        .is_empty());
    drop_schema(store, &schema).await;
}

#[tokio::test]
async fn notices_in_flight_wait_for_their_confirmation_and_only_the_unconfirmed_leave_again() {
    let Some((store, schema)) = store(Vec::new()).await else {
        return;
    };
    let campaign: Vec<Notice> = (0..4)
        .map(|n| notice(&format!("52464000002{n}"), false))
        .collect();
    store.queue_notices(campaign.clone()).await.expect("queue");
    store.release_notices(4).await.expect("release");
    for n in &campaign[..3] {
        store.outbox_attempted(&n.id).await.expect("attempted");
    }
    store.outbox_sent(&campaign[2].id).await.expect("sent");
    // In this run, a status before the platform's answer: the entry is sent at once.
    store
        .confirm_notices(vec![campaign[1].id.clone()])
        .await
        .expect("confirm");
    let past = redsol_actors::store::unix_now() - 1;

    // At start: only [0] is in flight (attempted, unsent); it is held, not closed.
    let held = store
        .hold_attempted_notices(Channel::WhatsApp, past + 3_600)
        .await
        .expect("hold");
    assert_eq!(held, 1);
    assert!(store
        .close_attempted_notices()
        .await
        .expect("close")
        .is_empty());
    assert_eq!(store.notices_waiting().await.expect("waiting"), 1);
    let pending = pending_ids(&store).await;
    assert_eq!(
        pending,
        [campaign[3].id.clone()],
        "never handed over: waits"
    );
    assert!(
        store.release_notices(10).await.expect("release").is_empty(),
        "a held notice waits for its hold"
    );

    // Confirmed by its status (twice, and with ids that are not held): closed once.
    let ids = vec![
        campaign[0].id.clone(),
        campaign[3].id.clone(),
        "whatsapp:wamid.Y:0".into(),
    ];
    assert_eq!(
        store.confirm_notices(ids.clone()).await.expect("confirm"),
        1
    );
    assert_eq!(store.confirm_notices(ids).await.expect("again"), 0);
    assert_eq!(store.notices_waiting().await.expect("waiting"), 0);

    // Another run: [3] in flight and never confirmed leaves again once its hold is over.
    store
        .outbox_attempted(&campaign[3].id)
        .await
        .expect("attempted");
    let held = store
        .hold_attempted_notices(Channel::WhatsApp, past)
        .await
        .expect("hold");
    assert_eq!(held, 1);
    let again: Vec<String> = store
        .release_notices(10)
        .await
        .expect("release")
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(again, [campaign[3].id.clone()], "only the unconfirmed one");
    assert_eq!(
        store
            .hold_attempted_notices(Channel::Telegram, past)
            .await
            .expect("hold"),
        0,
        "another channel's notices are not held"
    );
    drop_schema(store, &schema).await;
}

#[tokio::test]
async fn contacts_keep_their_latest_message_their_phone_and_their_opt_out() {
    let Some((store, schema)) = store(Vec::new()).await else {
        return;
    };
    let tg = ConversationKey::new(Channel::Telegram, "777");
    store
        .touch_contact(&tg, Some("4641234567".into()), 5_000)
        .await
        .expect("touch");
    // An older time and no phone change neither.
    store.touch_contact(&tg, None, 4_000).await.expect("touch");
    store
        .set_opted_out(&key("5214640000001"), true, 6_000)
        .await
        .expect("opt out");
    let mut contacts = store.contacts().await.expect("contacts");
    contacts.sort_by(|a, b| a.key.user.cmp(&b.key.user));
    assert_eq!(contacts.len(), 2);
    let wa_contact = &contacts[0];
    assert!(wa_contact.opted_out);
    assert_eq!(wa_contact.last_inbound, 6_000);
    let tg_contact = &contacts[1];
    assert_eq!(
        (
            tg_contact.phone.as_deref(),
            tg_contact.last_inbound,
            tg_contact.opted_out
        ),
        (Some("4641234567"), 5_000, false)
    );
    // A newer message moves it on.
    store.touch_contact(&tg, None, 8_000).await.expect("touch");
    store
        .set_opted_out(&key("5214640000001"), false, 7_000)
        .await
        .expect("opt in");
    let contacts = store.contacts().await.expect("contacts");
    assert!(contacts.iter().all(|c| !c.opted_out));
    assert!(contacts
        .iter()
        .any(|c| c.key == tg && c.last_inbound == 8_000));
    drop_schema(store, &schema).await;
}
