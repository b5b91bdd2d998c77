//! The labelled corpus: `intent<TAB>text` lines in `config/nlu/{train,dev,test}.tsv` (a `#`
//! starts a comment line). The split was made once, stratified by intent with a fixed seed
//! (`config/nlu/README.md`); the model trains on `train`, its temperature is fitted on `dev`,
//! and only the NLU test reads `test`.

use crate::model::Intent;

/// One labelled utterance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Example {
    pub intent: Intent,
    pub text: String,
}

/// The embedded training split.
pub const TRAIN: &str = include_str!("../../../config/nlu/train.tsv");
/// The embedded dev split (temperature and thresholds are chosen on it).
pub const DEV: &str = include_str!("../../../config/nlu/dev.tsv");
/// Given names and surnames.
pub const NAMES: &str = include_str!("../../../config/nlu/names.txt");
/// Municipalities and localities of Guanajuato and neighbouring states.
pub const PLACES: &str = include_str!("../../../config/nlu/places.tsv");

/// A malformed corpus line, with its number.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("corpus line {line}: {problem}")]
pub struct CorpusError {
    pub line: usize,
    pub problem: String,
}

/// Parses a corpus file.
pub fn parse(tsv: &str) -> Result<Vec<Example>, CorpusError> {
    let mut out = Vec::new();
    for (i, line) in tsv.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let bad = |problem: &str| CorpusError {
            line: i + 1,
            problem: problem.into(),
        };
        let (intent, text) = line
            .split_once('\t')
            .ok_or_else(|| bad("expected intent<TAB>text"))?;
        let intent = Intent::parse(intent.trim()).ok_or_else(|| bad("unknown intent"))?;
        if text.trim().is_empty() {
            return Err(bad("empty text"));
        }
        out.push(Example {
            intent,
            text: text.trim().to_string(),
        });
    }
    Ok(out)
}
