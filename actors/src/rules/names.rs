//! What customers type matched against the names of zones and plans: accent-, case- and
//! typo-tolerant, multi-word names as phrases.

use super::{Plan, Rules, Zone};
use crate::text;

/// One folded word of a zone's or a plan's name, with its [`text::letter_set`].
#[derive(Clone, Debug, Default)]
pub(super) struct NameWord {
    text: String,
    letters: u32,
}

impl NameWord {
    fn new(word: &str) -> Self {
        Self {
            text: word.to_string(),
            letters: text::letter_set(word),
        }
    }
}

impl Rules {
    /// The plan whose name matches a typed word ("basico", "estandar", "premium").
    pub fn plan_by_name(&self, word: &str) -> Option<&Plan> {
        let w = text::fold(word);
        let names = self.plan_words.get_or_init(|| {
            self.plans
                .iter()
                .map(|p| NameWord::new(&text::fold(&p.name)))
                .collect()
        });
        let letters = text::letter_set(&w);
        self.plans.iter().zip(names).find_map(|(p, name)| {
            (name.text == w
                || text::could_be_typo(&name.text, name.letters, &w, letters)
                    && text::fuzzy_eq(&w, &name.text))
            .then_some(p)
        })
    }

    /// Finds a zone named anywhere in a text, accent-, case- and typo-tolerant.
    /// Multi-word names and aliases ("cerro blanco", "santa ana") are matched as phrases.
    pub fn find_zone(&self, text_in: &str) -> Option<&Zone> {
        let folded = text::fold(text_in);
        let words: Vec<&str> = folded.split(' ').filter(|t| !t.is_empty()).collect();
        self.find_zone_in(&words)
    }

    /// [`Rules::find_zone`] over words already folded ([`text::fold`]).
    pub fn find_zone_in(&self, toks: &[&str]) -> Option<&Zone> {
        let aliases = self.zone_words.get_or_init(|| {
            self.zones
                .iter()
                .enumerate()
                .flat_map(|(i, zone)| {
                    std::iter::once(&zone.name)
                        .chain(zone.aliases.iter())
                        .map(move |alias| {
                            let words = text::fold(alias).split(' ').map(NameWord::new).collect();
                            (i, words)
                        })
                })
                .collect()
        });
        let letters: Vec<u32> = toks.iter().map(|t| text::letter_set(t)).collect();
        let mut best: Option<(usize, usize, &Zone)> = None; // (errors, -len), zone
        for (i, words) in aliases {
            let zone = &self.zones[*i];
            if words.is_empty() || words.len() > toks.len() {
                continue;
            }
            for start in 0..=toks.len() - words.len() {
                let mut errors = 0;
                let ok = words.iter().enumerate().all(|(k, w)| {
                    let t = toks[start + k];
                    if letters[start + k] == w.letters && t == w.text {
                        true
                    } else if w.text.len() >= 5
                        && text::could_be_typo(&w.text, w.letters, t, letters[start + k])
                        && text::fuzzy_eq(t, &w.text)
                    {
                        errors += 1;
                        true
                    } else {
                        false
                    }
                });
                if ok {
                    let len = words.iter().map(|w| w.text.len()).sum::<usize>();
                    let better = match best {
                        None => true,
                        Some((e, l, _)) => errors < e || (errors == e && len > l),
                    };
                    if better {
                        best = Some((errors, len, zone));
                    }
                }
            }
        }
        best.map(|(_, _, z)| z)
    }

    /// The zones closest to something typed that matched none, best first (for suggestions).
    pub fn suggest_zones(&self, typed: &str, n: usize) -> Vec<&Zone> {
        let t = text::fold(typed);
        let mut scored: Vec<(usize, &Zone)> = self
            .zones
            .iter()
            .map(|z| {
                let d = std::iter::once(&z.name)
                    .chain(z.aliases.iter())
                    .map(|a| {
                        let a = text::fold(a);
                        let prefix = a.starts_with(&t) || t.starts_with(&a);
                        if prefix && !t.is_empty() {
                            0
                        } else {
                            text::edit_distance(&t, &a, 32)
                        }
                    })
                    .min()
                    .unwrap_or(usize::MAX);
                (d, z)
            })
            .collect();
        scored.sort_by_key(|(d, z)| (*d, z.name.clone()));
        let limit = (t.len() / 2).max(2);
        scored
            .into_iter()
            .filter(|(d, _)| *d <= limit)
            .take(n)
            .map(|(_, z)| z)
            .collect()
    }
}
