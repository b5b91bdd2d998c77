//! Multi-turn scenarios from `tests/scenarios/*.toml`, each through a fresh actor tree over the
//! demo store: the turns a customer types (or taps), what each reply must and must not say, and
//! what the store holds at the end (the records a customer's words became).
//!
//! The format (one file holds many `[[scenario]]`):
//!
//! ```toml
//! [[scenario]]
//! name = "a correction mid-registration changes the price"
//! channel = "telegram"            # or "whatsapp" (the user id is then a phone) or "console"
//! profile_name = "Juan Pérez"     # optional: the name the platform gives
//! turns = [
//!   { say = "quiero contratar", expect = ["nombre"] },
//!   { say = "Ana Ruiz", expect = ["zona"], reject = ["Ok"] },
//!   { tap = "yes" },                # a quick reply's id
//!   { content = "sticker" },        # a message that is not text
//! ]
//! [scenario.outcome]              # optional; every key optional
//! prospects = 1
//! prospect = { name = "Ana Ruiz", zone = "Sur", plan_mbps = 50, price = 450, status = "Nuevo" }
//! incidents = 1
//! incident = { priority = "Alta", description_lacks = "Desde: se va" }
//! requests = ["cancel_service"]   # the kinds recorded for staff, in order
//! ```
//!
//! `expect` and `reject` compare folded text (no accents, case, punctuation or emoji).

mod common;

use common::start;
use redsol_actors::model::{Channel, Content, ConversationKey, Inbound, Profile};
use redsol_actors::text::fold;
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    scenario: Vec<Scenario>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Scenario {
    name: String,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    profile_name: Option<String>,
    turns: Vec<Turn>,
    #[serde(default)]
    outcome: Option<Outcome>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Turn {
    #[serde(default)]
    say: Option<String>,
    #[serde(default)]
    tap: Option<String>,
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    expect: Vec<String>,
    #[serde(default)]
    reject: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Outcome {
    prospects: Option<usize>,
    prospect: Option<ProspectCheck>,
    incidents: Option<usize>,
    incident: Option<IncidentCheck>,
    requests: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProspectCheck {
    name: Option<String>,
    status: Option<String>,
    zone: Option<String>,
    plan_mbps: Option<u32>,
    price: Option<u32>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IncidentCheck {
    priority: Option<String>,
    kind: Option<String>,
    description_contains: Option<String>,
    description_lacks: Option<String>,
}

fn files() -> Vec<(String, File)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/scenarios");
    let mut paths: Vec<_> = match std::fs::read_dir(&dir) {
        Ok(d) => d.flatten().map(|e| e.path()).collect(),
        Err(e) => panic!("{}: {e}", dir.display()),
    };
    paths.retain(|p| p.extension().is_some_and(|x| x == "toml"));
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p:?}: {e}"));
            let file: File = toml::from_str(&text).unwrap_or_else(|e| panic!("{p:?}: {e}"));
            (p.display().to_string(), file)
        })
        .collect()
}

/// Runs one scenario; returns what went wrong, with the transcript.
async fn run(index: usize, s: &Scenario) -> Result<(), String> {
    let mut h = start().await;
    let channel = s
        .channel
        .as_deref()
        .map(|c| Channel::parse(c).ok_or(format!("unknown channel {c}")))
        .transpose()?
        .unwrap_or(Channel::Telegram);
    let user = match channel {
        Channel::WhatsApp => format!("52146455{index:05}"),
        _ => format!("scenario-{index}"),
    };
    let key = ConversationKey::new(channel, user);
    let mut transcript = String::new();
    for (n, turn) in s.turns.iter().enumerate() {
        let (content, shown) = match (&turn.say, &turn.tap, &turn.content) {
            (Some(t), None, None) => (Content::Text(t.clone()), t.clone()),
            (None, Some(id), None) => (Content::Choice(id.clone()), format!("[tap {id}]")),
            (None, None, Some(kind)) => (Content::Unsupported(kind.clone()), format!("[{kind}]")),
            _ => return Err(format!("turn {n}: exactly one of say, tap, content")),
        };
        let mut inbound = Inbound::text(key.clone(), "");
        inbound.content = content;
        inbound.profile = Profile {
            name: s.profile_name.clone(),
            phone: None,
        };
        h.send_inbound(inbound);
        let reply = h.reply().await.reply.text;
        transcript.push_str(&format!("> {shown}\n{reply}\n"));
        let folded = fold(&reply);
        for e in &turn.expect {
            if !folded.contains(&fold(e)) {
                return Err(format!("turn {n}: expected «{e}»\n{transcript}"));
            }
        }
        for r in &turn.reject {
            if folded.contains(&fold(r)) {
                return Err(format!("turn {n}: did not expect «{r}»\n{transcript}"));
            }
        }
    }
    let Some(o) = &s.outcome else { return Ok(()) };
    let prospects = h.store.prospects();
    let incidents = h.store.incidents();
    let requests: Vec<String> = h.store.requests().into_iter().map(|r| r.kind).collect();
    let fail = |what: String| Err(format!("outcome: {what}\n{transcript}"));
    if let Some(n) = o.prospects {
        if prospects.len() != n {
            return fail(format!("{} prospects, expected {n}", prospects.len()));
        }
    }
    if let Some(c) = &o.prospect {
        let Some(p) = prospects.last() else {
            return fail("no prospect".into());
        };
        let d = &p.data;
        let ok = c.name.as_ref().is_none_or(|v| *v == d.name)
            && c.status.as_ref().is_none_or(|v| *v == p.status)
            && c.zone.as_ref().is_none_or(|v| *v == d.zone)
            && c.plan_mbps.is_none_or(|v| v == d.plan_mbps)
            && c.price.is_none_or(|v| v == d.price);
        if !ok {
            return fail(format!("prospect {d:?}"));
        }
    }
    if let Some(n) = o.incidents {
        if incidents.len() != n {
            return fail(format!("{} incidents, expected {n}", incidents.len()));
        }
    }
    if let Some(c) = &o.incident {
        let Some(i) = incidents.last() else {
            return fail("no incident".into());
        };
        let d = &i.data;
        let ok = c.priority.as_ref().is_none_or(|v| v == d.priority.as_str())
            && c.kind.as_ref().is_none_or(|v| v == d.kind.as_str())
            && c.description_contains
                .as_ref()
                .is_none_or(|v| fold(&d.description).contains(&fold(v)))
            && c.description_lacks
                .as_ref()
                .is_none_or(|v| !fold(&d.description).contains(&fold(v)));
        if !ok {
            return fail(format!("incident {d:?}"));
        }
    }
    if let Some(kinds) = &o.requests {
        if *kinds != requests {
            return fail(format!("requests {requests:?}, expected {kinds:?}"));
        }
    }
    Ok(())
}

#[tokio::test]
async fn every_scenario_ends_as_a_customer_expects() {
    let mut failures = Vec::new();
    let mut count = 0;
    for (path, file) in files() {
        for s in &file.scenario {
            count += 1;
            if let Err(e) = run(count, s).await {
                failures.push(format!("{path}: {}\n{e}", s.name));
            }
        }
    }
    println!("{count} scenarios, {} failed", failures.len());
    assert!(count >= 1, "no scenarios found");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
