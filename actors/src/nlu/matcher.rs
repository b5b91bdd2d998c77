//! The matcher of the hand-written [`super::lexicon`]: each intent's weighted patterns are
//! matched against the respelled tokens with typo tolerance, entities marked where they stand
//! (`@zone`, `@plan`...), and scores corrected where one intent's words read differently next
//! to another's. The scores are features of the classifier, not its answer.

use super::entities::{demonstrative, find_plan_at, is_ticket, zone_span};
use super::fuzzy::{has_any, initial, near, near_prefix, nlu_token, sound};
use super::lexicon::LEXICON;
use crate::model::{Entities, Intent};
use crate::rules::Rules;
use crate::text;
use Intent::*;

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

/// Entity marks on the tokens where an entity was found.
const ZONE: u8 = 1;
const PLAN: u8 = 2;
const NUM: u8 = 4;
const TICKET: u8 = 8;
const PHONE: u8 = 16;
const NAME: u8 = 32;
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
    fn matches(&self, prepared: &Prepared, i: usize) -> bool {
        let token = prepared.tokens[i].as_str();
        let sound = prepared.sounds[i].as_str();
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

/// Short words that may stand between the words of a phrase without counting as a gap.
const FUNCTION_WORDS: &[&str] = &[
    "a", "al", "con", "de", "del", "e", "el", "en", "la", "las", "lo", "los", "mi", "mis", "o",
    "pa", "para", "por", "su", "sus", "tu", "tus", "un", "una", "unas", "unos", "y",
];
/// Words that, after "cuánto cuesta el/un...", keep a price question about us ("¿cuánto cuesta
/// un plan?", "¿cuánto cuesta el más barato?").
const ISP_THINGS: &str = "plan paquete servicio internet instalacion conexion modem router \
    antena cambio reconexion mes mensualidad renta megas velocidad wifi mas que promocion equipo \
    contrato repetidor extensor cable traslado domicilio visita tecnico";
/// Between two words of a phrase: at most this many other words...
const MAX_GAP: usize = 4;
/// ...of which at most this many are not function words.
const MAX_CONTENT_GAP: usize = 2;

/// The text of an utterance ready for matching: tokens, their entity marks, and which of them
/// are function words.
pub(crate) struct Prepared {
    /// The utterance folded ([`text::fold`]).
    pub(crate) folded: String,
    /// Its words, respelled ([`nlu_token`]).
    pub(crate) tokens: Vec<String>,
    /// The [`sound`] of each token.
    sounds: Vec<String>,
    marks: Vec<u8>,
    function: Vec<bool>,
    /// The zone and the plan, where they stand.
    pub(crate) entities: Entities,
}

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

    /// Which words match which tokens: `words × tokens`, from the terms each token's lookup
    /// finds.
    fn word_matches(&self, prepared: &Prepared) -> Vec<bool> {
        let n = prepared.tokens.len();
        let mut hits = vec![false; self.words.len() * n];
        for i in 0..n {
            let mut mark = |term: usize| {
                for w in &self.index.terms[term].1 {
                    hits[w * n + i] = true;
                }
            };
            // The terms a word matches depend on the word alone: worked out once per thread
            // for each word seen (words repeat from message to message).
            TOKEN_TERMS.with(|cache| {
                let mut cache = cache.borrow_mut();
                let token = &prepared.tokens[i];
                if !cache.contains_key(token) {
                    if cache.len() >= TOKEN_CACHE_MAX {
                        cache.clear();
                    }
                    let terms: Box<[usize]> = self
                        .index
                        .candidates(token, &prepared.sounds[i])
                        .filter(|&t| {
                            let term = &self.index.terms[t].0;
                            !matches!(term, Term::Entity(_)) && term.matches(prepared, i)
                        })
                        .collect();
                    cache.insert(token.clone(), terms);
                }
                if let Some(terms) = cache.get(token) {
                    terms.iter().for_each(|&t| mark(t));
                }
            });
            // Entity terms depend on the utterance (where its zone or plan stands).
            for &term in &self.index.entities {
                if self.index.terms[term].0.matches(prepared, i) {
                    mark(term);
                }
            }
        }
        hits
    }

    /// The score of every intent (in the order of [`Intent::ALL`]) after the corrections.
    pub(crate) fn scores(&self, prepared: &Prepared) -> [f32; Intent::ALL.len()] {
        let mut scores = [0f32; Intent::ALL.len()];
        let matcher = Matcher {
            prepared,
            hits: self.word_matches(prepared),
        };
        for pat in &self.compiled {
            if pat.phrases.iter().any(|ph| matcher.phrase(ph)) {
                scores[pat.intent.index()] += pat.weight;
            }
        }
        adjust(&mut scores, prepared);
        scores
    }
}

