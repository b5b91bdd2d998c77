//! The matcher of the hand-written [`super::lexicon`]: each intent's weighted patterns are
//! matched against the respelled tokens with typo tolerance, entities marked where they stand
//! (`@zone`, `@plan`...), and scores corrected where one intent's words read differently next
//! to another's. The scores are features of the classifier, not its answer.

use super::entities::{demonstrative, find_plan_at, is_ticket, zone_span};
use super::fuzzy::{has_any, near, near_prefix, nlu_token, sound};
use super::lexicon::LEXICON;
use crate::model::{Entities, Intent};
use crate::rules::Rules;
use crate::text;
use Intent::*;

/// The compiled lexicon: stateless, cheap, shared.
pub struct Lexicon {
    compiled: Vec<CompiledPattern>,
}

struct CompiledPattern {
    intent: Intent,
    /// Alternative phrases; each phrase is a list of words, each word a list of alternatives.
    phrases: Vec<Vec<Vec<Term>>>,
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

fn compile_pattern(pattern: &str) -> Vec<Vec<Vec<Term>>> {
    pattern
        .split(',')
        .map(|phrase| {
            phrase
                .split_whitespace()
                .map(|word| {
                    word.split('|')
                        .filter(|a| !a.is_empty())
                        .map(compile_term)
                        .collect()
                })
                .collect::<Vec<Vec<Term>>>()
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
struct Prepared {
    tokens: Vec<String>,
    /// The [`sound`] of each token.
    sounds: Vec<String>,
    marks: Vec<u8>,
    function: Vec<bool>,
    entities: Entities,
}

impl Default for Lexicon {
    fn default() -> Self {
        Self::new()
    }
}

impl Lexicon {
    pub fn new() -> Self {
        let compiled = LEXICON
            .iter()
            .map(|pat| CompiledPattern {
                intent: pat.intent,
                weight: pat.weight,
                phrases: compile_pattern(pat.pattern),
            })
            .collect();
        Self { compiled }
    }

    /// The score of every intent (in the order of [`Intent::ALL`]) after the corrections.
    fn scores(&self, prepared: &Prepared) -> [f32; Intent::ALL.len()] {
        let mut scores = [0f32; Intent::ALL.len()];
        for pat in &self.compiled {
            if pat.phrases.iter().any(|ph| phrase_matches(ph, prepared)) {
                scores[intent_index(pat.intent)] += pat.weight;
            }
        }
        adjust(&mut scores, prepared);
        scores
    }

    /// Every intent's lexicon score for an utterance (in the order of [`Intent::ALL`]).
    pub fn scores_of(&self, utterance: &str, rules: &Rules) -> [f32; Intent::ALL.len()] {
        let prepared = prepare(utterance, rules);
        self.scores(&prepared)
    }
}

/// Score corrections that need more than one pattern's view.
fn adjust(scores: &mut [f32; Intent::ALL.len()], prepared: &Prepared) {
    let idx = intent_index;
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
    let content = [
        Register,
        Plans,
        Coverage,
        ReportIncident,
        IncidentStatus,
        Billing,
        HumanAgent,
        Stats,
        ClientSearch,
        Finance,
        OutOfScope,
    ]
    .iter()
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

fn intent_index(intent: Intent) -> usize {
    Intent::ALL.iter().position(|i| *i == intent).unwrap_or(0)
}

/// Whether the words of a phrase appear in order in the tokens, each close enough to the
/// previous one (see [`MAX_GAP`] and [`MAX_CONTENT_GAP`]).
fn phrase_matches(terms: &[Vec<Term>], prepared: &Prepared) -> bool {
    fn from(terms: &[Vec<Term>], p: &Prepared, start: usize, first: bool) -> bool {
        let Some((alts, rest)) = terms.split_first() else {
            return true;
        };
        let (mut gap, mut content_gap) = (0, 0);
        for i in start..p.tokens.len() {
            if alts.iter().any(|t| t.matches(p, i)) && from(rest, p, i + 1, false) {
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
    from(terms, prepared, 0, true)
}

fn prepare(utterance: &str, rules: &Rules) -> Prepared {
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
        tokens,
        sounds,
        marks,
        function,
        entities,
    }
}
