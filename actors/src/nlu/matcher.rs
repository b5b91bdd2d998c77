//! The matcher of the hand-written [`super::lexicon`]: each intent's weighted patterns are
//! matched against the respelled tokens with typo tolerance, entities marked where they stand
//! (`@zone`, `@plan`...), and scores corrected where one intent's words read differently next
//! to another's. The scores are features of the classifier, not its answer.

use super::adjust::adjust;
use super::fuzzy::{initial, near, near_prefix, nlu_token, sound};
use super::lexicon::LEXICON;
pub(crate) use super::prepare::{prepare, Prepared};
use super::prepare::{NAME, NUM, PHONE, PLAN, TICKET, ZONE};
use crate::model::Intent;

/// The compiled lexicon: stateless, cheap, shared.
pub struct Lexicon {
    compiled: Vec<CompiledPattern>,
    /// Every distinct word of the patterns (a list of alternatives), once: whether one matches
    /// a token is worked out once per utterance, however many phrases name it.
    words: Vec<Vec<Term>>,
    /// Where to look a token's terms up, so a token is tried against a few terms only.
    index: TermIndex,
}

/// Every distinct term of the lexicon, with the words it is an alternative of, indexed by what
/// a matching token must have.
#[derive(Default)]
struct TermIndex {
    /// (term, the words it belongs to).
    terms: Vec<(Term, Vec<usize>)>,
    /// Exact and fuzzy terms by their text and by their sound: a token equal to either.
    by_text: std::collections::HashMap<String, Vec<usize>>,
    /// Fuzzy terms by initial and length: a typo keeps the initial ([`initial`]) and changes
    /// the length by two letters at most ([`near`]).
    by_shape: std::collections::HashMap<(u8, usize), Vec<usize>>,
    /// Prefix terms: few, tried on every token.
    scanned: Vec<usize>,
    /// Entity terms (`@zone`...): tried on every token of every utterance.
    entities: Vec<usize>,
}

/// The most words [`TOKEN_TERMS`] remembers before it starts again.
const TOKEN_CACHE_MAX: usize = 50_000;

thread_local! {
    /// The lexicon terms (not entities) each word matches. The lexicon is a constant, so its
    /// term numbers are the same in every [`Lexicon`].
    static TOKEN_TERMS: std::cell::RefCell<std::collections::HashMap<String, Box<[usize]>>> =
        std::cell::RefCell::new(std::collections::HashMap::new());
}

impl TermIndex {
    fn new(words: &[Vec<Term>], specs: &[Vec<String>]) -> TermIndex {
        let mut index = TermIndex::default();
        let mut ids = std::collections::HashMap::<&str, usize>::new();
        for (word, alternatives) in words.iter().enumerate() {
            for (term, spec) in alternatives.iter().zip(&specs[word]) {
                if let Some(&id) = ids.get(spec.as_str()) {
                    if !index.terms[id].1.contains(&word) {
                        index.terms[id].1.push(word);
                    }
                    continue;
                }
                let id = index.terms.len();
                ids.insert(spec, id);
                index.terms.push((term.clone(), vec![word]));
                match term {
                    Term::Exact(w, s) | Term::Fuzzy(w, s) => {
                        index.by_text.entry(w.clone()).or_default().push(id);
                        if s != w {
                            index.by_text.entry(s.clone()).or_default().push(id);
                        }
                        if matches!(term, Term::Fuzzy(..)) {
                            let key = (initial(w.as_bytes()), w.len());
                            index.by_shape.entry(key).or_default().push(id);
                        }
                    }
                    Term::Prefix(..) => index.scanned.push(id),
                    Term::Entity(_) => index.entities.push(id),
                }
            }
        }
        index
    }

    /// The terms that may match a token (each to be checked with [`Term::matches`]).
    fn candidates<'a>(
        &'a self,
        token: &'a str,
        sound: &'a str,
    ) -> impl Iterator<Item = usize> + 'a {
        let text = [token, sound]
            .into_iter()
            .flat_map(|k| self.by_text.get(k).into_iter().flatten().copied());
        let first = initial(token.as_bytes());
        let len = token.len();
        let shape = (len.saturating_sub(2)..=len + 2).flat_map(move |l| {
            self.by_shape
                .get(&(first, l))
                .into_iter()
                .flatten()
                .copied()
        });
        text.chain(shape).chain(self.scanned.iter().copied())
    }
}

