//! A process-wide debugging recorder for the contract metrics. Its snapshots reset counters,
//! and tests run in parallel, so every snapshot is added into one running total: values only
//! grow, and tests assert lower bounds.

use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshotter};
use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

/// A metric series: its name and sorted labels.
type Series = (String, Vec<(String, String)>);

struct Totals {
    snapshotter: Option<Snapshotter>,
    /// Counter totals, and histogram sample counts.
    values: BTreeMap<Series, u64>,
}

static TOTALS: OnceLock<Mutex<Totals>> = OnceLock::new();

fn totals() -> &'static Mutex<Totals> {
    TOTALS.get_or_init(|| {
        let recorder = DebuggingRecorder::new();
        let snapshotter = recorder.snapshotter();
        // Fails only if another recorder was installed first; then nothing is recorded here.
        let snapshotter = recorder.install().ok().map(|_| snapshotter);
        Mutex::new(Totals {
            snapshotter,
            values: BTreeMap::new(),
        })
    })
}

/// Installs the recorder (once per process); call before anything records.
pub fn install() {
    let _ = totals();
}

fn refresh() -> BTreeMap<Series, u64> {
    let mut t = match totals().lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    let snapshot = match &t.snapshotter {
        Some(s) => s.snapshot().into_vec(),
        None => panic!("the debugging metrics recorder could not be installed"),
    };
    for (key, _, _, value) in snapshot {
        let (_, key) = key.into_parts();
        let mut labels: Vec<(String, String)> = key
            .labels()
            .map(|l| (l.key().to_string(), l.value().to_string()))
            .collect();
        labels.sort();
        let add = match value {
            DebugValue::Counter(n) => n,
            DebugValue::Histogram(samples) => samples.len() as u64,
            DebugValue::Gauge(_) => 0,
        };
        *t.values
            .entry((key.name().to_string(), labels))
            .or_default() += add;
    }
    t.values.clone()
}

/// The total of a counter (or the samples of a histogram) over the series that have all of
/// `labels`.
pub fn total(name: &str, labels: &[(&str, &str)]) -> u64 {
    refresh()
        .into_iter()
        .filter(|((n, ls), _)| {
            n == name
                && labels
                    .iter()
                    .all(|(k, v)| ls.iter().any(|(lk, lv)| lk == k && lv == v))
        })
        .map(|(_, v)| v)
        .sum()
}

/// Every label value of every `redsol_` series recorded so far.
pub fn label_values() -> Vec<String> {
    refresh()
        .into_keys()
        .filter(|(n, _)| n.starts_with("redsol_"))
        .flat_map(|(_, ls)| ls.into_iter().map(|(_, v)| v))
        .collect()
}
