//! `[[rules.faq]]`: questions the config answers ("¿cuál es su horario?"), asked in a short
//! message, matched as whole respelled words ("a q hora abren" is "a que hora abren").

use super::Rules;
use crate::text;
use serde::Deserialize;
use std::sync::OnceLock;

/// The longest message (in words) taken as asking a question of the config.
const MAX_WORDS: usize = 15;

/// A question the config answers.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Faq {
    /// Phrases that ask it (matched folded, as whole words).
    pub phrases: Vec<String>,
    pub answer: String,
    /// The phrases respelled, as " word word ", made on first use: not again per message.
    #[serde(skip)]
    respelled: OnceLock<Vec<String>>,
}

impl Faq {
    pub fn new(phrases: Vec<String>, answer: String) -> Faq {
        Faq {
            phrases,
            answer,
            respelled: OnceLock::new(),
        }
    }

    fn respelled(&self) -> &[String] {
        self.respelled.get_or_init(|| {
            self.phrases
                .iter()
                .map(|p| spaced(&text::tokens(p)))
                .collect()
        })
    }
}

/// Words as " word word ": a phrase is in a message when its spaced form is in the message's.
fn spaced(words: &[String]) -> String {
    let mut out = String::with_capacity(words.iter().map(|w| w.len() + 1).sum::<usize>() + 1);
    out.push(' ');
    for w in words {
        out.push_str(w);
        out.push(' ');
    }
    out
}

impl Rules {
    /// The answer of the config's question asked in a short message, if any.
    pub fn faq_answer(&self, message: &str) -> Option<&str> {
        let words = text::tokens(message);
        if words.len() > MAX_WORDS {
            return None;
        }
        let said = spaced(&words);
        self.faq
            .iter()
            .find(|f| f.respelled().iter().any(|p| said.contains(p.as_str())))
            .map(|f| f.answer.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_question_is_found_as_whole_respelled_words_in_a_short_message() {
        let mut rules = crate::testing::rules();
        rules.faq = vec![Faq::new(
            vec!["a que hora abren".into(), "horario".into()],
            "De 9 a 18 h.".into(),
        )];
        assert_eq!(
            rules.faq_answer("oye a q hora abren?"),
            Some("De 9 a 18 h.")
        );
        assert_eq!(rules.faq_answer("cual es su HORARIO"), Some("De 9 a 18 h."));
        assert_eq!(
            rules.faq_answer("horarios de pago"),
            None,
            "whole words only"
        );
        let long = format!("{} horario", "bla ".repeat(MAX_WORDS));
        assert_eq!(
            rules.faq_answer(&long),
            None,
            "a long message is not a question"
        );
    }
}
