//! What a message says about the conversation itself, whatever flow is running: backing out,
//! yes, no, "siempre sí", the meaning of an emoji-only message, whether an answer is a date.
//! These are the repair patterns' triggers, written once for every flow.

use super::signal_words::*;
use crate::nlu::entities::is_time_word;
use crate::text;

/// A message as seen by the repair patterns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    Cancel,
    Yes,
    No,
    Resume,
    /// An emoji-only greeting (👋).
    Greeting,
    /// A thanks alone ("gracias", 🙏).
    Thanks,
    /// Taking leave ("adiós", "bye").
    Farewell,
    /// An emoji-only complaint (😡 🤬 👎).
    Complaint,
}

/// The meaning of a message made of emoji only.
fn emoji_signal(message: &str) -> Option<Signal> {
    let symbols: Vec<char> = message
        .chars()
        .filter(|c| !c.is_whitespace() && !matches!(*c as u32, 0xFE0F | 0x200D | 0x1F3FB..=0x1F3FF))
        .collect();
    if symbols.is_empty() || symbols.iter().any(|c| c.is_alphanumeric()) {
        return None;
    }
    let has = |set: &[char]| symbols.iter().any(|c| set.contains(c));
    if has(&['😡', '🤬', '😠', '👎', '💢', '😤']) {
        Some(Signal::Complaint)
    } else if has(&['👍', '👌', '✅', '✔', '🆗', '💯']) {
        Some(Signal::Yes)
    } else if has(&['👋', '🖐', '✋']) {
        Some(Signal::Greeting)
    } else if has(&['🙏', '🤝', '❤', '😊', '🥰']) {
        Some(Signal::Thanks)
    } else if has(&['❌', '🚫', '✖']) {
        Some(Signal::No)
    } else {
        None
    }
}

fn is_one_of(folded: &str, list: &[&str]) -> bool {
    list.contains(&folded)
}

/// The repair signal of a whole message, if it is one.
pub fn signal(message: &str) -> Option<Signal> {
    if let Some(s) = emoji_signal(message) {
        return Some(s);
    }
    let folded = text::fold(message);
    let mut squeezed = String::with_capacity(folded.len());
    for (i, word) in folded.split(' ').enumerate() {
        if i > 0 {
            squeezed.push(' ');
        }
        squeezed.push_str(&text::squeeze(word));
    }
    let f = squeezed.as_str();
    let words = f.split(' ').count();
    if is_one_of(f, RESUME) || (words <= 5 && contains_phrase_any(f, &["siempre si"])) {
        Some(Signal::Resume)
    } else if is_one_of(f, CANCEL) {
        Some(Signal::Cancel)
    } else if is_one_of(f, THANKS) {
        Some(Signal::Thanks)
    } else if is_one_of(f, FAREWELL) {
        Some(Signal::Farewell)
    } else if is_one_of(f, YES) || short_yes(message, f) {
        Some(Signal::Yes)
    } else if is_one_of(f, NO) || emphatic_no(message, f) {
        Some(Signal::No)
    } else if contains_phrase_any(f, CANCEL_CUES) && f.split(' ').count() <= 14 {
        Some(Signal::Cancel)
    } else {
        None
    }
}

/// A "no" that starts a longer answer ("no, mejor así", "no no, me quedo con ustedes").
fn emphatic_no(message: &str, folded: &str) -> bool {
    let start = message.trim_start().to_lowercase();
    (start.starts_with("no,") || start.starts_with("no.") || folded.starts_with("no no "))
        && !message.contains('?')
}

/// A short message that says yes among other words ("ya sí, confírmalo", "así déjalo, sí
/// confírmalo"), with nothing that takes it back and no question.
fn short_yes(message: &str, folded: &str) -> bool {
    let words: Vec<&str> = folded.split(' ').collect();
    words.len() <= 6
        && !message.contains('?')
        && words.iter().any(|w| YES_WORDS.contains(w))
        && !words.iter().any(|w| NOT_YES.contains(w))
}

