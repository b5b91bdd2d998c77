//! Chooses the classifier's training settings on the dev splits (never the test split):
//! `cargo test -p redsol-actors --release --test nlu_tuning -- --ignored --nocapture`
//! (`MISSES=1` lists the dev misses too).
//!
//! Two dev splits: `dev.tsv`, cut from the corpus with train and test (optimistic now: some
//! train-only lines were written after reading its misses), and `dev_fresh.tsv`, written later
//! by someone who read no line of the corpus. A setting is kept when both agree.

use redsol_actors::model::Intent;
use redsol_actors::nlu::classifier::Training;
use redsol_actors::nlu::corpus::Example;
use redsol_actors::nlu::places::Gazetteer;
use redsol_actors::nlu::{corpus, Nlu};
use redsol_actors::rules::Rules;

const DEV_FRESH: &str = include_str!("../../config/nlu/dev_fresh.tsv");

/// Prints a split's accuracy, and for each confidence below which the engine does not act,
/// out of scope taken as an action against in-scope requests acted on correctly.
fn report(name: &str, nlu: &Nlu, rules: &Rules, set: &[Example]) {
    let understood: Vec<_> = set
        .iter()
        .map(|e| (e, nlu.understand(&e.text, rules)))
        .collect();
    let right = understood
        .iter()
        .filter(|(e, u)| u.intent == e.intent)
        .count();
    if std::env::var("MISSES").is_ok() {
        for (e, u) in understood.iter().filter(|(e, u)| u.intent != e.intent) {
            println!(
                "MISS {name} {} -> {} {:.2}: {}",
                e.intent, u.intent, u.confidence, e.text
            );
        }
    }
    let mut line = format!(
        "  {name:<9} accuracy {:.1}% |",
        right as f64 * 100.0 / set.len() as f64
    );
    for threshold in [0.45f32, 0.55, 0.65, 0.75] {
        let (mut oos, mut oos_acted, mut ins, mut ins_right) = (0, 0, 0, 0);
        for (e, u) in &understood {
            let acts = u.intent != Intent::OutOfScope && u.confidence >= threshold;
            if e.intent == Intent::OutOfScope {
                oos += 1;
                oos_acted += usize::from(acts);
            } else {
                ins += 1;
                ins_right += usize::from(acts && u.intent == e.intent);
            }
        }
        line += &format!(
            " {threshold:.2}: oos {:.1}% in {:.1}% |",
            oos_acted as f64 * 100.0 / oos as f64,
            ins_right as f64 * 100.0 / ins as f64
        );
    }
    println!("{line}");
}

#[test]
#[ignore = "prints dev-split figures for a grid of settings; run by hand"]
fn grid_on_the_dev_splits() {
    let rules = redsol_actors::testing::rules();
    let parse = |s| corpus::parse(s).unwrap_or_default();
    let (train, dev, fresh) = (parse(corpus::TRAIN), parse(corpus::DEV), parse(DEV_FRESH));
    assert!(!fresh.is_empty(), "dev_fresh.tsv parses");
    for epochs in [15, 30] {
        for learning_rate in [6.0] {
            for l2 in [1e-5, 1e-4, 3e-4, 1e-3] {
                let s = Training {
                    epochs,
                    learning_rate,
                    l2,
                    ..Training::default()
                };
                let places = match Gazetteer::parse(corpus::PLACES) {
                    Ok(p) => p,
                    Err(e) => panic!("{e}"),
                };
                let nlu = Nlu::train(&train, &dev, corpus::NAMES, places, &rules, &s);
                println!("epochs {epochs:>2} lr {learning_rate:<4} l2 {l2:e}");
                report("dev", &nlu, &rules, &dev);
                report("dev_fresh", &nlu, &rules, &fresh);
            }
        }
    }
}