struct CompiledPattern {
    intent: Intent,
    /// Alternative phrases; each phrase is a list of words (indexes into `Lexicon::words`).
    phrases: Vec<Vec<usize>>,
    weight: f32,
}

const ENTITIES: [(&str, u8); 6] = [
    ("@zone", ZONE),
    ("@plan", PLAN),
    ("@num", NUM),
    ("@ticket", TICKET),
    ("@phone", PHONE),
    ("@name", NAME),
];

/// A word of a pattern, with its [`sound`] where it has one.
#[derive(Clone)]
enum Term {
    Fuzzy(String, String),
    Prefix(String, String),
    Exact(String, String),
    Entity(u8),
}

impl Term {
    /// Whether the term matches the token at `i`, which sounds as `sound` ([`sound`]; only
    /// words look at it, entities do not).
    fn matches(&self, prepared: &Prepared, i: usize, sound: &str) -> bool {
        let token = prepared.tokens[i].as_str();
        match self {
            Term::Exact(w, s) => token == w || sound == s,
            Term::Fuzzy(w, s) => sound == s || near(token, w),
            Term::Prefix(stem, s) => sound.starts_with(s.as_str()) || near_prefix(token, stem),
            Term::Entity(mark) => prepared.marks[i] & mark != 0,
        }
    }
}

fn compile_term(word: &str) -> Term {
    if word.starts_with('@') {
        match ENTITIES.iter().find(|(name, _)| *name == word) {
            Some((_, mark)) => Term::Entity(*mark),
            None => panic!("unknown entity {word} in the NLU lexicon"),
        }
    } else if let Some(w) = word.strip_prefix('=') {
        let w = nlu_token(w);
        Term::Exact(w.clone(), sound(&w))
    } else if let Some(stem) = word.strip_suffix('*') {
        let stem = nlu_token(stem);
        Term::Prefix(stem.clone(), sound(&stem))
    } else {
        let w = nlu_token(word);
        Term::Fuzzy(w.clone(), sound(&w))
    }
}

/// Compiles a pattern's phrases, interning each word (its list of alternatives) in `words`.
fn compile_pattern(
    pattern: &str,
    words: &mut Vec<Vec<Term>>,
    specs: &mut Vec<Vec<String>>,
    ids: &mut std::collections::HashMap<String, usize>,
) -> Vec<Vec<usize>> {
    pattern
        .split(',')
        .map(|phrase| {
            phrase
                .split_whitespace()
                .map(|word| {
                    *ids.entry(word.to_string()).or_insert_with(|| {
                        let alternatives = word.split('|').filter(|a| !a.is_empty());
                        words.push(alternatives.clone().map(compile_term).collect());
                        specs.push(alternatives.map(String::from).collect());
                        words.len() - 1
                    })
                })
                .collect::<Vec<usize>>()
        })
        .filter(|phrase| !phrase.is_empty())
        .collect()
}

/// Between two words of a phrase: at most this many other words...
const MAX_GAP: usize = 4;
/// ...of which at most this many are not function words.
const MAX_CONTENT_GAP: usize = 2;

impl Default for Lexicon {
    fn default() -> Self {
        Self::new()
    }
}

impl Lexicon {
    pub fn new() -> Self {
        let (mut words, mut specs, mut ids) = (Vec::new(), Vec::new(), Default::default());
        let compiled = LEXICON
            .iter()
            .map(|pat| CompiledPattern {
                intent: pat.intent,
                weight: pat.weight,
                phrases: compile_pattern(pat.pattern, &mut words, &mut specs, &mut ids),
            })
            .collect();
        let index = TermIndex::new(&words, &specs);
        Self {
            compiled,
            words,
            index,
        }
    }

