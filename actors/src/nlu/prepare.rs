//! An utterance read once for the lexicon and the entity extractors: folded, respelled, with
//! the zone, the plan, tickets, phones and numbers marked where they stand.

use super::entities::{demonstrative, find_plan_at, is_ticket, zone_span};
use super::fuzzy::nlu_token;
use crate::model::Entities;
use crate::rules::Rules;
use crate::text;

/// Entity marks on the tokens where an entity was found.
pub(super) const ZONE: u8 = 1;
pub(super) const PLAN: u8 = 2;
pub(super) const NUM: u8 = 4;
pub(super) const TICKET: u8 = 8;
pub(super) const PHONE: u8 = 16;
pub(super) const NAME: u8 = 32;

/// Short words that may stand between the words of a phrase without counting as a gap.
pub(super) const FUNCTION_WORDS: &[&str] = &[
    "a", "al", "con", "de", "del", "e", "el", "en", "la", "las", "lo", "los", "mi", "mis", "o",
    "pa", "para", "por", "su", "sus", "tu", "tus", "un", "una", "unas", "unos", "y",
];

/// The text of an utterance ready for matching: tokens, their entity marks, and which of them
/// are function words.
pub(crate) struct Prepared {
    /// The utterance folded ([`text::fold`]).
    pub(crate) folded: String,
    /// Its words, respelled ([`nlu_token`]).
    pub(crate) tokens: Vec<String>,
    /// Entity marks ([`ZONE`], [`PLAN`]...) on each token.
    pub(super) marks: Vec<u8>,
    /// Whether each token is one of the [`FUNCTION_WORDS`].
    pub(super) function: Vec<bool>,
    /// The zone and the plan, where they stand.
    pub(crate) entities: Entities,
}

/// Whether the word at `start` follows a "no" ("no la norte", "no, en la norte no").
fn negated(words: &[&str], start: usize) -> bool {
    words[start.saturating_sub(3)..start]
        .iter()
        .any(|w| matches!(*w, "no" | "nel"))
}

/// Reads an utterance once for the lexicon and the entity extractors: folded, respelled, with
/// the zone and the plan marked where they stand.
pub(crate) fn prepare(utterance: &str, rules: &Rules) -> Prepared {
    let raw_folded = text::fold(utterance);
    let words: Vec<&str> = raw_folded.split(' ').filter(|t| !t.is_empty()).collect();
    let tokens: Vec<String> = words.iter().map(|w| nlu_token(w)).collect();
    let mut marks = vec![0u8; tokens.len()];
    let function = tokens
        .iter()
        .map(|t| FUNCTION_WORDS.contains(&t.as_str()))
        .collect();
    let mut entities = Entities::default();

    // The zone, if it is really there: the typo tolerance of the rules is loose enough to
    // read "mañana" as "santana" or "cliente" as "oriente".
    if let Some(zone) = rules.find_zone_in(&words) {
        let span = zone_span(zone, &words)
            .filter(|&(start, len)| len > 1 || !demonstrative(&words, start));
        // "es la sur, no la norte": the zone said after a "no" is the one taken back.
        let (zone, span) = match span {
            Some((start, _)) if negated(&words, start) => rules
                .zones
                .iter()
                .filter(|z| z.name != zone.name)
                .find_map(|z| {
                    zone_span(z, &words)
                        .filter(|&(s, _)| !negated(&words, s))
                        .map(|sp| (z, Some(sp)))
                })
                .unwrap_or((zone, span)),
            _ => (zone, span),
        };
        if let Some((start, len)) = span {
            entities.zone = Some(zone.name.clone());
            marks[start..start + len]
                .iter_mut()
                .for_each(|m| *m |= ZONE);
        }
    }
    if let Some((i, mbps)) = find_plan_at(&tokens, rules) {
        entities.plan_mbps = Some(mbps);
        marks[i] |= PLAN;
    }
    let digits = |t: &str| !t.is_empty() && t.bytes().all(|c| c.is_ascii_digit());
    for i in 0..tokens.len() {
        if is_ticket(&tokens[i]) {
            marks[i] |= TICKET;
        } else if tokens[i] == "inc" && tokens.get(i + 1).is_some_and(|t| digits(t)) {
            marks[i] |= TICKET;
            marks[i + 1] |= TICKET;
        }
    }
    // A phone: ten digits or more, typed together or in groups ("464 112 3344").
    let mut i = 0;
    while i < tokens.len() {
        let run = tokens[i..].iter().take_while(|t| digits(t)).count();
        if run > 0 {
            let total: usize = tokens[i..i + run].iter().map(String::len).sum();
            let mark = if total >= 10 { PHONE } else { NUM };
            marks[i..i + run].iter_mut().for_each(|m| *m |= mark);
            i += run;
        } else {
            i += 1;
        }
    }
    Prepared {
        folded: raw_folded,
        tokens,
        marks,
        function,
        entities,
    }
}