/// Whether a message asks something ("¿llegan a la sur?", "cuánto cuesta el de 100"), as
/// opposed to stating ("es la zona sur").
pub fn is_question(message: &str) -> bool {
    const ASKS: &[&str] = &[
        "que", "cual", "cuales", "cuanto", "cuanta", "cuando", "donde", "como", "llegan", "hay",
        "tienen", "cubren", "manejan", "dan",
    ];
    if message.contains('?') || message.contains('¿') {
        return true;
    }
    let folded = text::fold(message);
    let mut words = folded
        .split(' ')
        .filter(|w| !matches!(*w, "oye" | "y" | "oiga" | "una" | "pregunta"));
    words.next().is_some_and(|w| ASKS.contains(&w))
}

fn contains_phrase_any(f: &str, phrases: &[&str]) -> bool {
    phrases.iter().any(|p| text::has_phrase(f, p))
}

/// Whether an answer to "¿desde cuándo?" is a date or a duration ("ayer", "desde el lunes",
/// "hace 3 días", "como a las 5", "15 de mayo", "toda la semana").
pub fn is_when(message: &str) -> bool {
    // Money is never a date ("me cobran $999 al mes?"); a question is one only when it names
    // a moment ("¿desde ayer?").
    const MOMENTS: &[&str] = &[
        "desde", "hace", "hoy", "ayer", "anoche", "antier", "anteayer",
    ];
    let folded = text::fold(message);
    let words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
    if message.contains('$')
        || words
            .iter()
            .any(|w| matches!(*w, "pesos" | "peso" | "cobran" | "cobraron"))
    {
        return false;
    }
    if message.contains('?') && !words.iter().any(|w| MOMENTS.contains(w)) {
        return false;
    }
    !words.is_empty()
        && words.len() <= 12
        && words
            .iter()
            .any(|w| is_time_word(w) || matches!(*w, "desde" | "hace" | "nunca" | "fin"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backing_out_in_any_words() {
        for t in [
            "ya no",
            "mejor no",
            "luego",
            "olvídalo",
            "ahorita no",
            "no gracias",
            "Cancelar",
            "mejor no, ahorita no tengo dinero, luego les escribo",
        ] {
            assert_eq!(signal(t), Some(Signal::Cancel), "{t}");
        }
        assert_eq!(signal("siempre sí"), Some(Signal::Resume));
        assert_eq!(signal("bueno siempre si"), Some(Signal::Resume));
        assert_eq!(
            signal("no no, pensandolo bien me quedo con ustedes"),
            Some(Signal::No)
        );
        assert_ne!(signal("no tengo internet"), Some(Signal::No));
        assert_eq!(signal("no tengo internet"), None);
    }

    #[test]
    fn yes_no_and_emoji() {
        for t in ["sí", "ok", "dale", "va", "👍", "👌", "si confirmo", "siii"] {
            assert_eq!(signal(t), Some(Signal::Yes), "{t}");
        }
        assert_eq!(signal("no"), Some(Signal::No));
        for t in [
            "ya si, confirmalo",
            "asi dejalo, si confirmalo",
            "sí, adelante",
        ] {
            assert_eq!(signal(t), Some(Signal::Yes), "{t}");
        }
        for t in [
            "si pero cambia la zona",
            "si llegan a la sur?",
            "sí mejor el de 50",
        ] {
            assert_ne!(signal(t), Some(Signal::Yes), "{t}");
        }
        assert_eq!(signal("ok gracias"), Some(Signal::Thanks));
        assert_eq!(signal("adios"), Some(Signal::Farewell));
        assert_eq!(signal("👋"), Some(Signal::Greeting));
        assert_eq!(signal("🙏"), Some(Signal::Thanks));
        assert_eq!(signal("😡😡"), Some(Signal::Complaint));
    }

    #[test]
    fn dates_and_durations() {
        for t in [
            "ayer",
            "desde el lunes",
            "hace 3 días",
            "hoy en la mañana",
            "como 2 semanas",
        ] {
            assert!(is_when(t), "{t}");
        }
        for t in [
            "se va y viene el internet",
            "no se",
            "ok",
            "me cobran $999 al mes?",
        ] {
            assert!(!is_when(t), "{t}");
        }
    }
}
