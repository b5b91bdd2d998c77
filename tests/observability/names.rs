//! Which metric names a query reads, which ones redsol exports, and which ones only a source
//! file records (those a console run never does).

use crate::repo;
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

/// Metrics a console `redsol run` on the embedded store never records: WhatsApp webhook
/// traffic, the senders' outbox sweeps, the Google Sheets backend, and handoffs (they need a
/// staff member on Telegram). They are not in its `/metrics`, so for these names
/// the check falls back to the source: a `counter!`/`gauge!`/`histogram!` call in `src/` or
/// `actors/src/` must record them. If one of them does show up in `/metrics`, it is checked
/// there like any other.
pub(crate) const NOT_RECORDED_BY_A_CONSOLE_RUN: &[&str] = &[
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
    // Only with PostgreSQL (replicas sharing the conversations).
    "redsol_conversation_leases",
    "redsol_forwarded_total",
    "redsol_turns_fenced_total",
];

/// Dashboard variables as Grafana would expand them, for a query Prometheus can run.
pub(crate) fn expand(expr: &str) -> String {
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
pub(crate) fn metric_names(expr: &str) -> BTreeSet<String> {
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
pub(crate) fn exported(metrics: &str) -> (HashSet<String>, HashSet<String>) {
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
pub(crate) fn recorded_in_source() -> HashSet<String> {
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
pub(crate) fn only_unrecorded(expr: &str) -> bool {
    let names = metric_names(expr);
    !names.is_empty()
        && names
            .iter()
            .all(|name| NOT_RECORDED_BY_A_CONSOLE_RUN.contains(&histogram_name(name)))
}

/// A histogram's name from one of its series (`_bucket`, `_count`, `_sum`), or `name`.
pub(crate) fn histogram_name(name: &str) -> &str {
    ["_bucket", "_count", "_sum"]
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix))
        .unwrap_or(name)
}

/// Checks that redsol exports a referenced name; returns a problem, if any.
pub(crate) fn check_exported(
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
