//! The real `redsol run` binary with Telegram and WhatsApp both configured: `auto` runs them
//! side by side, each answering on its own platform, and a SIGTERM stops both cleanly.

use crate::fake::{update, FakeTelegram};
use crate::fake_graph::FakeGraph;
use crate::harness::TOKEN;
use crate::support::{whatsapp_text, Server};
use redsol::whatsapp::signature::sign;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auto_mode_runs_telegram_and_whatsapp_side_by_side() {
    let data = tempfile::tempdir().expect("tempdir");
    let telegram = FakeTelegram::start(TOKEN).await;
    let graph = FakeGraph::start("wa-token", "v23.0", "1098765432").await;
    let server = Server::start(
        &[],
        data.path(),
        &[
            ("TELEGRAM_BOT_TOKEN", TOKEN),
            ("TELEGRAM_API_URL", &telegram.url),
            ("WHATSAPP_PHONE_NUMBER_ID", "1098765432"),
            ("WHATSAPP_ACCESS_TOKEN", "wa-token"),
            ("WHATSAPP_VERIFY_TOKEN", "verify"),
            ("WHATSAPP_APP_SECRET", "secret"),
            ("WHATSAPP_API_URL", &graph.base_url()),
        ],
    );

    // Telegram, by long polling.
    let ana = update::user(4242, "Ana", Some("Ruiz"));
    telegram.push("message", update::text(&ana, "/start"));
    let sent = telegram.wait_for(1).await;
    assert_eq!(sent[0].chat_id, 4242);
    assert!(sent[0].text.contains("Hola, Ana"), "{}", sent[0].text);
    assert!(
        !sent[0].buttons.is_empty(),
        "the menu comes as inline buttons"
    );

    // WhatsApp, by its signed webhook.
    let body = whatsapp_text(
        "1098765432",
        "5214641000009",
        "Luis",
        "wamid.SBS1",
        "cuanto cuesta el de 50?",
    );
    let status = reqwest::Client::new()
        .post(server.url("/webhook"))
        .header("X-Hub-Signature-256", sign(b"secret", body.as_bytes()))
        .body(body)
        .send()
        .await
        .expect("webhook answers")
        .status();
    assert_eq!(status, 200);
    // The reply, and the read receipt of the inbound message.
    let replies = graph.wait_for(2).await;
    let reply = replies
        .iter()
        .find(|m| m.to == "5214641000009")
        .expect("a WhatsApp reply");
    assert!(reply.body.contains("$450"), "{}", reply.body);
    assert_eq!(telegram.sent().len(), 1, "nothing crossed platforms");

    let (ok, log) = server.terminate();
    assert!(ok, "clean exit on SIGTERM: {log:?}");
    assert_eq!(
        telegram.unconfirmed(),
        0,
        "the poller committed its offset on the way out"
    );
}
