//! Chooses the classifier's training settings on the dev split (never the test split):
//! `cargo test -p redsol-actors --release --test nlu_tuning -- --ignored --nocapture`
//! (`MISSES=1` lists the dev misses too).

use redsol_actors::model::Intent;
use redsol_actors::nlu::classifier::Training;
use redsol_actors::nlu::places::Gazetteer;
use redsol_actors::nlu::{corpus, Nlu};

#[test]
#[ignore = "prints dev-split figures for a grid of settings; run by hand"]
fn grid_on_the_dev_split() {
    let rules = redsol_actors::testing::rules();
    let parse = |s| corpus::parse(s).unwrap_or_default();
    let (train, dev) = (parse(corpus::TRAIN), parse(corpus::DEV));
    for epochs in [15, 30] {
        for lr in [6.0] {
            let s = Training {
                epochs,
                learning_rate: lr,
                ..Training::default()
            };
            let places = match Gazetteer::parse(corpus::PLACES) {
                Ok(p) => p,
                Err(e) => panic!("{e}"),
            };
            let nlu = Nlu::train(&train, &dev, corpus::NAMES, places, &rules, &s);
            let mut ok = 0;
            for e in &dev {
                let u = nlu.understand(&e.text, &rules);
                ok += usize::from(u.intent == e.intent);
                if u.intent != e.intent && std::env::var("MISSES").is_ok() {
                    println!(
                        "MISS {} -> {} {:.2}: {}",
                        e.intent, u.intent, u.confidence, e.text
                    );
                }
            }
            println!(
                "epochs {epochs:>2} lr {lr:<4}: dev accuracy {:.1}%",
                ok as f64 * 100.0 / dev.len() as f64
            );
            // The confidence below which the engine does not act: out of scope taken as an
            // action, against in-scope requests acted on correctly.
            for threshold in [0.45f32, 0.5, 0.55, 0.6, 0.65, 0.7] {
                let (mut oos, mut oos_acted, mut ins, mut ins_right) = (0, 0, 0, 0);
                for e in &dev {
                    let u = nlu.understand(&e.text, &rules);
                    let acts = u.intent != Intent::OutOfScope && u.confidence >= threshold;
                    if e.intent == Intent::OutOfScope {
                        oos += 1;
                        oos_acted += usize::from(acts);
                    } else {
                        ins += 1;
                        ins_right += usize::from(acts && u.intent == e.intent);
                    }
                }
                println!(
                    "  threshold {threshold:.2}: out of scope acted on {:.1}%, in scope acted on right {:.1}%",
                    oos_acted as f64 * 100.0 / oos as f64,
                    ins_right as f64 * 100.0 / ins as f64
                );
            }
        }
    }
}
