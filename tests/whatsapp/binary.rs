//! The real binary in WhatsApp mode against the fake Graph API, with the admin API on: what
//! the end-to-end tests of this folder start.

use crate::fake_graph::FakeGraph;
use crate::support::Server;
use redsol::whatsapp::signature::sign;
use std::path::Path;

/// A test's WhatsApp app: its number, token, app secret, and the admin token.
pub struct App {
    pub phone_id: &'static str,
    pub token: &'static str,
    pub secret: &'static str,
    pub admin: &'static str,
}

/// Starts `redsol run --mode whatsapp` in `data` with `config` (TOML) as its config file.
pub fn start(data: &Path, graph: &FakeGraph, app: &App, config: &str) -> Server {
    start_with(data, graph, app, config, &[])
}

/// [`start`] with more environment (another store, say).
pub fn start_with(
    data: &Path,
    graph: &FakeGraph,
    app: &App,
    config: &str,
    more: &[(&str, &str)],
) -> Server {
    let file = data.join("redsol.toml");
    std::fs::write(&file, config).expect("config");
    let file = file.to_str().expect("utf-8").to_string();
    let graph_url = graph.base_url();
    let mut env = vec![
        ("REDSOL_CONFIG", file.as_str()),
        ("WHATSAPP_PHONE_NUMBER_ID", app.phone_id),
        ("WHATSAPP_ACCESS_TOKEN", app.token),
        ("WHATSAPP_VERIFY_TOKEN", "verify"),
        ("WHATSAPP_APP_SECRET", app.secret),
        ("WHATSAPP_API_URL", &graph_url),
        ("REDSOL_ADMIN_TOKEN", app.admin),
    ];
    env.extend_from_slice(more);
    Server::start(&["--mode", "whatsapp"], data, &env)
}

/// Posts a delivery to the webhook, signed with the app's secret, as Meta does; it must be
/// acknowledged (200).
pub async fn deliver(http: &reqwest::Client, server: &Server, app: &App, body: String) {
    let status = http
        .post(server.url("/webhook"))
        .header(
            "X-Hub-Signature-256",
            sign(app.secret.as_bytes(), body.as_bytes()),
        )
        .body(body)
        .send()
        .await
        .expect("webhook")
        .status();
    assert_eq!(status, 200);
}
