//! The dashboard's shape: its rows, panels, queries and variables, and the test that each panel
//! has what Grafana needs.

use crate::read;
use serde_json::Value;
use std::collections::HashSet;

/// The row titles, in order.
pub(crate) const ROWS: &[&str] = &[
    "Customers",
    "Latency",
    "Health",
    "Atención humana",
    "Fallas por zona",
    "Cobranza",
];

pub(crate) fn dashboard() -> Value {
    serde_json::from_str(&read("grafana/dashboards/redsol.json"))
        .expect("grafana/dashboards/redsol.json is valid JSON")
}

/// Every panel, rows included, and the panels nested in (collapsed) rows.
pub(crate) fn all_panels(dashboard: &Value) -> Vec<&Value> {
    pub(crate) fn walk<'a>(panels: &'a Value, out: &mut Vec<&'a Value>) {
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

pub(crate) fn is_row(panel: &Value) -> bool {
    panel["type"] == "row"
}

/// (panel title, refId, expr) of every query of the dashboard.
pub(crate) fn dashboard_queries(dashboard: &Value) -> Vec<(String, String, String)> {
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

pub(crate) fn variable<'a>(dashboard: &'a Value, name: &str) -> &'a Value {
    dashboard["templating"]["list"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("the dashboard has no ${name} variable"))
}

/// The query of a templating variable: a string, or an object with a `query` field.
pub(crate) fn variable_query(var: &Value) -> String {
    var["query"]
        .as_str()
        .or_else(|| var["query"]["query"].as_str())
        .unwrap_or_default()
        .to_string()
}

#[test]
pub(crate) fn every_dashboard_panel_has_a_datasource_a_title_a_unit_and_queries() {
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
