//! The observability pack in `grafana/`, checked against the real binary: the dashboard's
//! shape, then promtool (config, rules and the rules' unit tests in `alerts_test.yml`) and a
//! real Prometheus scraping a real `redsol run`, with every dashboard query and every alert
//! rule evaluated through Prometheus' HTTP API.
//!
//! The second test needs `prometheus` and `promtool` on PATH (`apt-get install prometheus`).
//! Without them it fails and says how to install them, unless `REDSOL_SKIP_PROMETHEUS=1`.

#[path = "../gemini/fake.rs"]
#[allow(dead_code)]
mod fake_gemini;
#[path = "../support/mod.rs"]
mod support;

use serde_json::Value;
use std::collections::{BTreeSet, HashSet};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::Server;

/// The row titles, in order.
const ROWS: &[&str] = &[
    "Customers",
    "Latency",
    "Health",
    "Atención humana",
    "Fallas por zona",
    "Cobranza",
];

/// Metrics a console `redsol run` on the embedded store never records: WhatsApp webhook
/// traffic, the senders' outbox sweeps, the Google Sheets backend, and handoffs (they need a
/// staff member on Telegram). They are not in its `/metrics`, so for these names
/// the check falls back to the source: a `counter!`/`gauge!`/`histogram!` call in `src/` or
/// `actors/src/` must record them. If one of them does show up in `/metrics`, it is checked
/// there like any other.
const NOT_RECORDED_BY_A_CONSOLE_RUN: &[&str] = &[
    "redsol_webhook_rejected_total",
    "redsol_duplicates_total",
    "redsol_whatsapp_statuses_total",
    "redsol_sheets_stale",
    "redsol_outbox_oldest_seconds",
    "redsol_resent_after_restart_total",
    "redsol_handoffs_total",
    "redsol_handoffs_active",
    "redsol_handoff_wait_seconds",
    "redsol_csat",
    "redsol_incidents_linked_total",
    "redsol_read_receipts_total",
    "redsol_replies_coalesced_total",
    "redsol_replies_spilled_total",
    "redsol_outage_notices_total",
    "redsol_billing_queries_total",
    "redsol_payment_reports_total",
    "redsol_reminders_total",
    "redsol_shared_rate_claims_total",
];

/// How long any single wait may last.
const WAIT: Duration = Duration::from_secs(60);

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo(path)).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

fn dashboard() -> Value {
    serde_json::from_str(&read("grafana/dashboards/redsol.json"))
        .expect("grafana/dashboards/redsol.json is valid JSON")
}

/// Every panel, rows included, and the panels nested in (collapsed) rows.
fn all_panels(dashboard: &Value) -> Vec<&Value> {
    fn walk<'a>(panels: &'a Value, out: &mut Vec<&'a Value>) {
        for p in panels.as_array().into_iter().flatten() {
            out.push(p);
            if let Some(nested) = p.get("panels") {
                walk(nested, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(&dashboard["panels"], &mut out);
    out
}

fn is_row(panel: &Value) -> bool {
    panel["type"] == "row"
}

/// (panel title, refId, expr) of every query of the dashboard.
fn dashboard_queries(dashboard: &Value) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    for p in all_panels(dashboard).into_iter().filter(|p| !is_row(p)) {
        for t in p["targets"].as_array().into_iter().flatten() {
            out.push((
                p["title"].as_str().unwrap_or("?").to_string(),
                t["refId"].as_str().unwrap_or("?").to_string(),
                t["expr"].as_str().unwrap_or_default().to_string(),
            ));
        }
    }
    out
}

fn variable<'a>(dashboard: &'a Value, name: &str) -> &'a Value {
    dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("the dashboard has no ${name} variable"))
}

/// The query of a templating variable: a string, or an object with a `query` field.
fn variable_query(var: &Value) -> String {
    var["query"]
        .as_str()
        .or_else(|| var["query"]["query"].as_str())
        .unwrap_or_default()
        .to_string()
}

