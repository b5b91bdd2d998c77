//! The WhatsApp channel end to end: the real `redsol run --mode whatsapp` binary, Meta's signed
//! deliveries posted to its webhook, and its replies arriving at a fake Graph API.

use crate::fake_graph::{FakeGraph, Recorded};
use crate::support::{http_get, metric, Server};
use redsol::whatsapp::signature::sign;
use serde_json::{json, Value};
use std::path::Path;

const SECRET: &str = "test-app-secret";
const TOKEN: &str = "test-access-token";
const VERIFY: &str = "test-verify-token";
const PHONE_ID: &str = "1098765432";
const VERSION: &str = "v23.0";

/// Waiting on what reached one recipient, through the fake's own notifications.
trait PerRecipient {
    fn sent_to(&self, to: &str) -> Vec<Recorded>;
    async fn wait_for_to(&self, to: &str, n: usize);
    async fn wait_for_kind(&self, kind: &str, n: usize);
}

impl PerRecipient for FakeGraph {
    fn sent_to(&self, to: &str) -> Vec<Recorded> {
        self.sent()
            .into_iter()
            .filter(|m| m.to == to && m.kind != "read")
            .collect()
    }

    async fn wait_for_to(&self, to: &str, n: usize) {
        let deadline = tokio::time::Instant::now() + crate::fake_graph::WAIT;
        while self.sent_to(to).len() < n {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            assert!(
                !left.is_zero(),
                "{to} never got {n} messages: {:?}",
                self.sent_to(to)
            );
            // Wakes on the next message accepted by the fake, whoever it is for.
            self.wait_for_within(self.sent().len() + 1, left).await;
        }
    }

    async fn wait_for_kind(&self, kind: &str, n: usize) {
        let deadline = tokio::time::Instant::now() + crate::fake_graph::WAIT;
        while self.sent().iter().filter(|m| m.kind == kind).count() < n {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            assert!(!left.is_zero(), "never {n} messages of kind {kind}");
            self.wait_for_within(self.sent().len() + 1, left).await;
        }
    }
}

struct Bot {
    graph: FakeGraph,
    server: Server,
    http: reqwest::Client,
}

async fn start(data: &Path) -> Bot {
    let graph = FakeGraph::start(TOKEN, VERSION, PHONE_ID).await;
    let server = start_server(data, &graph);
    Bot {
        graph,
        server,
        http: reqwest::Client::new(),
    }
}

fn start_server(data: &Path, graph: &FakeGraph) -> Server {
    Server::start(
        &["--mode", "whatsapp"],
        data,
        &[
            ("WHATSAPP_PHONE_NUMBER_ID", PHONE_ID),
            ("WHATSAPP_ACCESS_TOKEN", TOKEN),
            ("WHATSAPP_VERIFY_TOKEN", VERIFY),
            ("WHATSAPP_APP_SECRET", SECRET),
            ("WHATSAPP_API_URL", &graph.base_url()),
        ],
    )
}

/// Meta's JSON: ASCII only, non-ASCII escaped as \uXXXX.
fn meta_json(v: &Value) -> String {
    let mut out = String::new();
    for c in v.to_string().chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            let mut buf = [0u16; 2];
            for unit in c.encode_utf16(&mut buf) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out
}

fn text(from: &str, id: &str, body: &str) -> Value {
    json!({"from": from, "id": id, "timestamp": "1764000000", "type": "text", "text": {"body": body}})
}

fn tap(from: &str, id: &str, kind: &str, choice: &str) -> Value {
    json!({"from": from, "id": id, "timestamp": "1764000000", "type": "interactive",
           "interactive": {"type": kind, kind: {"id": choice, "title": "x"}}})
}

/// One delivery: contacts (wa_id, name) and messages.
fn delivery(contacts: &[(&str, &str)], messages: Vec<Value>) -> String {
    let contacts: Vec<Value> = contacts
        .iter()
        .map(|(wa, name)| json!({"profile": {"name": name}, "wa_id": wa}))
        .collect();
    meta_json(&json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "524640000000", "phone_number_id": PHONE_ID},
            "contacts": contacts,
            "messages": messages
        }}]}]
    }))
}

