//! Handoff to a person through the real binary, WhatsApp and Telegram both running: the card
//! in the staff group, two taps at once with one winner, a non-staff tap refused, three
//! messages each way in order with the bot silent, a staff photo relayed as a WhatsApp image,
//! a restart while held, `/soltar`.

use crate::fake::{update, FakeTelegram, Sent};
use crate::fake_graph::{FakeGraph, Recorded};
use crate::harness::TOKEN;
use crate::support::{whatsapp_text, Server};
use redsol::whatsapp::signature::sign;
use std::path::Path;

const GROUP: i64 = -100_777;
const ANA: i64 = 4242;
const BETO: i64 = 4343;
const CUSTOMER: &str = "5214641000077";

fn start(data: &Path, telegram: &FakeTelegram, graph: &FakeGraph) -> Server {
    // People answer at any hour in this test: the result must not depend on when it runs.
    // The customer writes faster than a person would: the inbound limit is lifted.
    let config = data.join("redsol.toml");
    std::fs::write(
        &config,
        "[handoff]\nopen = \"00:00\"\nclose = \"24:00\"\n\
         days = [\"lun\", \"mar\", \"mie\", \"jue\", \"vie\", \"sab\", \"dom\"]\n\
         [rules.limits]\ninbound_burst = 100\n",
    )
    .expect("config");
    let config = config.to_str().expect("utf-8 path").to_string();
    let graph_url = graph.base_url();
    let staff = format!("{ANA},{BETO}");
    let group = GROUP.to_string();
    Server::start(
        &[],
        data,
        &[
            ("REDSOL_CONFIG", config.as_str()),
            ("TELEGRAM_BOT_TOKEN", TOKEN),
            ("TELEGRAM_API_URL", &telegram.url),
            ("WHATSAPP_PHONE_NUMBER_ID", "1098765432"),
            ("WHATSAPP_ACCESS_TOKEN", "wa-token"),
            ("WHATSAPP_VERIFY_TOKEN", "verify"),
            ("WHATSAPP_APP_SECRET", "secret"),
            ("WHATSAPP_API_URL", &graph_url),
            ("REDSOL_ADMIN_TELEGRAM_IDS", &staff),
            ("REDSOL_STAFF_CHAT_ID", &group),
        ],
    )
}

/// The customer writes on WhatsApp (a signed webhook).
async fn customer_says(server: &Server, id: &str, text: &str) {
    let body = whatsapp_text("1098765432", CUSTOMER, "Lupita", id, text);
    let status = reqwest::Client::new()
        .post(server.url("/webhook"))
        .header("X-Hub-Signature-256", sign(b"secret", body.as_bytes()))
        .body(body)
        .send()
        .await
        .expect("webhook answers")
        .status();
    assert_eq!(status, 200);
}

fn to_customer(sent: &[Recorded]) -> Vec<String> {
    sent.iter()
        .filter(|m| m.to == CUSTOMER)
        .map(|m| m.body.clone())
        .collect()
}