/// Score corrections that need more than one pattern's view.
fn adjust(scores: &mut [f32; Intent::ALL.len()], prepared: &Prepared) {
    let idx = Intent::index;
    let tokens = &prepared.tokens;
    let any = |words: &str| has_any(tokens, words);
    let scale = |scores: &mut [f32; Intent::ALL.len()], intents: &[Intent], f: f32| {
        for i in intents {
            scores[idx(*i)] *= f;
        }
    };

    // Somebody else's service (a mobile carrier, the power company): not ours to answer.
    let at_t = tokens.windows(2).any(|w| w[0] == "at" && w[1] == "te");
    if at_t || any("telcel movistar unefon bait att cfe") {
        let ours = [
            Register,
            Plans,
            Coverage,
            ReportIncident,
            IncidentStatus,
            Billing,
        ];
        scale(scores, &ours, 0.4);
    }

    // "no hay internet" is an outage, "¿hay internet en la norte?" is coverage.
    let negated = any("no sin nada ni");
    if negated && scores[idx(ReportIncident)] >= 2.0 {
        scores[idx(Coverage)] *= 0.5;
    }
    // A named zone with a question about service and no complaint leans to coverage.
    if prepared.entities.zone.is_some() && !negated && scores[idx(Coverage)] >= 1.5 {
        scores[idx(ReportIncident)] *= 0.7;
    }

    // "quiero el de 50" buys a plan, "¿cuánto cuesta el de 50?" asks its price.
    let wish =
        any("quiero quisiera queremos interesa gustaria deseo quedo apuntan apuntas dame instalan")
            && !any("saber informacion info preguntar");
    let price = any("cuanto cuanta precio precios costo costos cuesta cuestan tarifa tarifas");
    // "¿cuánto cuesta un iPhone?" asks the price of something that is not ours.
    let article = |j: usize| {
        tokens
            .get(j)
            .is_some_and(|w| has_any(std::slice::from_ref(w), "un una el la los las de del"))
    };
    let product = (0..tokens.len()).any(|i| {
        if !has_any(&tokens[i..=i], "cuesta cuestan precio costo vale valen") || !article(i + 1) {
            return false;
        }
        let j = (i + 1..tokens.len())
            .find(|&j| !article(j))
            .unwrap_or(tokens.len());
        j < tokens.len()
            && prepared.marks[j] == 0
            && !ISP_THINGS.split(' ').any(|w| near(&tokens[j], w))
    });
    if product {
        scores[idx(Plans)] *= 0.3;
    }
    // "¿cuánto es de mi mensualidad?" asks about one's own bill, not the price list.
    let mine = any("mi mis");
    if mine && scores[idx(Billing)] > 0.0 {
        scores[idx(Plans)] *= 0.6;
    }
    if wish && scores[idx(Register)] >= 1.5 {
        scores[idx(Plans)] *= 0.6;
    } else if price && !wish {
        scores[idx(Register)] *= 0.5;
    }

    // A report already made: its status, not a new report ("ticket" is respelled "ticquet").
    let status_cue = prepared.marks.iter().any(|m| m & TICKET != 0)
        || any("ticquet folio queja tecnico")
        || tokens
            .windows(2)
            .any(|w| w[1] == "reporte" && has_any(&w[..1], "mi que lo ya su el"));
    if status_cue && scores[idx(IncidentStatus)] >= 2.5 {
        scores[idx(ReportIncident)] *= 0.6;
    }

    // A customer's own bill ("mi factura", "me cobraron") vs the company's revenue.
    let customer = any("mi mis me debo pague yo tengo");
    let company = any("nos tenemos llevamos ganamos facturamos cobramos vamos total clientes");
    if customer && !company {
        scores[idx(Finance)] *= 0.4;
    } else if company && !customer {
        scores[idx(Billing)] *= 0.4;
    }
    // Staff talk about the business, not about "mi" anything.
    if mine {
        scale(scores, &[Stats, ClientSearch, Finance], 0.5);
    }

    // Counting clients is stats, listing or finding them is a search.
    let count = any("cuantos cuantas total porcentaje cantidad promedio");
    let list =
        any("lista listado listar busca buscar buscame muestrame encuentra datos ficha quienes");
    if count && !list {
        scores[idx(ClientSearch)] *= 0.5;
    } else if list && !count {
        scores[idx(Stats)] *= 0.5;
    }
    // Money words outweigh a count of the same clients.
    if scores[idx(Finance)] >= 2.5 {
        scores[idx(Stats)] *= 0.6;
    }

    // "no entiendo cómo funciona el bot" is about the bot, not the internet.
    if any("bot chat esto menu asistente") && scores[idx(Help)] >= 2.0 {
        scores[idx(ReportIncident)] *= 0.5;
    }

    // Greetings, thanks and calls for help often wrap a real request: the request wins.
    let content = Intent::ALL
        .iter()
        .filter(|i| !matches!(i, Greeting | Goodbye | Help))
        .map(|i| scores[idx(*i)])
        .fold(0f32, f32::max);
    let others = content.max(scores[idx(Goodbye)]).max(scores[idx(Help)]);
    if others >= 1.0 {
        scores[idx(Greeting)] *= 0.3;
    }
    if content >= 2.0 && scores[idx(Help)] < 3.0 {
        scores[idx(Help)] *= 0.5;
    }
    if content >= 2.0 && scores[idx(Goodbye)] < 2.0 {
        scores[idx(Goodbye)] *= 0.5;
    }

    // Several strong ISP signals beat a stray out-of-scope word.
    let service = scores[idx(ReportIncident)]
        .max(scores[idx(Register)])
        .max(scores[idx(Coverage)]);
    if service >= 3.0 && scores[idx(OutOfScope)] < 2.5 {
        scores[idx(OutOfScope)] *= 0.5;
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
    let sounds = tokens.iter().map(|t| sound(t)).collect();
    let mut marks = vec![0u8; tokens.len()];
    let function = tokens
        .iter()
        .map(|t| FUNCTION_WORDS.contains(&t.as_str()))
        .collect();
    let mut entities = Entities::default();

    // The zone, if it is really there: the typo tolerance of the rules is loose enough to
    // read "mañana" as "santana" or "cliente" as "oriente".
    if let Some(zone) = rules.find_zone(utterance) {
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
        sounds,
        marks,
        function,
        entities,
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
            let hits = lexicon.word_matches(&prepared);
            let n = prepared.tokens.len();
            for (w, alternatives) in lexicon.words.iter().enumerate() {
                for i in 0..n {
                    let scan = alternatives.iter().any(|t| t.matches(&prepared, i));
                    assert_eq!(hits[w * n + i], scan, "{text}: word {w} at {i}");
                }
            }
        }
    }
}
