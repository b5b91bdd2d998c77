//! Any text through normalisation and the whole offline understanding. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redsol_actors::nlu::Nlu;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static RULES: OnceLock<redsol_actors::rules::Rules> = OnceLock::new();
    let rules = RULES.get_or_init(redsol_actors::testing::rules);
    let text = String::from_utf8_lossy(data);
    let _ = redsol_actors::text::fold(&text);
    let _ = redsol_actors::text::tokens(&text);
    let u = Nlu::embedded().understand(&text, rules);
    assert!((0.0..=1.0).contains(&u.confidence));
    let _ = rules.faq_answer(&text);
    let _ = rules.priority_for(&text, u.entities.incident_kind);
});
