//! Places that are not our zones: the municipalities and main localities of Guanajuato and its
//! neighbours (`config/nlu/places.tsv`), and what follows "colonia", "col.", "fracc." and the
//! like. A place lets the bot say "Todavía no llegamos a Irapuato" instead of "no entendí".

use crate::text;

/// One known place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Place {
    /// As written in the gazetteer ("Irapuato", "San Miguel de Allende").
    pub name: String,
    pub state: String,
    folded: Vec<String>,
}

/// The gazetteer.
#[derive(Default)]
pub struct Gazetteer {
    places: Vec<Place>,
    /// The places (indices) whose name starts with a word, for names of more than three
    /// letters or of several words (shorter one-word names are too often other words).
    by_first_word: std::collections::HashMap<String, Vec<usize>>,
}

/// Words that introduce a colonia or community by name.
const INTRODUCERS: &[&str] = &[
    "colonia",
    "col",
    "fraccionamiento",
    "fracc",
    "fracionamiento",
    "frac",
    "comunidad",
    "rancho",
    "ejido",
    "barrio",
    "localidad",
    "pueblo",
];

/// Words that end a place name after an introducer.
const STOP: &[&str] = &[
    "y", "pero", "que", "q", "hay", "tienen", "llegan", "llega", "si", "no", "me", "quiero", "en",
    "por", "para", "ya", "donde", "cuanto", "cual", "con", "es", "esta", "porfa", "gracias",
];

/// A malformed line of the gazetteer, with its number.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("places gazetteer line {line}: {problem}")]
pub struct GazetteerError {
    pub line: usize,
    pub problem: String,
}

impl Gazetteer {
    /// Parses `name<TAB>state<TAB>kind` lines (`#` comments allowed).
    pub fn parse(tsv: &str) -> Result<Gazetteer, GazetteerError> {
        let mut places = Vec::new();
        for (i, line) in tsv.lines().enumerate() {
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let f: Vec<&str> = line.split('\t').collect();
            if f.len() != 3 || f[0].trim().is_empty() {
                return Err(GazetteerError {
                    line: i + 1,
                    problem: "expected name, state and kind separated by tabs".into(),
                });
            }
            places.push(Place {
                name: f[0].trim().to_string(),
                state: f[1].trim().to_string(),
                folded: text::fold(f[0]).split(' ').map(String::from).collect(),
            });
        }
        let mut by_first_word = std::collections::HashMap::<String, Vec<usize>>::new();
        for (i, p) in places.iter().enumerate() {
            let first = p.folded.first().filter(|f| !f.is_empty());
            if let Some(first) = first.filter(|f| p.folded.len() > 1 || f.len() > 3) {
                by_first_word.entry(first.clone()).or_default().push(i);
            }
        }
        Ok(Gazetteer {
            places,
            by_first_word,
        })
    }

    /// The place named in an utterance, if any: a gazetteer entry, or the name after
    /// "colonia", "fracc."... Words that name one of our zones are not a place here.
    pub fn find(&self, utterance: &str) -> Option<String> {
        self.find_in(utterance, &text::fold(utterance))
    }

    /// [`Gazetteer::find`], with the utterance already folded ([`text::fold`]).
    pub(crate) fn find_in(&self, utterance: &str, folded: &str) -> Option<String> {
        let words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
        // The longest name, and of those the first said ("León, Guanajuato" is León).
        let mut best: Option<(usize, usize, &Place)> = None;
        for (at, word) in words.iter().enumerate() {
            for &i in self.by_first_word.get(*word).into_iter().flatten() {
                let place = &self.places[i];
                let n = place.folded.len();
                let here = words
                    .get(at..at + n)
                    .is_some_and(|w| w.iter().zip(&place.folded).all(|(a, b)| a == b));
                if here && best.is_none_or(|(bn, _, _)| n > bn) {
                    best = Some((n, at, place));
                }
            }
        }
        if let Some((_, _, place)) = best {
            return Some(place.name.clone());
        }
        let original: Vec<&str> = utterance
            .split(|c: char| !(c.is_alphanumeric() || c == '\''))
            .filter(|w| !w.is_empty())
            .collect();
        let ofolded: Vec<String> = original.iter().map(|w| text::fold(w)).collect();
        let pos = ofolded
            .iter()
            .position(|w| INTRODUCERS.contains(&w.as_str()))?;
        let name: Vec<&str> = original[pos + 1..]
            .iter()
            .zip(&ofolded[pos + 1..])
            .skip_while(|(_, f)| matches!(f.as_str(), "la" | "el" | "los" | "las" | "de"))
            .take_while(|(_, f)| !STOP.contains(&f.as_str()))
            .map(|(w, _)| *w)
            .take(4)
            .collect();
        (!name.is_empty()).then(|| {
            let kind = super::names::title_case(original[pos]);
            format!("{} {}", kind, super::names::title_case(&name.join(" ")))
                .replace("Col ", "Col. ")
                .replace("Fracc ", "Fracc. ")
        })
    }
}
