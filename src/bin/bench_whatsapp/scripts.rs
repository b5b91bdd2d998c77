//! What the bench's users write: multi-turn scripts (a registration, a fault report, a ticket's
//! status, questions) whose opening lines are drawn from the NLU corpus's training split, so the
//! engine reads the typos, run-ons and slang customers write, not one fixed sentence.
//!
//! Each user walks one script after another; which scripts and which lines is decided by a hash
//! of the user and the turn, so a run is the same every time.

use redsol_actors::model::Intent;
use redsol_actors::nlu::corpus;
use std::collections::HashMap;

/// One turn of a script: a line of the corpus with this intent, or one of these answers.
#[derive(Clone, Copy)]
enum Turn {
    Said(Intent),
    Answer(&'static [&'static str]),
    /// A given name and a surname from the names gazetteer.
    Name,
}

use Intent::*;
use Turn::*;

const ZONES: &[&str] = &[
    "en la norte",
    "centro",
    "zona sur",
    "en la oeste",
    "salamanca",
];
const PLANS: &[&str] = &["el de 50", "el basico", "el de 100 porfa", "el estandar"];
const YES: &[&str] = &["si", "sí, confirmo", "dale", "va", "👍", "ok"];
const SINCE: &[&str] = &[
    "desde ayer",
    "desde hoy en la mañana",
    "hace 2 dias",
    "desde anoche",
];
const RESTARTED: &[&str] = &[
    "si ya lo reinicie",
    "ya lo desconecte y nada",
    "si, dos veces",
];

/// The scripts users walk, one after another.
const SCRIPTS: &[&[Turn]] = &[
    // A registration: the request, then name, zone, plan and the confirmation.
    &[
        Said(Register),
        Name,
        Answer(ZONES),
        Answer(PLANS),
        Answer(YES),
    ],
    // A fault report: the report, since when, the modem, the confirmation, then its status.
    &[
        Said(ReportIncident),
        Answer(SINCE),
        Answer(RESTARTED),
        Answer(YES),
        Said(IncidentStatus),
    ],
    // Questions: a greeting, prices, coverage, the bill, thanks.
    &[
        Said(Greeting),
        Said(Plans),
        Said(Coverage),
        Said(Billing),
        Said(Goodbye),
    ],
    // Whatever else customers write: help, something we do not do, a person.
    &[Said(Help), Said(OutOfScope), Said(HumanAgent)],
];

/// The corpus lines by intent, and the names.
pub struct Utterances {
    said: HashMap<Intent, Vec<String>>,
    names: Vec<String>,
    /// Script `s` starts at turn `starts[s]` of a user's walk through all of them.
    starts: Vec<usize>,
    turns: usize,
}

/// A deterministic mix of two numbers (splitmix64).
fn mix(a: u64, b: u64) -> u64 {
    let mut z = a
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .wrapping_add(b)
        .wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

fn pick<T>(items: &[T], user: usize, turn: usize) -> &T {
    &items[(mix(user as u64, turn as u64) % items.len() as u64) as usize]
}

impl Utterances {
    pub fn load() -> anyhow::Result<Utterances> {
        let mut said: HashMap<Intent, Vec<String>> = SCRIPTS
            .iter()
            .flat_map(|s| s.iter())
            .filter_map(|t| match t {
                Said(intent) => Some((*intent, Vec::new())),
                _ => None,
            })
            .collect();
        for e in corpus::parse(corpus::TRAIN)? {
            if let Some(lines) = said.get_mut(&e.intent) {
                lines.push(e.text);
            }
        }
        if let Some((intent, _)) = said.iter().find(|(_, lines)| lines.is_empty()) {
            anyhow::bail!("the corpus has no line of {intent}");
        }
        let names: Vec<String> = corpus::NAMES
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(str::to_string)
            .collect();
        if names.is_empty() {
            anyhow::bail!("the names gazetteer is empty");
        }
        let mut starts = Vec::with_capacity(SCRIPTS.len());
        let mut turns = 0;
        for s in SCRIPTS {
            starts.push(turns);
            turns += s.len();
        }
        Ok(Utterances {
            said,
            names,
            starts,
            turns,
        })
    }

    /// What `user` writes at their `turn`-th message. Users begin their walk at different
    /// scripts, so every script is under way at any time.
    pub fn line(&self, user: usize, turn: usize) -> String {
        let at = (turn + self.starts[user % SCRIPTS.len()]) % self.turns;
        let script = self.starts.iter().rposition(|&s| s <= at).unwrap_or(0);
        match SCRIPTS[script][at - self.starts[script]] {
            Said(intent) => self
                .said
                .get(&intent)
                .map(|lines| pick(lines, user, turn).clone())
                .unwrap_or_default(),
            Answer(answers) => pick(answers, user, turn).to_string(),
            Name => format!(
                "{} {}",
                pick(&self.names, user, turn),
                pick(&self.names, user, turn + 1)
            ),
        }
    }

    /// How many corpus lines the scripts draw from.
    pub fn corpus_lines(&self) -> usize {
        self.said.values().map(Vec::len).sum()
    }
}
