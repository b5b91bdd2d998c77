//! Contacts and campaigns, whatever keeps them: a notice queued once whatever repeats it,
//! released in order a few at a time into the outbox (its template kept), what was not
//! released still waiting after a restart, notices in flight at a stop held, confirmed or
//! closed, never sent twice.

use super::Reopen;
use redsol_actors::model::{Channel, ConversationKey, Reply, Template};
use redsol_actors::store::notices::Notice;
use redsol_actors::store::{OutboxEntry, Store};
use std::sync::Arc;

fn wa(user: &str) -> ConversationKey {
    ConversationKey::new(Channel::WhatsApp, user)
}

/// The outage notice of `user`, as a template or as text.
pub fn notice(user: &str, template: bool) -> Notice {
    Notice {
        id: format!("notice:FALLA-000001:declared:whatsapp:{user}"),
        key: wa(user),
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

/// The ids waiting in the WhatsApp outbox, in order.
pub async fn pending_ids(store: &dyn Store) -> Vec<String> {
    store
        .outbox_pending(Channel::WhatsApp)
        .await
        .expect("outbox")
        .into_iter()
        .map(|e| e.id)
        .collect()
}

/// On an empty store; `reopen` opens its database again.
pub async fn a_campaign_is_queued_once_and_released_in_order_into_the_outbox(
    store: Arc<dyn Store>,
    reopen: Reopen,
) {
    let notices = store.notices();
    let campaign: Vec<Notice> = (0..5)
        .map(|n| notice(&format!("52464000000{n}"), n % 2 == 0))
        .collect();
    assert_eq!(
        notices
            .queue_notices(campaign.clone())
            .await
            .expect("queue"),
        5
    );
    // Declared again (a replay, an alert repeated): nothing new.
    assert_eq!(
        notices
            .queue_notices(campaign.clone())
            .await
            .expect("queue"),
        0
    );
    assert_eq!(notices.notices_waiting().await.expect("count"), 5);

    let first = notices.release_notices(2).await.expect("release");
    let ids: Vec<&str> = first.iter().map(|e| e.id.as_str()).collect();
    assert_eq!(ids, [campaign[0].id.as_str(), campaign[1].id.as_str()]);
    assert_eq!(first[0].template, campaign[0].template);
    assert_eq!(first[1].template, None);
    let outbox = store
        .outbox_pending(Channel::WhatsApp)
        .await
        .expect("outbox");
    assert_eq!(outbox.len(), 2, "released notices are in the reply outbox");
    assert_eq!(
        outbox[0].template, campaign[0].template,
        "the template survives the outbox"
    );

    // A restart: what was not released still waits; what was is not released again.
    drop(store);
    let store = reopen().await;
    let notices = store.notices();
    assert_eq!(notices.notices_waiting().await.expect("count"), 3);
    let rest = notices.release_notices(10).await.expect("release");
    assert_eq!(rest.len(), 3);
    assert!(notices
        .release_notices(10)
        .await
        .expect("release")
        .is_empty());
    assert_eq!(notices.queue_notices(campaign).await.expect("queue"), 0);
    let outbox = store
        .outbox_pending(Channel::WhatsApp)
        .await
        .expect("outbox");
    assert_eq!(outbox.len(), 5, "each notice once in the outbox");
}

/// On an empty store.
pub async fn notices_released_and_never_handed_over_go_back_to_their_campaign_at_start(
    store: &dyn Store,
) {
    let notices = store.notices();
    let campaign: Vec<Notice> = (0..3)
        .map(|n| notice(&format!("52464000000{n}"), false))
        .collect();
    notices
        .queue_notices(campaign.clone())
        .await
        .expect("queue");
    assert_eq!(notices.release_notices(3).await.expect("release").len(), 3);
    store
        .outbox_attempted(&campaign[0].id)
        .await
        .expect("attempted");
    store.outbox_sent(&campaign[1].id).await.expect("sent");
    // A reply of a conversation is never touched.
    let reply = OutboxEntry {
        id: "whatsapp:wamid.X:0".into(),
        key: wa("5214640000009"),
        reply: campaign[0].reply.clone(),
        in_reply_to: None,
        queued_at: 1_000,
        reply_to: None,
        attempted: false,
        edit: None,
        template: None,
    };
    store.queue_replies(vec![reply]).await.expect("reply");

    assert_eq!(notices.requeue_notices().await.expect("requeue"), 1);
    assert_eq!(notices.notices_waiting().await.expect("count"), 1);
    let ids = pending_ids(store).await;
    assert_eq!(
        ids,
        [campaign[0].id.clone(), "whatsapp:wamid.X:0".to_string()]
    );
    // Released again later, it is in the outbox once.
    let again = notices.release_notices(10).await.expect("release");
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, campaign[2].id);
}

/// On an empty store.
pub async fn notices_handed_to_a_platform_before_a_stop_are_closed_not_sent_again(
    store: &dyn Store,
) {
    let notices = store.notices();
    let campaign: Vec<Notice> = (0..3)
        .map(|n| notice(&format!("52464000001{n}"), false))
        .collect();
    notices
        .queue_notices(campaign.clone())
        .await
        .expect("queue");
    notices.release_notices(3).await.expect("release");
    store
        .outbox_attempted(&campaign[0].id)
        .await
        .expect("attempted");
    store
        .outbox_attempted(&campaign[1].id)
        .await
        .expect("attempted");
    store.outbox_sent(&campaign[1].id).await.expect("sent");

    let closed = notices.close_attempted_notices().await.expect("close");
    assert_eq!(closed, [(Channel::WhatsApp, 1)], "only the one in flight");
    let ids = pending_ids(store).await;
    assert_eq!(
        ids,
        [campaign[2].id.clone()],
        "the one never handed over still waits"
    );
    assert!(notices
        .close_attempted_notices()
        .await
        .expect("again")
        .is_empty());
}

/// On an empty store.
pub async fn notices_in_flight_wait_for_their_confirmation_and_only_the_unconfirmed_leave_again(
    store: &dyn Store,
) {
    let notices = store.notices();
    let campaign: Vec<Notice> = (0..4)
        .map(|n| notice(&format!("52464000002{n}"), false))
        .collect();
    notices
        .queue_notices(campaign.clone())
        .await
        .expect("queue");
    notices.release_notices(4).await.expect("release");
    for n in &campaign[..3] {
        store.outbox_attempted(&n.id).await.expect("attempted");
    }
    store.outbox_sent(&campaign[2].id).await.expect("sent");
    // In this run, a status before Graph's answer: the entry is sent at once.
    notices
        .confirm_notices(vec![campaign[1].id.clone()])
        .await
        .expect("confirm");
    let past = redsol_actors::store::unix_now() - 1;

    // At start: only [0] is in flight (attempted, unsent); it is held, not closed.
    let held = notices
        .hold_attempted_notices(Channel::WhatsApp, past + 3_600)
        .await
        .expect("hold");
    assert_eq!(held, 1);
    assert!(notices
        .close_attempted_notices()
        .await
        .expect("close")
        .is_empty());
    assert_eq!(notices.notices_waiting().await.expect("waiting"), 1);
    let pending = pending_ids(store).await;
    assert_eq!(
        pending,
        [campaign[3].id.clone()],
        "never handed over: waits"
    );
    assert!(
        notices
            .release_notices(10)
            .await
            .expect("release")
            .is_empty(),
        "a held notice waits for its hold"
    );

    // Confirmed by its status (twice, and with ids that are not held): closed once.
    let ids = vec![
        campaign[0].id.clone(),
        campaign[3].id.clone(),
        "whatsapp:wamid.Y:0".into(),
    ];
    assert_eq!(
        notices.confirm_notices(ids.clone()).await.expect("confirm"),
        1
    );
    assert_eq!(notices.confirm_notices(ids).await.expect("again"), 0);
    assert_eq!(notices.notices_waiting().await.expect("waiting"), 0);

    // Another run: [3] in flight and never confirmed leaves again once its hold is over.
    store
        .outbox_attempted(&campaign[3].id)
        .await
        .expect("attempted");
    let held = notices
        .hold_attempted_notices(Channel::WhatsApp, past)
        .await
        .expect("hold");
    assert_eq!(held, 1);
    let again: Vec<String> = notices
        .release_notices(10)
        .await
        .expect("release")
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(again, [campaign[3].id.clone()], "only the unconfirmed one");
    assert!(
        notices
            .hold_attempted_notices(Channel::Telegram, past)
            .await
            .expect("hold")
            == 0,
        "another channel's notices are not held"
    );
}

/// On an empty store.
pub async fn contacts_keep_their_latest_message_their_phone_and_their_opt_out(store: &dyn Store) {
    let notices = store.notices();
    let tg = ConversationKey::new(Channel::Telegram, "777");
    notices
        .touch_contact(&tg, Some("4641234567".into()), 5_000)
        .await
        .expect("touch");
    // An older time and no phone change neither.
    notices
        .touch_contact(&tg, None, 4_000)
        .await
        .expect("touch");
    notices
        .set_opted_out(&wa("5214640000001"), true, 6_000)
        .await
        .expect("opt out");
    let mut contacts = notices.contacts().await.expect("contacts");
    contacts.sort_by(|a, b| a.key.user.cmp(&b.key.user));
    assert_eq!(contacts.len(), 2);
    let wa_contact = &contacts[0];
    assert!(wa_contact.opted_out);
    let tg_contact = &contacts[1];
    assert_eq!(
        (
            tg_contact.phone.as_deref(),
            tg_contact.last_inbound,
            tg_contact.opted_out
        ),
        (Some("4641234567"), 5_000, false)
    );
    notices
        .set_opted_out(&wa("5214640000001"), false, 7_000)
        .await
        .expect("opt in");
    let contacts = notices.contacts().await.expect("contacts");
    assert!(contacts.iter().all(|c| !c.opted_out));
}