    /// Which words match which tokens (`words × tokens`), from the terms each token's lookup
    /// finds, and which words match any token.
    fn word_matches(&self, prepared: &Prepared) -> (Vec<bool>, Vec<bool>) {
        let n = prepared.tokens.len();
        let mut hits = vec![false; self.words.len() * n];
        let mut present = vec![false; self.words.len()];
        for i in 0..n {
            let mut mark = |term: usize| {
                for &w in &self.index.terms[term].1 {
                    hits[w * n + i] = true;
                    present[w] = true;
                }
            };
            // The terms a word matches depend on the word alone: worked out once per thread
            // for each word seen (words repeat from message to message).
            TOKEN_TERMS.with(|cache| {
                let mut cache = cache.borrow_mut();
                let token = &prepared.tokens[i];
                if let Some(terms) = cache.get(token) {
                    terms.iter().for_each(|&t| mark(t));
                    return;
                }
                if cache.len() >= TOKEN_CACHE_MAX {
                    cache.clear();
                }
                let sound = sound(token);
                let terms: Box<[usize]> = self
                    .index
                    .candidates(token, &sound)
                    .filter(|&t| {
                        let term = &self.index.terms[t].0;
                        !matches!(term, Term::Entity(_)) && term.matches(prepared, i, &sound)
                    })
                    .collect();
                terms.iter().for_each(|&t| mark(t));
                cache.insert(token.clone(), terms);
            });
            // Entity terms depend on the utterance (where its zone or plan stands).
            for &term in &self.index.entities {
                if self.index.terms[term].0.matches(prepared, i, "") {
                    mark(term);
                }
            }
        }
        (hits, present)
    }

    /// The score of every intent (in the order of [`Intent::ALL`]) after the corrections.
    pub(crate) fn scores(&self, prepared: &Prepared) -> [f32; Intent::ALL.len()] {
        let mut scores = [0f32; Intent::ALL.len()];
        let (hits, present) = self.word_matches(prepared);
        let matcher = Matcher { prepared, hits };
        for pat in &self.compiled {
            // Most phrases fail on a word that is nowhere in the utterance.
            let found = |ph: &Vec<usize>| ph.iter().all(|&w| present[w]) && matcher.phrase(ph);
            if pat.phrases.iter().any(found) {
                scores[pat.intent.index()] += pat.weight;
            }
        }
        adjust(&mut scores, prepared);
        scores
    }
}

/// Matches phrases against one utterance, knowing which word matches which token.
struct Matcher<'a> {
    prepared: &'a Prepared,
    /// `words × tokens`: whether the word matches the token.
    hits: Vec<bool>,
}

impl Matcher<'_> {
    fn word_at(&self, word: usize, i: usize) -> bool {
        self.hits[word * self.prepared.tokens.len() + i]
    }

    /// Whether the words of a phrase appear in order in the tokens, each close enough to the
    /// previous one (see [`MAX_GAP`] and [`MAX_CONTENT_GAP`]).
    fn phrase(&self, words: &[usize]) -> bool {
        self.from(words, 0, true)
    }

    fn from(&self, words: &[usize], start: usize, first: bool) -> bool {
        let Some((&word, rest)) = words.split_first() else {
            return true;
        };
        let p = self.prepared;
        let (mut gap, mut content_gap) = (0, 0);
        for i in start..p.tokens.len() {
            if self.word_at(word, i) && self.from(rest, i + 1, false) {
                return true;
            }
            if !first {
                gap += 1;
                content_gap += usize::from(!p.function[i]);
                if gap > MAX_GAP || content_gap > MAX_CONTENT_GAP {
                    return false;
                }
            }
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lexicon_compiles_and_its_weights_are_sane() {
        let lexicon = Lexicon::new();
        assert!(!lexicon.words.is_empty());
        for pat in LEXICON {
            assert!(pat.weight > 0.0 && pat.weight <= 3.0, "{:?}", pat.pattern);
        }
    }

    #[test]
    fn the_index_finds_what_a_scan_finds() {
        let rules = crate::testing::rules();
        let lexicon = Lexicon::new();
        for text in [
            "ola kiero contratar el de 50 megas en la norte",
            "no ay intenet desde ayer, ya reinicie el modem",
            "cuanto facturamos en el bajio",
            "hasta luego gracias",
        ] {
            let prepared = prepare(text, &rules);
            let (hits, _) = lexicon.word_matches(&prepared);
            let n = prepared.tokens.len();
            for (w, alternatives) in lexicon.words.iter().enumerate() {
                for i in 0..n {
                    let sound = sound(&prepared.tokens[i]);
                    let scan = alternatives.iter().any(|t| t.matches(&prepared, i, &sound));
                    assert_eq!(hits[w * n + i], scan, "{text}: word {w} at {i}");
                }
            }
        }
    }
}
