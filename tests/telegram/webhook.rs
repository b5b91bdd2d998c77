//! Webhook mode: `setWebhook` with the secret and the update kinds, and `POST
//! /telegram/webhook` taking only requests with the secret.

use crate::fake::{update, FakeTelegram};
use crate::harness::{demo_store, rules, settings, tuning, Bot, TOKEN};
use crate::metrics;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use redsol::settings::Secret;
use redsol::telegram::TelegramChannel;
use redsol_actors::store::Store;
use serde_json::json;
use std::sync::Arc;
use tower::ServiceExt;

const SECRET: &str = "hook-Secret_123";
const HOOK: &str = "https://bot.redsol.example/telegram/webhook";

async fn post(app: &axum::Router, secret: Option<&str>, body: String) -> StatusCode {
    let mut req = Request::post("/telegram/webhook").header("content-type", "application/json");
    if let Some(s) = secret {
        req = req.header("X-Telegram-Bot-Api-Secret-Token", s);
    }
    app.clone()
        .oneshot(req.body(Body::from(body)).expect("request"))
        .await
        .expect("response")
        .status()
}

#[tokio::test]
async fn webhook_mode_takes_only_requests_with_the_secret() {
    let fake = FakeTelegram::start(TOKEN).await;
    let mut s = settings(&fake);
    s.webhook_url = Some(HOOK.into());
    s.webhook_secret = Some(Secret::new(SECRET));
    let bot = Bot::start_with(&fake, demo_store(&rules()), s, tuning(&fake.url)).await;

    let hook = fake.webhook().expect("setWebhook was called");
    assert_eq!(hook.url, HOOK);
    assert_eq!(hook.secret_token.as_deref(), Some(SECRET));
    assert_eq!(
        hook.allowed_updates,
        Some(vec![
            "message".into(),
            "edited_message".into(),
            "callback_query".into()
        ])
    );
    assert!(
        fake.calls("getupdates").is_empty(),
        "no polling in webhook mode"
    );

    let app = bot.channel.routes();
    let user = update::user(61, "Beto", None);
    let start = json!({"update_id": 5001, "message": update::text(&user, "/start")}).to_string();

    assert_eq!(
        post(&app, None, start.clone()).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post(&app, Some("hook-Secret_124"), start.clone()).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post(&app, Some(""), start.clone()).await,
        StatusCode::UNAUTHORIZED
    );
    assert!(fake.sent().is_empty());

    assert_eq!(
        post(&app, Some(SECRET), start.clone()).await,
        StatusCode::OK
    );
    let sent = fake.wait_for(1).await;
    assert_eq!(sent[0].chat_id, 61);
    assert!(sent[0].text.contains("Hola, Beto"), "{}", sent[0].text);

    // Redelivered by Telegram: 200, not answered twice.
    assert_eq!(post(&app, Some(SECRET), start).await, StatusCode::OK);

    // Malformed bodies: 400, no panic.
    for body in ["{not json", "[]", "{}", "{\"update_id\": \"x\"}", ""] {
        assert_eq!(
            post(&app, Some(SECRET), body.into()).await,
            StatusCode::BAD_REQUEST,
            "{body}"
        );
    }
    // Well-formed updates we do not take, or whose content teloxide cannot read: 200, skipped.
    let odd = [
        json!({"update_id": 5002, "poll": {"id": "p"}}),
        json!({"update_id": 5003, "message": {"no": "fields"}}),
        json!({"update_id": 5004, "brand_new_kind": {}}),
    ];
    for u in odd {
        assert_eq!(
            post(&app, Some(SECRET), u.to_string()).await,
            StatusCode::OK,
            "{u}"
        );
    }
    let sticker = json!({"update_id": 5005, "message": update::message(&user, json!({
        "sticker": {"file_id": "S", "file_unique_id": "SU", "type": "regular", "width": 1,
                    "height": 1, "is_animated": false, "is_video": false}}))});
    assert_eq!(
        post(&app, Some(SECRET), sticker.to_string()).await,
        StatusCode::OK
    );
    let sent = fake.wait_for(2).await;
    assert!(
        sent[1].text.contains("no puedo escuchar audios"),
        "{}",
        sent[1].text
    );
    assert_eq!(sent.len(), 2, "{sent:#?}");
    let rejected = |reason| {
        metrics::total(
            "redsol_webhook_rejected_total",
            &[("channel", "telegram"), ("reason", reason)],
        )
    };
    assert!(rejected("missing_secret") >= 1);
    assert!(rejected("bad_secret") >= 2);
    assert!(rejected("malformed") >= 5);
    bot.stop().await;
}

#[tokio::test]
async fn webhook_mode_needs_a_valid_secret() {
    let fake = FakeTelegram::start(TOKEN).await;
    let mut s = settings(&fake);
    s.webhook_url = Some(HOOK.into());
    let store: Arc<dyn Store> = demo_store(&rules());
    let err = match TelegramChannel::prepare(&s, &tuning(&fake.url), store.clone()).await {
        Ok(_) => panic!("webhook mode without a secret must not start"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("TELEGRAM_WEBHOOK_SECRET"), "{err}");
    s.webhook_secret = Some(Secret::new("has spaces!"));
    let err = match TelegramChannel::prepare(&s, &tuning(&fake.url), store).await {
        Ok(_) => panic!("an invalid secret must not start"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("TELEGRAM_WEBHOOK_SECRET"), "{err}");
    assert!(!err.contains("has spaces"), "{err}");
}
