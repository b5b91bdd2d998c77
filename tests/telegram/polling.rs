//! The poller's life: a bad token at start, a webhook set elsewhere (409), and a clean stop
//! that commits the offset.

use crate::fake::{update, FakeTelegram};
use crate::harness::{demo_store, rules, settings, tuning, Bot, User, TOKEN};
use redsol::settings::Secret;
use redsol::telegram::TelegramChannel;
use redsol_actors::store::Store;
use std::sync::Arc;

#[tokio::test]
async fn a_bad_token_fails_clearly_without_printing_it() {
    let fake = FakeTelegram::start(TOKEN).await;
    let mut s = settings(&fake);
    s.token = Secret::new("7000000001:WRONG-super-secret");
    let store: Arc<dyn Store> = demo_store(&rules());
    let err = match TelegramChannel::prepare(&s, &tuning(&fake.url), store).await {
        Ok(_) => panic!("a wrong token must not start the channel"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        err.contains("401") && err.contains("TELEGRAM_BOT_TOKEN"),
        "{err}"
    );
    assert!(!err.contains("WRONG-super-secret"), "{err}");
    assert_eq!(fake.calls("getme")[0].status, 401);

    // An unreachable server: the error names the URL but not the token.
    let mut s = settings(&fake);
    s.api_url = "http://127.0.0.1:9".into();
    let store: Arc<dyn Store> = demo_store(&rules());
    let err = match TelegramChannel::prepare(&s, &tuning(&s.api_url), store).await {
        Ok(_) => panic!("an unreachable API must not start the channel"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("127.0.0.1:9"), "{err}");
    assert!(!err.contains("AAH-test_token"), "{err}");
}

#[tokio::test]
async fn a_webhook_set_elsewhere_is_survived_and_polling_resumes() {
    let fake = FakeTelegram::start(TOKEN).await;
    let bot = Bot::start(&fake, demo_store(&rules())).await;
    fake.set_webhook_elsewhere();
    let user = User::new(&fake, 41, "Tere", None);
    fake.push("message", update::text(&user.profile, "/start"));
    fake.wait_until("two 409s", |f| {
        f.calls("getupdates")
            .iter()
            .filter(|c| c.status == 409)
            .count()
            >= 2
    })
    .await;
    assert!(fake.sent().is_empty());
    fake.clear_webhook();
    let sent = fake.wait_for(1).await;
    assert!(sent[0].text.contains("Hola, Tere"), "{}", sent[0].text);
    bot.stop().await;
    assert_eq!(fake.unconfirmed(), 0, "the stop committed the offset");
}

#[tokio::test]
async fn only_the_leader_polls_and_hands_over_its_offset_when_it_stops_leading() {
    let fake = FakeTelegram::start(TOKEN).await;
    let store = demo_store(&rules());
    let (lead, leadership) = tokio::sync::watch::channel(false);
    let bot = Bot::start_led(
        &fake,
        store,
        settings(&fake),
        tuning(&fake.url),
        Some(leadership),
    )
    .await;
    let ana = update::user(5_001, "Ana", None);
    fake.push("message", update::text(&ana, "hola"));
    // A follower does not poll: an ungated poller asks at once, well within this window.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let led_at = tokio::time::Instant::now();
    assert!(fake.calls("getupdates").is_empty(), "a follower polled");
    assert!(fake.sent().is_empty());

    // Leading now: the update is taken and answered.
    lead.send_replace(true);
    let sent = fake.wait_for(1).await;
    assert_eq!(sent.len(), 1);
    assert!(fake.calls("getupdates").iter().all(|c| c.at >= led_at));

    // No longer leading: it confirms what it took to Telegram, so the next leader does not
    // get it again, and stops asking.
    lead.send_replace(false);
    fake.wait_until("the offset handed over", |f| f.unconfirmed() == 0)
        .await;
    bot.stop().await;
    assert_eq!(fake.sent().len(), 1, "answered once");
}
