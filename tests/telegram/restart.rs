//! Crashes: an update journaled but never answered is answered once after a restart, and an
//! update answered already but handed out again (its offset never committed) is not answered
//! again.

use crate::fake::{update, FakeTelegram};
use crate::harness::{demo_store, rules, settings, start_tree, tuning, Bot, User, TOKEN};
use redsol::telegram::TelegramChannel;
use redsol_actors::store::Store;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test]
async fn a_journaled_update_is_answered_once_after_a_restart() {
    let fake = FakeTelegram::start(TOKEN).await;
    let store = demo_store(&rules());
    let store_dyn: Arc<dyn Store> = store.clone();

    // The first process: its conversations are gone (it is dying) when the update comes in,
    // so the update is journaled but never answered, and its offset never committed.
    let mut first =
        TelegramChannel::prepare(&settings(&fake), &tuning(&fake.url), store_dyn.clone())
            .await
            .expect("prepares");
    let (router, root, handle, _) = start_tree(&first, store.clone(), rules()).await;
    router.actor().stop(Some("crash".into()));
    handle.await.expect("the tree stops");
    let _ = root;
    first.start_inbound(router).await.expect("inbound starts");

    let user = User::new(&fake, 31, "Nora", None);
    let id = fake.push("message", update::text(&user.profile, "/start"));
    // The poller takes the batch: journaled, then the route fails. Handed out again, the
    // update is a duplicate in the journal: taken (durably), so the offset moves past it.
    fake.wait_until("the update handed out twice", |f| {
        f.calls("getupdates")
            .iter()
            .filter(|c| c.status == 200 && c.params.get("offset").is_some())
            .count()
            >= 1
    })
    .await;
    let pending = store.journal_pending().await.expect("journal");
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].message_id, format!("tg:{id}"));
    first.shutdown(Duration::from_secs(1)).await;
    assert!(fake.sent().is_empty(), "the dying process answered nothing");
    // As if the process had died before its offset reached Telegram: handed out again.
    fake.redeliver(id);

    // The restart: the journal replays it, and getUpdates hands it out again: one answer.
    let second = Bot::start(&fake, store.clone()).await;
    let sent = fake.wait_for(1).await;
    assert!(sent[0].text.contains("Hola, Nora"), "{}", sent[0].text);
    let next = user.say("/menu").await;
    assert!(next.text.contains("Puedo ayudarte"), "{}", next.text);
    assert_eq!(fake.sent().len(), 2, "{:#?}", fake.sent());
    assert!(store.journal_pending().await.expect("journal").is_empty());

    // Answered already, handed out again (as after a crash before the commit): not answered.
    fake.redeliver(id);
    let again = user.say("adios").await;
    assert!(!again.text.contains("Hola"), "{}", again.text);
    assert_eq!(fake.sent().len(), 3, "{:#?}", fake.sent());
    second.stop().await;

    // The clean stop committed the offset: nothing is handed out again.
    assert_eq!(fake.unconfirmed(), 0);
    let last = fake.calls("getupdates").pop().expect("a getUpdates call");
    assert_eq!(last.params["timeout"], 0, "{:?}", last.params);
}
