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

mod dashboard;
mod names;
mod prometheus;

use dashboard::*;
use names::*;
use prometheus::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use support::Server;

/// How long any single wait may last.
pub(crate) const WAIT: Duration = Duration::from_secs(60);

pub(crate) fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

pub(crate) fn read(path: &str) -> String {
    std::fs::read_to_string(repo(path)).unwrap_or_else(|e| panic!("read {path}: {e}"))
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
