//! Benchmark: how fast the offline NLU trains (start-up) and classifies, on one core.
//!
//! Trains the model on the embedded corpus, then understands every utterance of the three
//! splits (intent, confidence and every entity) for `--seconds S` (default 3) on one thread,
//! and prints the training time and utterances per second, with the classifier alone beside
//! the whole understanding. Run it with `cargo run --release --bin redsol-bench-nlu`.

use redsol_actors::nlu::{corpus, Nlu};
use std::time::{Duration, Instant};

fn main() {
    let seconds = std::env::args()
        .skip_while(|a| a != "--seconds")
        .nth(1)
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(3.0);
    let rules = redsol_actors::testing::rules();
    let started = Instant::now();
    let nlu = Nlu::embedded();
    println!(
        "training (start-up): {:.0} ms",
        started.elapsed().as_secs_f64() * 1000.0
    );

    let texts: Vec<String> = [
        corpus::TRAIN,
        corpus::DEV,
        include_str!("../../config/nlu/test.tsv"),
    ]
    .iter()
    .flat_map(|s| corpus::parse(s).unwrap_or_default())
    .map(|e| e.text)
    .collect();
    let mean_chars = texts.iter().map(|t| t.chars().count()).sum::<usize>() / texts.len().max(1);
    println!(
        "{} utterances, {mean_chars} characters on average",
        texts.len()
    );

    let only = std::env::args().skip_while(|a| a != "--only").nth(1);
    let run = |label: &str, f: &dyn Fn(&str) -> usize| {
        if only.as_deref().is_some_and(|o| !label.contains(o)) {
            return;
        }
        let budget = Duration::from_secs_f64(seconds);
        let (start, mut done) = (Instant::now(), 0usize);
        while start.elapsed() < budget {
            for t in &texts {
                std::hint::black_box(f(std::hint::black_box(t)));
            }
            done += texts.len();
        }
        let rate = done as f64 / start.elapsed().as_secs_f64();
        println!("{label}: {rate:.0} utterances/s on one core");
    };
    run("n-gram features", &|t| {
        redsol_actors::nlu::features::extract(t, &[]).len()
    });
    run("find_zone", &|t| usize::from(rules.find_zone(t).is_some()));
    run("names", &|t| usize::from(nlu.names().find(t).is_some()));
    run("entities", &|t| {
        usize::from(nlu.entities(t, &rules).zone.is_some())
    });
    run("classifier only", &|t| nlu.rank(t, &rules).best().0.index());
    run("whole understanding", &|t| {
        let u = nlu.understand(t, &rules);
        u.intent.index() + usize::from(u.entities.zone.is_some())
    });
}