impl Bot {
    async fn post(&self, body: &str, signature: Option<String>) -> u16 {
        let mut req = self
            .http
            .post(self.server.url("/webhook"))
            .body(body.to_string());
        if let Some(sig) = signature {
            req = req.header("X-Hub-Signature-256", sig);
        }
        req.send().await.expect("webhook answers").status().as_u16()
    }

    async fn deliver(&self, body: &str) -> u16 {
        self.post(body, Some(sign(SECRET.as_bytes(), body.as_bytes())))
            .await
    }

    /// Texts (or interactive bodies) sent to `to`, in order.
    fn texts_to(&self, to: &str) -> Vec<String> {
        self.graph.sent_to(to).into_iter().map(|m| m.body).collect()
    }

    fn metrics(&self) -> String {
        http_get(&self.server.addr, "/metrics")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_verification_answers_the_challenge_only_with_the_token() {
    let data = tempfile::tempdir().expect("tempdir");
    let bot = start(data.path()).await;
    let ok = http_get(
        &bot.server.addr,
        &format!("/webhook?hub.mode=subscribe&hub.verify_token={VERIFY}&hub.challenge=1158201444"),
    );
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert!(ok.ends_with("1158201444"), "{ok}");
    let bad = http_get(
        &bot.server.addr,
        "/webhook?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=1",
    );
    assert!(bad.starts_with("HTTP/1.1 403"), "{bad}");
    let no_mode = http_get(
        &bot.server.addr,
        &format!("/webhook?hub.verify_token={VERIFY}&hub.challenge=1"),
    );
    assert!(no_mode.starts_with("HTTP/1.1 403"), "{no_mode}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_deliveries_signed_over_the_raw_bytes_are_accepted() {
    let data = tempfile::tempdir().expect("tempdir");
    let bot = start(data.path()).await;
    let user = "5214641000001";
    let body = delivery(
        &[(user, "Ñoño Peña")],
        vec![text(user, "wamid.S1", "mañana ¿llegan a Salamanca?")],
    );
    assert!(
        body.contains("\\u00f1"),
        "non-ASCII is escaped as Meta does: {body}"
    );
    assert_eq!(bot.post(&body, None).await, 401, "missing signature");
    assert_eq!(
        bot.post(&body, Some(sign(b"another-secret", body.as_bytes())))
            .await,
        401,
        "wrong secret"
    );
    let mut altered = body.clone().into_bytes();
    let i = altered.iter().position(|b| *b == b'S').expect("an S");
    altered[i] = b's';
    let altered = String::from_utf8(altered).expect("utf-8");
    assert_eq!(
        bot.post(&altered, Some(sign(SECRET.as_bytes(), body.as_bytes())))
            .await,
        401,
        "one byte altered"
    );
    assert_eq!(bot.post(&body, Some("sha256=nothex".into())).await, 401);
    assert!(
        bot.graph.sent().iter().all(|m| m.to != user),
        "nothing rejected was answered"
    );

    assert_eq!(bot.deliver(&body).await, 200);
    bot.graph.wait_for_to(user, 1).await;
    assert!(
        bot.texts_to(user)[0].contains("Salamanca"),
        "{:?}",
        bot.texts_to(user)
    );
    let m = bot.metrics();
    assert_eq!(
        metric(
            &m,
            "redsol_webhook_rejected_total{channel=\"whatsapp\",reason=\"missing_signature\"}"
        ),
        1.0
    );
    assert_eq!(
        metric(
            &m,
            "redsol_webhook_rejected_total{channel=\"whatsapp\",reason=\"bad_signature\"}"
        ),
        2.0
    );
    assert_eq!(
        metric(
            &m,
            "redsol_webhook_rejected_total{channel=\"whatsapp\",reason=\"malformed_signature\"}"
        ),
        1.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_message_of_a_delivery_is_answered_to_its_sender() {
    let data = tempfile::tempdir().expect("tempdir");
    let bot = start(data.path()).await;
    let (ana, luis) = ("5214641000002", "5214642000003");
    let body = delivery(
        &[(ana, "Ana Ruiz"), (luis, "Luis Pérez")],
        vec![
            text(ana, "wamid.M1", "hola"),
            text(luis, "wamid.M2", "quiero contratar"),
            text(ana, "wamid.M3", "cuanto cuesta el de 50?"),
        ],
    );
    assert_eq!(bot.deliver(&body).await, 200);
    bot.graph.wait_for_to(ana, 2).await;
    bot.graph.wait_for_to(luis, 1).await;
    let to_ana = bot.texts_to(ana);
    assert!(to_ana[0].contains("Hola, Ana"), "{to_ana:?}");
    assert!(to_ana[1].contains("$450"), "{to_ana:?}");
    let to_luis = bot.texts_to(luis);
    assert!(
        to_luis[0].contains("Gracias, Luis") && to_luis[0].contains("zona"),
        "name from the profile: {to_luis:?}"
    );
    // Luis's dialogue state is his own.
    assert_eq!(
        bot.deliver(&delivery(
            &[(luis, "Luis Pérez")],
            vec![text(luis, "wamid.M4", "en la norte")]
        ))
        .await,
        200
    );
    bot.graph.wait_for_to(luis, 2).await;
    assert!(
        bot.texts_to(luis)[1].contains("plan"),
        "{:?}",
        bot.texts_to(luis)
    );
    bot.graph.wait_for_kind("read", 4).await;
    let read = bot.graph.sent().iter().filter(|m| m.kind == "read").count();
    assert_eq!(read, 4, "each inbound message marked as read once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivery_is_answered_once_even_after_a_restart() {
    let data = tempfile::tempdir().expect("tempdir");
    let bot = start(data.path()).await;
    let user = "5214641000004";
    let first = delivery(
        &[(user, "Rosa")],
        vec![text(user, "wamid.D1", "cuanto cuesta el premium?")],
    );
    assert_eq!(bot.deliver(&first).await, 200);
    bot.graph.wait_for_to(user, 1).await;
    assert_eq!(
        bot.deliver(&first).await,
        200,
        "a redelivery is acknowledged"
    );
    // A barrier: the user's next message is answered after anything the redelivery caused.
    assert_eq!(
        bot.deliver(&delivery(
            &[(user, "Rosa")],
            vec![text(user, "wamid.D2", "gracias")]
        ))
        .await,
        200
    );
    bot.graph.wait_for_to(user, 2).await;
    assert_eq!(bot.texts_to(user).len(), 2, "{:?}", bot.texts_to(user));
    assert_eq!(
        metric(
            &bot.metrics(),
            "redsol_duplicates_total{channel=\"whatsapp\"}"
        ),
        1.0
    );

    let Bot {
        graph,
        server,
        http,
    } = bot;
    let (ok, _) = server.terminate();
    assert!(ok);
    let bot = Bot {
        server: start_server(data.path(), &graph),
        graph,
        http,
    };
    assert_eq!(bot.deliver(&first).await, 200);
    assert_eq!(
        bot.deliver(&delivery(
            &[(user, "Rosa")],
            vec![text(user, "wamid.D3", "hola")]
        ))
        .await,
        200
    );
    bot.graph.wait_for_to(user, 3).await;
    let texts = bot.texts_to(user);
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert!(texts[2].contains("Hola"), "{texts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_by_buttons_and_an_incident_report() {
    let data = tempfile::tempdir().expect("tempdir");
    let bot = start(data.path()).await;
    let user = "5214643000005";
    let who = [(user, "Ana Ruiz")];
    assert_eq!(
        bot.deliver(&delivery(
            &who,
            vec![text(user, "wamid.R1", "quiero contratar")]
        ))
        .await,
        200
    );
    bot.graph.wait_for_to(user, 1).await;
    let zone_question = bot.graph.sent_to(user)[0].clone();
    assert_eq!(
        zone_question.kind, "list",
        "11 zones come as a list: {zone_question:?}"
    );
    assert!(
        zone_question.ids.iter().any(|c| c == "zone:Norte"),
        "{zone_question:?}"
    );
    assert_eq!(
        bot.deliver(&delivery(
            &who,
            vec![tap(user, "wamid.R2", "list_reply", "zone:Norte")]
        ))
        .await,
        200
    );
    bot.graph.wait_for_to(user, 2).await;
    let plan_question = bot.graph.sent_to(user)[1].clone();
    assert_eq!(
        plan_question.kind, "button",
        "3 plans come as reply buttons: {plan_question:?}"
    );
    assert!(
        plan_question.ids.iter().any(|c| c == "plan:100"),
        "{plan_question:?}"
    );
    assert_eq!(
        bot.deliver(&delivery(
            &who,
            vec![tap(user, "wamid.R3", "button_reply", "plan:100")]
        ))
        .await,
        200
    );
    bot.graph.wait_for_to(user, 3).await;
    assert!(
        bot.texts_to(user)[2].contains("¿Confirmo"),
        "{:?}",
        bot.texts_to(user)
    );
    assert_eq!(
        bot.deliver(&delivery(
            &who,
            vec![tap(user, "wamid.R3b", "button_reply", "yes")]
        ))
        .await,
        200
    );
    bot.graph.wait_for_to(user, 4).await;
    let done = &bot.texts_to(user)[3];
    assert!(
        done.contains("Registro exitoso") && done.contains("Ana Ruiz") && done.contains("$600/mes"),
        "{done}"
    );

    // A neighbour reports a fault (one customer's burst is five messages).
    let other = "5214643000006";
    let neighbour = [(other, "Luis Gil")];
    assert_eq!(
        bot.deliver(&delivery(
            &neighbour,
            vec![text(other, "wamid.R4", "no tengo internet desde ayer")]
        ))
        .await,
        200
    );
    bot.graph.wait_for_to(other, 1).await;
    assert!(
        bot.texts_to(other)[0].contains("módem"),
        "{:?}",
        bot.texts_to(other)
    );
    assert_eq!(
        bot.deliver(&delivery(
            &neighbour,
            vec![tap(other, "wamid.R5", "button_reply", "modem:yes")]
        ))
        .await,
        200
    );
    bot.graph.wait_for_to(other, 2).await;
    assert!(
        bot.texts_to(other)[1].contains("¿Lo confirmo"),
        "{:?}",
        bot.texts_to(other)
    );
    assert!(
        bot.texts_to(other)[1].contains("Alta"),
        "{:?}",
        bot.texts_to(other)
    );
    assert_eq!(
        bot.deliver(&delivery(
            &neighbour,
            vec![tap(other, "wamid.R6", "button_reply", "yes")]
        ))
        .await,
        200
    );
    bot.graph.wait_for_to(other, 3).await;
    let ticket = &bot.texts_to(other)[2];
    assert!(
        ticket.contains("INC-000001") && ticket.contains("Alta"),
        "{ticket}"
    );
    let m = bot.metrics();
    assert_eq!(
        metric(&m, "redsol_registrations_total{channel=\"whatsapp\"}"),
        1.0
    );
    assert_eq!(
        metric(
            &m,
            "redsol_incidents_total{channel=\"whatsapp\",priority=\"Alta\"}"
        ),
        1.0
    );
    // Observed once Graph accepted the reply, just after the fake recorded it: a bounded poll.
    let series = "redsol_response_seconds_count{channel=\"whatsapp\"}";
    let mut seen = 0.0;
    for _ in 0..200 {
        seen = metric(&bot.metrics(), series);
        if seen >= 7.0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(seen, 7.0, "{series}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_deliveries_get_the_right_status_and_never_a_crash() {
    let data = tempfile::tempdir().expect("tempdir");
    let bot = start(data.path()).await;
    let user = "5214644000006";
    let who = [(user, "Beto")];
    let image = json!({"from": user, "id": "wamid.O1", "type": "image", "image": {"id": "123", "mime_type": "image/jpeg"}});
    let unknown = json!({"from": user, "id": "wamid.O2", "type": "some_new_kind"});
    assert_eq!(
        bot.deliver(&delivery(&who, vec![image, unknown])).await,
        200
    );
    bot.graph.wait_for_to(user, 2).await;
    for t in bot.texts_to(user) {
        assert!(t.contains("no puedo escuchar audios"), "{t}");
    }
    let statuses = meta_json(
        &json!({"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {
        "metadata": {"display_phone_number": "524640000000", "phone_number_id": PHONE_ID},
        "statuses": [
            {"id": "wamid.X1", "status": "delivered", "recipient_id": user},
            {"id": "wamid.X2", "status": "failed", "recipient_id": user, "errors": [{"code": 131026, "title": "Message undeliverable"}]}
        ]}}]}]}),
    );
    let active_before = metric(
        &bot.metrics(),
        "redsol_conversations_active{channel=\"whatsapp\"}",
    );
    assert_eq!(bot.deliver(&statuses).await, 200);
    let m = bot.metrics();
    assert_eq!(
        metric(&m, "redsol_whatsapp_statuses_total{status=\"failed\"}"),
        1.0
    );
    assert_eq!(
        metric(&m, "redsol_conversations_active{channel=\"whatsapp\"}"),
        active_before,
        "statuses start no conversation"
    );

    let truncated = &delivery(&who, vec![text(user, "wamid.O3", "hola")])[..40];
    assert_eq!(bot.deliver(truncated).await, 400);
    assert_eq!(bot.deliver("{\"object\":\"page\",\"entry\":[]}").await, 400);
    // 4 MB: refused from its Content-Length, before the body is read.
    assert!(post_headers_only(&bot.server.addr, 4 * 1024 * 1024).starts_with("HTTP/1.1 413"));
    let m = bot.metrics();
    assert_eq!(
        metric(
            &m,
            "redsol_webhook_rejected_total{channel=\"whatsapp\",reason=\"malformed\"}"
        ),
        1.0
    );
    assert_eq!(
        metric(
            &m,
            "redsol_webhook_rejected_total{channel=\"whatsapp\",reason=\"too_large\"}"
        ),
        1.0
    );
    // Still alive and answering.
    assert_eq!(
        bot.deliver(&delivery(&who, vec![text(user, "wamid.O4", "hola")]))
            .await,
        200
    );
    bot.graph.wait_for_to(user, 3).await;
    assert!(bot.texts_to(user)[2].contains("Hola"));
}

/// Sends a POST's headers announcing `length` bytes and a first chunk of the body, and returns
/// the status line the server answers with.
fn post_headers_only(addr: &str, length: usize) -> String {
    use std::io::{BufRead, BufReader, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("timeout");
    let chunk = "{\"object\":\"whatsapp_business_account\",\"pad\":\"aaaa";
    write!(
        s,
        "POST /webhook HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nX-Hub-Signature-256: sha256=00\r\nContent-Length: {length}\r\n\r\n{chunk}"
    )
    .expect("send");
    let mut line = String::new();
    BufReader::new(s).read_line(&mut line).expect("status line");
    line
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_check_asks_graph_whose_token_it_is_without_sending() {
    let graph = FakeGraph::start(TOKEN, VERSION, PHONE_ID).await;
    let data = tempfile::tempdir().expect("tempdir");
    let status = |token: &'static str| {
        let mut cmd = crate::support::redsol();
        cmd.args(["status", "--check"])
            .env("REDSOL_DATA_DIR", data.path())
            .env("WHATSAPP_PHONE_NUMBER_ID", PHONE_ID)
            .env("WHATSAPP_ACCESS_TOKEN", token)
            .env("WHATSAPP_API_URL", graph.base_url());
        let out = crate::support::run_piped(cmd, "");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let ok = tokio::task::block_in_place(|| status(TOKEN));
    assert!(
        ok.contains("check whatsapp: ok, the token works for +52 442 555 0100 (Red Soluciones)"),
        "{ok}"
    );
    let bad = tokio::task::block_in_place(|| status("EAAG-revoked-token"));
    assert!(bad.contains("check whatsapp: FAILED"), "{bad}");
    assert!(
        !bad.contains("EAAG-revoked-token"),
        "the token is never printed: {bad}"
    );
    assert!(graph.sent().is_empty(), "a check sends nothing");
}