#[test]
fn every_dashboard_panel_has_a_datasource_a_title_a_unit_and_queries() {
    let d = dashboard();
    let mut problems = Vec::new();

    assert_eq!(d["uid"], "redsol", "dashboard uid");
    let schema = d["schemaVersion"].as_u64().unwrap_or(0);
    assert!(schema >= 39, "schemaVersion {schema} < 39");

    let ds = variable(&d, "datasource");
    assert_eq!(
        ds["type"], "datasource",
        "$datasource is a data source variable"
    );
    assert_eq!(
        ds["query"], "prometheus",
        "$datasource picks Prometheus data sources"
    );
    let channel = variable(&d, "channel");
    assert_eq!(
        variable_query(channel),
        "label_values(redsol_messages_received_total, channel)",
        "$channel query"
    );
    assert_eq!(
        channel["datasource"]["uid"], "${datasource}",
        "$channel data source"
    );

    let panels = all_panels(&d);
    let rows: Vec<&str> = panels
        .iter()
        .filter(|p| is_row(p))
        .map(|p| p["title"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(rows, ROWS, "the dashboard's rows");

    let mut ids = HashSet::new();
    for p in &panels {
        let title = p["title"].as_str().unwrap_or_default();
        let id = p["id"].as_u64();
        let name = format!("panel {id:?} {title:?}");
        match id {
            Some(id) if ids.insert(id) => {}
            _ => problems.push(format!("{name}: missing or duplicate id")),
        }
        if title.trim().is_empty() {
            problems.push(format!("{name}: no title"));
        }
        if p.get("gridPos").is_none() {
            problems.push(format!("{name}: no gridPos"));
        }
        if is_row(p) {
            continue;
        }
        if p["datasource"]["uid"] != "${datasource}" || p["datasource"]["type"] != "prometheus" {
            problems.push(format!(
                "{name}: datasource is {}, not the ${{datasource}} Prometheus variable",
                p["datasource"]
            ));
        }
        match p["fieldConfig"]["defaults"]["unit"].as_str() {
            Some(u) if !u.trim().is_empty() => {}
            _ => problems.push(format!("{name}: no fieldConfig.defaults.unit")),
        }
        let targets = p["targets"].as_array().cloned().unwrap_or_default();
        if targets.is_empty() {
            problems.push(format!("{name}: no targets"));
        }
        let mut ref_ids = HashSet::new();
        for t in &targets {
            let ref_id = t["refId"].as_str().unwrap_or_default();
            if ref_id.is_empty() || !ref_ids.insert(ref_id.to_string()) {
                problems.push(format!(
                    "{name}: a target with a missing or duplicate refId"
                ));
            }
            match t["expr"].as_str() {
                Some(e) if !e.trim().is_empty() => {}
                _ => problems.push(format!("{name} {ref_id}: no expr")),
            }
            if let Some(tds) = t.get("datasource") {
                if tds["uid"] != "${datasource}" {
                    problems.push(format!("{name} {ref_id}: target datasource is {tds}"));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "dashboard problems:\n{}",
        problems.join("\n")
    );
    println!(
        "{} panels in {} rows, {} queries: all have a datasource, a title, a unit and an expr",
        panels.iter().filter(|p| !is_row(p)).count(),
        rows.len(),
        dashboard_queries(&d).len()
    );
}

/// A binary on PATH.
fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// A running Prometheus, killed on drop.
struct Prometheus {
    child: Child,
    addr: String,
    log: PathBuf,
}

impl Prometheus {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Panics with the log if the process has exited.
    fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("prometheus exited ({status}); its log:\n{}", self.log());
        }
    }

    /// `GET /api/v1/query?query=EXPR`: the parsed JSON answer (whatever its status).
    fn query(&self, expr: &str) -> Value {
        let (_, body) = get(
            &self.addr,
            &format!("/api/v1/query?query={}", urlencode(expr)),
        );
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("query {expr}: {e}: {body}"))
    }

    /// The value of a query that must return one sample.
    fn scalar(&self, expr: &str) -> Option<f64> {
        let answer = self.query(expr);
        let result = answer["data"]["result"].as_array()?;
        result.first()?["value"][1].as_str()?.parse().ok()
    }

    /// Polls (bounded) until `what` returns Some.
    fn wait_for<T>(&mut self, what: &str, mut check: impl FnMut(&Self) -> Option<T>) -> T {
        let started = Instant::now();
        loop {
            self.assert_running();
            if let Some(v) = check(self) {
                return v;
            }
            if started.elapsed() > WAIT {
                let (_, targets) = get(&self.addr, "/api/v1/targets");
                panic!(
                    "timed out waiting for {what}; targets: {targets}\nprometheus log:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until Prometheus has scraped redsol after `t` (Unix seconds).
    fn wait_for_scrape_after(&mut self, t: f64) {
        self.wait_for(&format!("a scrape of redsol after {t}"), |p| {
            p.scalar("timestamp(up{job=\"redsol\"})")
                .filter(|&ts| ts > t)
        });
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs_f64()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// An HTTP/1.0 GET (so the answer is never chunked): the status and the body.
fn get(addr: &str, path: &str) -> (u16, String) {
    let mut s = match TcpStream::connect(addr) {
        Ok(s) => s,
        Err(_) => return (0, String::new()),
    };
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").expect("send");
    let mut raw = Vec::new();
    if s.read_to_end(&mut raw).is_err() {
        return (0, String::new());
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Runs a tool; panics with its output if it fails.
fn run_tool(tool: &Path, args: &[&str]) -> String {
    let out = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", tool.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{} {} failed:\n{text}",
        tool.display(),
        args.join(" ")
    );
    text
}

/// Dashboard variables as Grafana would expand them, for a query Prometheus can run.
fn expand(expr: &str) -> String {
    let e = expr
        .replace("${channel}", ".*")
        .replace("$channel", ".*")
        .replace("$__rate_interval", "1m")
        .replace("$__interval", "15s")
        .replace("$__range", "1h");
    assert!(
        !e.contains('$'),
        "a dashboard query uses a variable the check does not know: {expr}"
    );
    e
}

/// The `redsol_*` metric names a query refers to.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let bytes = expr.as_bytes();
    let mut names = BTreeSet::new();
    let mut i = 0;
    while let Some(at) = expr[i..].find("redsol_") {
        let start = i + at;
        let mut end = start + "redsol_".len();
        while end < bytes.len() && (bytes[end].is_ascii_lowercase() || bytes[end] == b'_') {
            end += 1;
        }
        let glued =
            start > 0 && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
        if !glued {
            names.insert(expr[start..end].to_string());
        }
        i = end;
    }
    names
}

/// The metric names in Prometheus text, and which of them are histograms.
fn exported(metrics: &str) -> (HashSet<String>, HashSet<String>) {
    let mut names = HashSet::new();
    let mut histograms = HashSet::new();
    for line in metrics.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let mut parts = rest.split_whitespace();
            if let (Some(name), Some(kind)) = (parts.next(), parts.next()) {
                names.insert(name.to_string());
                if kind == "histogram" {
                    histograms.insert(name.to_string());
                }
            }
        } else if !line.starts_with('#') && !line.trim().is_empty() {
            let name = line.split(['{', ' ']).next().unwrap_or_default();
            names.insert(name.to_string());
        }
    }
    (names, histograms)
}

/// The metric names recorded by a `counter!`, `gauge!` or `histogram!` call in the source.
fn recorded_in_source() -> HashSet<String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let mut files = Vec::new();
    walk(&repo("src"), &mut files);
    walk(&repo("actors/src"), &mut files);
    let mut names = HashSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        for mac in ["counter!(", "gauge!(", "histogram!("] {
            let mut i = 0;
            while let Some(at) = text[i..].find(mac) {
                let start = i + at;
                i = start + mac.len();
                let prev = text[..start].chars().next_back().unwrap_or(' ');
                if prev.is_alphanumeric() || prev == '_' {
                    continue; // describe_counter!( and the like
                }
                let rest = text[i..].trim_start();
                if let Some(lit) = rest.strip_prefix('"') {
                    if let Some(end) = lit.find('"') {
                        names.insert(lit[..end].to_string());
                    }
                }
            }
        }
    }
    names
}

/// Whether every metric a query names is one a console run never records: its query may
/// rightly answer nothing here (its names are checked in the source instead).
fn only_unrecorded(expr: &str) -> bool {
    let names = metric_names(expr);
    !names.is_empty()
        && names
            .iter()
            .all(|name| NOT_RECORDED_BY_A_CONSOLE_RUN.contains(&histogram_name(name)))
}

/// A histogram's name from one of its series (`_bucket`, `_count`, `_sum`), or `name`.
fn histogram_name(name: &str) -> &str {
    ["_bucket", "_count", "_sum"]
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix))
        .unwrap_or(name)
}

/// Checks that redsol exports a referenced name; returns a problem, if any.
fn check_exported(
    name: &str,
    names: &HashSet<String>,
    histograms: &HashSet<String>,
    source: &HashSet<String>,
) -> Option<String> {
    if names.contains(name) {
        return None;
    }
    for suffix in ["_bucket", "_count", "_sum"] {
        if let Some(base) = name.strip_suffix(suffix) {
            if histograms.contains(base) {
                return None;
            }
        }
    }
    // A histogram's series are recorded under its name.
    let recorded = Some(histogram_name(name))
        .filter(|base| NOT_RECORDED_BY_A_CONSOLE_RUN.contains(base))
        .unwrap_or(name);
    if NOT_RECORDED_BY_A_CONSOLE_RUN.contains(&recorded) {
        if source.contains(recorded) {
            return None;
        }
        return Some(format!(
            "{name}: not in /metrics, and no counter!/gauge!/histogram! call in src/ or actors/src/ records it"
        ));
    }
    Some(format!("{name}: redsol's /metrics does not export it"))
}

/// Writes console lines and waits (bounded) for the reply that contains `needle`.
fn say(server: &mut Server, line: &str, needle: &str) {
    server.write_stdin(&format!("{line}\n"));
    server.read_stdout_until(needle);
}

/// The body of redsol's `/metrics`.
fn scrape(server: &Server) -> String {
    let (status, body) = get(&server.addr, "/metrics");
    assert_eq!(status, 200, "GET /metrics: {body}");
    body
}

fn sample(metrics: &str, prefix: &str) -> f64 {
    metrics
        .lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[test]
fn dashboard_and_alerts_work_against_a_live_redsol_and_prometheus() {
    let (prometheus, promtool) = match (which("prometheus"), which("promtool")) {
        (Some(p), Some(t)) => (p, t),
        _ if std::env::var("REDSOL_SKIP_PROMETHEUS").as_deref() == Ok("1") => {
            println!(
                "SKIPPED: prometheus/promtool not on PATH and REDSOL_SKIP_PROMETHEUS=1; \
                 the dashboard and alert queries were not evaluated"
            );
            return;
        }
        _ => panic!(
            "this test needs `prometheus` and `promtool` on PATH, and did not find them.\n\
             Install them: `sudo apt-get install prometheus` on Debian or Ubuntu (both land in \
             /usr/bin), or unpack a release from https://prometheus.io/download/ and put both \
             binaries on PATH.\n\
             To skip this test (not in CI), set REDSOL_SKIP_PROMETHEUS=1."
        ),
    };
    let tmp = tempfile::tempdir().expect("tempdir");

    // The rule file, as Prometheus' own tool reads it.
    let rules_report = run_tool(
        &promtool,
        &[
            "check",
            "rules",
            repo("grafana/alerts.yml").to_str().expect("utf-8 path"),
        ],
    );
    println!(
        "promtool check rules grafana/alerts.yml:\n{}",
        rules_report.trim_end()
    );
    // The alerts' unit tests: each alert fires, or stays quiet, on made-up series.
    let unit_report = run_tool(
        &promtool,
        &[
            "test",
            "rules",
            repo("grafana/alerts_test.yml")
                .to_str()
                .expect("utf-8 path"),
        ],
    );
    println!(
        "promtool test rules grafana/alerts_test.yml:\n{}",
        unit_report.trim_end()
    );

    // A real redsol with console traffic: a registration, an incident, a refused staff request.
    let data = tmp.path().join("data");
    let gemini = fake_gemini::FakeGemini::start_in_thread();
    gemini.answer(
        "oye y lo barato",
        serde_json::json!({"intent": "plans", "confidence": 0.93}),
    );
    let mut server = Server::start(
        &[],
        &data,
        &[
            ("GEMINI_API_KEY", fake_gemini::KEY),
            ("GEMINI_API_URL", &gemini.url),
        ],
    );
    say(&mut server, "hola", "te ayudo");
    say(&mut server, "oye y lo barato", "Básico");
    say(&mut server, "Zona: Norte, Plan: 100 Mbps", "nombre");
    say(&mut server, "Ana López", "¿Confirmo");
    say(&mut server, "sí", "técnico te contactará");
    say(&mut server, "no tengo internet desde ayer", "reiniciaste");
    say(&mut server, "si", "¿Lo confirmo");
    say(&mut server, "sí", "Incidente registrado");
    say(&mut server, "estadisticas", "solo para el personal");
    let before = scrape(&server);
    for (series, at_least) in [
        ("redsol_registrations_total{channel=\"console\"}", 1.0),
        ("redsol_incidents_total{channel=\"console\"", 1.0),
        ("redsol_messages_received_total{channel=\"console\"}", 6.0),
        ("redsol_response_seconds_count{channel=\"console\"}", 6.0),
        ("redsol_store_request_seconds_count{", 1.0),
        ("redsol_llm_request_seconds_count{outcome=\"ok\"}", 1.0),
        ("redsol_intents_total{intent=\"plans\",source=\"llm\"}", 1.0),
    ] {
        assert!(
            sample(&before, series) >= at_least,
            "expected {series} >= {at_least} after the console traffic:\n{before}"
        );
    }
    assert!(
        before.lines().any(|l| l == "redsol_llm_breaker_state 0"),
        "the Gemini breaker is exported, closed:\n{before}"
    );

    // prometheus.yml, adapted: scrape this redsol every second.
    let original = read("grafana/prometheus.yml");
    for needle in [
        "host.docker.internal:5001",
        "scrape_interval: 15s",
        "evaluation_interval: 15s",
        "- alerts.yml",
    ] {
        assert!(
            original.contains(needle),
            "grafana/prometheus.yml lost {needle:?}"
        );
    }
    let config = original
        .replace("host.docker.internal:5001", &server.addr)
        .replace("scrape_interval: 15s", "scrape_interval: 1s")
        .replace("evaluation_interval: 15s", "evaluation_interval: 1s");
    let prom_dir = tmp.path().join("prometheus");
    std::fs::create_dir_all(&prom_dir).expect("mkdir");
    let config_path = prom_dir.join("prometheus.yml");
    std::fs::write(&config_path, config).expect("write prometheus.yml");
    std::fs::copy(repo("grafana/alerts.yml"), prom_dir.join("alerts.yml"))
        .expect("copy alerts.yml");
    let config_report = run_tool(
        &promtool,
        &["check", "config", config_path.to_str().expect("utf-8 path")],
    );
    println!(
        "promtool check config (adapted prometheus.yml):\n{}",
        config_report.trim_end()
    );

    // A real Prometheus on a free port, with its own storage.
    let addr = format!("127.0.0.1:{}", free_port());
    let log = prom_dir.join("prometheus.log");
    let log_file = std::fs::File::create(&log).expect("log file");
    let child = Command::new(&prometheus)
        .arg(format!("--config.file={}", config_path.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            prom_dir.join("data").display()
        ))
        .arg(format!("--web.listen-address={addr}"))
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().expect("log file"))
        .stderr(log_file)
        .spawn()
        .expect("prometheus starts");
    let mut prom = Prometheus { child, addr, log };
    prom.wait_for("Prometheus to be ready", |p| {
        (get(&p.addr, "/-/ready").0 == 200).then_some(())
    });
    let scrapes = prom.wait_for("two scrapes of redsol", |p| {
        p.scalar("count_over_time(up{job=\"redsol\"}[1m])")
            .filter(|&n| n >= 2.0)
    });
    // More traffic once Prometheus watches, so the rates and quantiles are not all zero.
    say(&mut server, "hola", "te ayudo");
    say(&mut server, "oye y lo barato", "Básico");
    say(&mut server, "no tengo internet desde ayer", "reiniciaste");
    say(&mut server, "si", "¿Lo confirmo");
    say(&mut server, "sí", "Incidente registrado");
    prom.wait_for_scrape_after(unix_now());
    assert_eq!(
        prom.scalar("up{job=\"redsol\"}"),
        Some(1.0),
        "Prometheus scrapes redsol: {}",
        get(&prom.addr, "/api/v1/targets").1
    );
    println!(
        "Prometheus {} scraped redsol {} at least {scrapes} times",
        prom.addr, server.addr
    );

    let d = dashboard();
    let mut problems = Vec::new();

    // Every dashboard query parses and returns at least one series.
    for (title, ref_id, expr) in dashboard_queries(&d) {
        let q = expand(&expr);
        let answer = prom.query(&q);
        let series = answer["data"]["result"].as_array().map_or(0, Vec::len);
        if answer["status"] != "success" {
            problems.push(format!("{title} {ref_id}: {q}: {}", answer["error"]));
        } else if series == 0 && !only_unrecorded(&expr) {
            problems.push(format!("{title} {ref_id}: {q}: no series"));
        }
        let verdict = if answer["status"] != "success" {
            "ERROR"
        } else if series == 0 {
            "EMPTY"
        } else {
            "ok"
        };
        println!("  query {verdict:<5} {series:>2} series  {title} [{ref_id}]");
    }
    // The $channel variable: label_values(M, L) is Grafana's; Prometheus runs `group by (L) (M)`.
    let var = variable_query(variable(&d, "channel"));
    let inner = var
        .strip_prefix("label_values(")
        .and_then(|r| r.strip_suffix(')'))
        .and_then(|r| r.rsplit_once(','))
        .unwrap_or_else(|| panic!("$channel is not label_values(METRIC, LABEL): {var}"));
    let q = format!("group by ({}) ({})", inner.1.trim(), inner.0.trim());
    let channels = prom.query(&q);
    if !channels["data"]["result"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|s| s["metric"]["channel"] == "console")
    {
        problems.push(format!(
            "$channel: {q} does not list the console channel: {channels}"
        ));
    }

    // Every alert rule, as Prometheus loaded it, is complete and its expr runs.
    let alerts_yml = read("grafana/alerts.yml");
    let declared = alerts_yml
        .lines()
        .filter(|l| l.trim_start().starts_with("- alert:"))
        .count();
    let rules_answer: Value =
        serde_json::from_str(&get(&prom.addr, "/api/v1/rules").1).expect("rules JSON");
    let rules: Vec<&Value> = rules_answer["data"]["groups"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|g| g["rules"].as_array().into_iter().flatten())
        .collect();
    assert_eq!(
        rules.len(),
        declared,
        "Prometheus loaded {} rules, alerts.yml declares {declared}: {rules_answer}",
        rules.len()
    );
    let mut rule_exprs = Vec::new();
    for r in &rules {
        let name = r["name"].as_str().unwrap_or("?");
        let expr = r["query"].as_str().unwrap_or_default();
        if r["type"] != "alerting" {
            problems.push(format!("rule {name}: not an alerting rule"));
        }
        if r["duration"].as_f64().unwrap_or(0.0) <= 0.0 {
            problems.push(format!("rule {name}: no `for`"));
        }
        if r["labels"]["severity"]
            .as_str()
            .unwrap_or_default()
            .is_empty()
        {
            problems.push(format!("rule {name}: no severity label"));
        }
        for key in ["summary", "description"] {
            if r["annotations"][key]
                .as_str()
                .unwrap_or_default()
                .is_empty()
            {
                problems.push(format!("rule {name}: no {key} annotation"));
            }
        }
        if r["health"] == "err" {
            problems.push(format!("rule {name}: evaluation error: {}", r["lastError"]));
        }
        let answer = prom.query(expr);
        let series = answer["data"]["result"].as_array().map_or(0, Vec::len);
        if answer["status"] != "success" {
            problems.push(format!("rule {name}: {expr}: {}", answer["error"]));
        }
        println!(
            "  rule  {name:<36} {:<8} for {:>4}s  {series} series match now",
            r["labels"]["severity"].as_str().unwrap_or("?"),
            r["duration"]
        );
        rule_exprs.push(expr.to_string());
    }

    // Every metric the dashboard and the rules name is one redsol exports.
    let metrics = scrape(&server);
    let (names, histograms) = exported(&metrics);
    let source = recorded_in_source();
    let mut referenced = BTreeSet::new();
    for (_, _, expr) in dashboard_queries(&d) {
        referenced.extend(metric_names(&expr));
    }
    referenced.extend(metric_names(&var));
    for expr in &rule_exprs {
        referenced.extend(metric_names(expr));
    }
    let mut from_source = Vec::new();
    for name in &referenced {
        if let Some(problem) = check_exported(name, &names, &histograms, &source) {
            problems.push(problem);
        } else if !names.contains(name.as_str())
            && !histograms.iter().any(|h| name.starts_with(h.as_str()))
        {
            from_source.push(name.as_str());
        }
    }
    println!(
        "{} metric names referenced, all exported by redsol{}",
        referenced.len(),
        if from_source.is_empty() {
            String::new()
        } else {
            format!(
                " (recorded only on WhatsApp traffic, so checked in the source: {})",
                from_source.join(", ")
            )
        }
    );

    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    drop(prom);
    let (ok, _) = server.terminate();
    assert!(ok, "redsol exits cleanly on SIGTERM");
}