fn to_chat(sent: &[Sent], chat: i64) -> Vec<String> {
    sent.iter()
        .filter(|m| m.chat_id == chat)
        .map(|m| m.text.clone())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_member_takes_a_whatsapp_customer_and_gives_them_back() {
    let data = tempfile::tempdir().expect("tempdir");
    let telegram = FakeTelegram::start(TOKEN).await;
    let graph = FakeGraph::start("wa-token", "v23.0", "1098765432").await;
    let server = start(data.path(), &telegram, &graph);
    let ana = update::user(ANA, "Ana", None);
    let beto = update::user(BETO, "Beto", None);
    let stranger = update::user(5151, "Intruso", None);

    customer_says(&server, "wamid.H1", "quiero hablar con una persona").await;
    let sent = graph
        .wait_sent("the wait told", |s| {
            to_customer(s).iter().any(|b| b.contains("minutos"))
        })
        .await;
    assert_eq!(to_customer(&sent).len(), 1, "{sent:?}");
    telegram
        .wait_until("the card", |f| !to_chat(&f.sent(), GROUP).is_empty())
        .await;
    let card = telegram
        .sent()
        .into_iter()
        .find(|m| m.chat_id == GROUP)
        .expect("card");
    assert!(
        card.text.contains("Lupita") && card.text.contains("WhatsApp"),
        "{}",
        card.text
    );
    assert!(
        !card.text.contains(CUSTOMER),
        "no phone in the group: {}",
        card.text
    );
    let take = card
        .buttons
        .iter()
        .find(|b| b.starts_with("take:"))
        .expect("an Atender button")
        .clone();

    // Someone who is not staff taps it: refused, nothing changes hands.
    telegram.push(
        "callback_query",
        update::group_callback(&stranger, GROUP, card.message_id, "q0", &take),
    );
    // Ana and Beto tap together: exactly one holds it.
    telegram.push(
        "callback_query",
        update::group_callback(&ana, GROUP, card.message_id, "q1", &take),
    );
    telegram.push(
        "callback_query",
        update::group_callback(&beto, GROUP, card.message_id, "q2", &take),
    );
    telegram
        .wait_until("both taps answered", |f| {
            let group = to_chat(&f.sent(), GROUP);
            group.iter().any(|t| t.contains("Atendido por"))
                && group.iter().any(|t| t.contains("Ya lo atiende"))
                && group.iter().any(|t| t.contains("solo para el personal"))
        })
        .await;
    // Nor can someone who is not staff read a customer's record or close a ticket.
    telegram.push("message", update::text(&stranger, "/cliente"));
    telegram.push(
        "message",
        update::text(&stranger, "/cerrar INC-000001 listo"),
    );
    telegram
        .wait_until("both refused", |f| {
            to_chat(&f.sent(), 5151)
                .iter()
                .filter(|t| t.contains("solo para el personal"))
                .count()
                == 2
        })
        .await;
    // The card itself says who took it, once, and its button is gone.
    let card = telegram
        .sent()
        .into_iter()
        .find(|m| m.message_id == card.message_id)
        .expect("the card");
    assert_eq!(card.edits, 1, "edited once: {card:?}");
    assert!(card.buttons.is_empty(), "{card:?}");
    let group = to_chat(&telegram.sent(), GROUP);
    assert!(
        !group.iter().any(|t| t.contains(": lo atiende")),
        "no second message: {group:?}"
    );
    let (owner, other) = if card.text.contains("Atendido por Ana") {
        (ANA, BETO)
    } else {
        (BETO, ANA)
    };
    let owner_user = if owner == ANA { &ana } else { &beto };
    telegram
        .wait_until("the details in private", |f| {
            to_chat(&f.sent(), owner)
                .iter()
                .any(|t| t.contains(CUSTOMER))
        })
        .await;
    assert!(
        to_chat(&telegram.sent(), other).is_empty(),
        "nothing to the loser"
    );
    graph
        .wait_sent("the greeting from a person", |s| {
            to_customer(s).iter().any(|b| b.contains("te atiende"))
        })
        .await;

    // Three messages each way, in order; the bot says nothing of its own.
    let before_bot = to_customer(&graph.sent()).len();
    for n in 1..=3 {
        customer_says(
            &server,
            &format!("wamid.R{n}"),
            &format!("mensaje {n} del cliente"),
        )
        .await;
        telegram
            .wait_until("the relay", |f| {
                to_chat(&f.sent(), owner)
                    .iter()
                    .any(|t| t.ends_with(&format!("mensaje {n} del cliente")))
            })
            .await;
        telegram.push(
            "message",
            update::text(owner_user, &format!("respuesta {n} del equipo")),
        );
        graph
            .wait_sent("the answer", |s| {
                to_customer(s).contains(&format!("respuesta {n} del equipo"))
            })
            .await;
    }
    let customer_got = to_customer(&graph.sent());
    assert_eq!(
        customer_got[before_bot..],
        [
            "respuesta 1 del equipo",
            "respuesta 2 del equipo",
            "respuesta 3 del equipo"
        ],
        "in order, and nothing from the bot"
    );
    let relayed: Vec<String> = to_chat(&telegram.sent(), owner)
        .into_iter()
        .filter(|t| t.contains("del cliente"))
        .collect();
    assert_eq!(relayed.len(), 3, "{relayed:?}");

    // A photo from the staff member reaches the customer as a WhatsApp image: the file is
    // fetched from Telegram, uploaded to Graph and sent by its media id, with the caption.
    let jpeg: Vec<u8> = [0xFF, 0xD8, 0xFF, 0xE0]
        .into_iter()
        .chain((0..2048u32).map(|n| (n % 251) as u8))
        .collect();
    telegram.add_file("AgAD-staff-photo", &jpeg);
    telegram.push(
        "message",
        update::message(
            owner_user,
            serde_json::json!({"photo": [
                {"file_id": "AgAD-thumb", "file_unique_id": "t", "width": 90, "height": 90},
                {"file_id": "AgAD-staff-photo", "file_unique_id": "p", "width": 800, "height": 600}
            ], "caption": "así debe verse tu módem"}),
        ),
    );
    let sent = graph
        .wait_sent("the photo", |s| {
            s.iter().any(|m| m.to == CUSTOMER && m.kind == "image")
        })
        .await;
    let image = sent
        .iter()
        .find(|m| m.to == CUSTOMER && m.kind == "image")
        .expect("the image");
    assert_eq!(image.body, "así debe verse tu módem");
    let upload = graph
        .uploads()
        .into_iter()
        .find(|u| Some(&u.id) == image.ids.first())
        .expect("sent by the id of an upload");
    assert_eq!(upload.bytes, jpeg, "the largest size, byte for byte");
    assert_eq!(upload.mime, "image/jpeg");

    // A restart while held: still held, nothing lost or doubled.
    let (ok, _) = server.terminate();
    assert!(ok);
    let server = start(data.path(), &telegram, &graph);
    customer_says(&server, "wamid.R4", "sigo aqui despues del reinicio").await;
    telegram
        .wait_until("the relay after the restart", |f| {
            to_chat(&f.sent(), owner)
                .iter()
                .any(|t| t.ends_with("sigo aqui despues del reinicio"))
        })
        .await;
    let relayed: Vec<String> = to_chat(&telegram.sent(), owner)
        .into_iter()
        .filter(|t| t.contains("del cliente") || t.contains("reinicio"))
        .collect();
    assert_eq!(relayed.len(), 4, "none doubled: {relayed:?}");

    // /soltar: the customer is told, and the bot answers again.
    telegram.push("message", update::text(owner_user, "/soltar"));
    graph
        .wait_sent("the customer told", |s| {
            to_customer(s).iter().any(|b| b.contains("asistente"))
        })
        .await;
    customer_says(&server, "wamid.B1", "cuanto cuesta el de 50?").await;
    graph
        .wait_sent("the bot's answer", |s| {
            to_customer(s).iter().any(|b| b.contains("$450"))
        })
        .await;
    let (ok, _) = server.terminate();
    assert!(ok);
}
