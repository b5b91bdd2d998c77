//! People's names: found after the phrases that introduce them ("me llamo", "soy", "a nombre
//! de"), and checked when a message answers "¿cuál es tu nombre?". A name stops where the name
//! stops: at the first word that is a common word of the corpus and not a known given name or
//! surname ("soy fernando aguilar quisiera contratar" → "Fernando Aguilar").

use crate::text;
use std::collections::HashSet;

/// What tells a name from other words.
pub struct NameLexicon {
    /// Given names and surnames, folded (from `config/nlu/first_names.txt`, `surnames.txt`).
    known: HashSet<String>,
    /// Words customers use that are not names (from the corpus, less the known names).
    common: HashSet<String>,
}

/// Words that never belong to a name, whatever the corpus says.
const NEVER: &[&str] = &[
    "y", "de", "del", "la", "el", "los", "las", "en", "con", "para", "por", "a", "mi", "me", "te",
    "se", "su", "que", "q", "no", "si", "ok", "va", "sale", "gracias", "hola", "buenas", "quiero",
    "quisiera", "vivo", "soy", "estoy", "tengo", "cliente", "clienta", "nuevo", "nueva", "zona",
    "plan", "internet", "servicio", "porfa", "favor", "pero", "o", "u", "e", "al", "lo",
];

/// The phrases that introduce one's own name, folded.
const INTRODUCERS: &[&[&str]] = &[
    &["me", "llamo"],
    &["mi", "nombre", "es"],
    &["mi", "nombre"],
    &["a", "nombre", "de"],
    &["nombre", "de"],
    &["nombre"],
    &["de", "parte", "de"],
    &["le", "escribe"],
    &["les", "escribe"],
    &["habla"],
    &["soy"],
    &["apellido", "es"],
    &["es"],
];

impl NameLexicon {
    pub fn new(names: &str, common_words: impl IntoIterator<Item = String>) -> NameLexicon {
        let known: HashSet<String> = names
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .flat_map(|l| {
                text::fold(l)
                    .split(' ')
                    .map(String::from)
                    .collect::<Vec<_>>()
            })
            .collect();
        let common = common_words
            .into_iter()
            .filter(|w| !known.contains(w))
            .chain(NEVER.iter().map(|w| w.to_string()))
            .collect();
        NameLexicon { known, common }
    }

    /// Whether a folded word may be part of a name.
    fn name_word(&self, folded: &str) -> bool {
        folded.len() >= 2
            && folded.chars().all(|c| c.is_ascii_alphabetic())
            && !NEVER.contains(&folded)
            && (self.known.contains(folded) || !self.common.contains(folded))
    }

    /// A name the user gives for themselves, in title case.
    pub fn find(&self, utterance: &str) -> Option<String> {
        let words: Vec<&str> = utterance
            .split(|c: char| !(c.is_alphabetic() || c == '\''))
            .filter(|w| !w.is_empty())
            .collect();
        let folded: Vec<String> = words.iter().map(|w| text::fold(w)).collect();
        for intro in INTRODUCERS {
            let Some(pos) = folded
                .windows(intro.len())
                .position(|w| w.iter().zip(intro.iter()).all(|(a, b)| a == b))
            else {
                continue;
            };
            let start = pos + intro.len();
            let name: Vec<&str> = words[start..]
                .iter()
                .zip(&folded[start..])
                .take_while(|(_, f)| self.name_word(f))
                .map(|(w, _)| *w)
                .take(5)
                .collect();
            // "soy de la norte", "soy cliente": no name. "soy ana" needs "ana" to be a name.
            let weak = matches!(*intro, ["soy"] | ["habla"] | ["es"]);
            let sure = name.iter().any(|w| self.known.contains(&text::fold(w)));
            if name.is_empty() || (weak && !sure) {
                continue;
            }
            return Some(title_case(&name.join(" ")));
        }
        None
    }

    /// Whether a whole message, answering "¿cuál es tu nombre?", is a plausible name: one to
    /// five words that may be names, at least one of them a known name or none of them a
    /// common word ("ok", "sí", "gracias", a question are not names).
    pub fn plausible(&self, message: &str) -> Option<String> {
        if message.contains('?') || message.chars().any(|c| c.is_ascii_digit()) {
            return None;
        }
        let words: Vec<&str> = message
            .split(|c: char| c.is_whitespace() || matches!(c, ',' | '.' | '!'))
            .filter(|w| !w.is_empty())
            .collect();
        if !(1..=5).contains(&words.len()) {
            return None;
        }
        let folded: Vec<String> = words.iter().map(|w| text::fold(w)).collect();
        // "María de los Ángeles Peña": particles inside a name, never at its ends.
        let inside = |i: usize| i > 0 && i + 1 < folded.len();
        let all_names = folded.iter().enumerate().all(|(i, f)| {
            self.name_word(f)
                || (inside(i) && matches!(f.as_str(), "de" | "del" | "la" | "los" | "las"))
        });
        let letters = words.iter().all(|w| {
            w.chars()
                .all(|c| c.is_alphabetic() || matches!(c, '\'' | '-'))
        });
        (all_names && letters).then(|| title_case(&words.join(" ")))
    }
}

/// "juan pérez" → "Juan Pérez".
pub fn title_case(s: &str) -> String {
    s.split_whitespace()
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f
                    .to_uppercase()
                    .chain(c.flat_map(char::to_lowercase))
                    .collect(),
                None => String::new(),
            }
        })
        .collect::<Vec<String>>()
        .join(" ")
}
