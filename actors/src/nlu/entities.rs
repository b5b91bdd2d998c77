//! The entity extractors: zone, plan, name, since when, modem restarted, kind of fault. Each
//! reads the whole utterance and returns what it finds where it stands.

use super::fuzzy::{distance, has_any, initial, near, sound, starts_any};
use crate::model::IncidentKind;
use crate::rules::{Rules, Zone};
use crate::text;

/// Whether the word at `i` is "este" used as "this" ("este mes"), not as the zone: the zone
/// follows "la", "zona", "colonia"..., or ends the sentence.
pub(crate) fn demonstrative(words: &[&str], i: usize) -> bool {
    let zone_before = i.checked_sub(1).is_some_and(|j| {
        matches!(
            words[j],
            "la" | "zona" | "colonia" | "col" | "rumbo" | "al" | "hacia"
        )
    });
    words[i] == "este" && !zone_before && i + 1 < words.len()
}

/// Whether a typed word is a zone's word: with the typo tolerance of the rules for letters
/// missing, extra or swapped ("Cerro Blaco"), but not for changed first letters or changed
/// letters in short words ("mañana" is not "santana", "cliente" is not "oriente").
fn zone_word_near(typed: &str, word: &str) -> bool {
    let tol = text::tolerance(typed.len().min(word.len()));
    near(typed, word)
        || sound(typed) == sound(word)
        || (initial(typed.as_bytes()) == initial(word.as_bytes())
            && distance(typed, word, tol, false) <= tol)
}

/// Where the zone found by [`Rules::find_zone`] stands among the folded words, with the
/// stricter typo tolerance of the lexicon.
pub(crate) fn zone_span(zone: &Zone, words: &[&str]) -> Option<(usize, usize)> {
    let mut best: Option<(usize, usize, usize)> = None; // errors, start, len
    for alias in std::iter::once(&zone.name).chain(zone.aliases.iter()) {
        let folded = text::fold(alias);
        let alias_words: Vec<&str> = folded.split(' ').filter(|w| !w.is_empty()).collect();
        if alias_words.is_empty() || alias_words.len() > words.len() {
            continue;
        }
        for (start, window) in words.windows(alias_words.len()).enumerate() {
            let mut errors = 0;
            let ok = window.iter().zip(&alias_words).all(|(t, w)| {
                if t == w {
                    true
                } else if w.len() >= 5 && zone_word_near(t, w) {
                    errors += 1;
                    true
                } else {
                    false
                }
            });
            let better = match best {
                None => true,
                Some((e, _, l)) => errors < e || (errors == e && alias_words.len() > l),
            };
            if ok && better {
                best = Some((errors, start, alias_words.len()));
            }
        }
    }
    best.map(|(_, start, len)| (start, len))
}

pub(crate) fn is_ticket(t: &str) -> bool {
    t.strip_prefix("inc")
        .is_some_and(|rest| !rest.is_empty() && rest.chars().all(|c| c.is_ascii_digit()))
}

/// A ticket id among the folded words ("inc-000123", "INC 123", "folio 123") as stored.
pub fn find_ticket(words: &[&str]) -> Option<String> {
    words.iter().enumerate().find_map(|(i, w)| {
        let digits = if is_ticket(w) {
            w.strip_prefix("inc")
        } else if matches!(*w, "inc" | "folio" | "ticket" | "reporte") {
            words.get(i + 1).copied()
        } else {
            None
        }?;
        if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse::<u64>().ok().map(crate::store::incident_id)
    })
}

/// A phone number: 10 to 13 digits, typed together or in groups ("442 123 4567",
/// "(464) 112-33-44", "+52 1 464 ...").
pub fn find_phone(utterance: &str) -> Option<String> {
    let mut digits = String::new();
    let mut best: Option<String> = None;
    let mut flush = |digits: &mut String| {
        if (10..=13).contains(&digits.len()) && best.is_none() {
            best = Some(std::mem::take(digits));
        }
        digits.clear();
    };
    let mut gap = 0;
    for c in utterance.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            gap = 0;
        } else if matches!(c, ' ' | '-' | '.' | '(' | ')' | '+') && !digits.is_empty() && gap < 2 {
            gap += 1;
        } else {
            flush(&mut digits);
            gap = 0;
        }
    }
    flush(&mut digits);
    best
}

/// A plan named by speed ("50 megas", "el de 100", "plan 20") or by name ("premium"), with
/// the position of the token that names it.
pub(crate) fn find_plan_at(tokens: &[String], rules: &Rules) -> Option<(usize, u32)> {
    for (i, t) in tokens.iter().enumerate() {
        let num = t
            .strip_suffix("mb")
            .or_else(|| t.strip_suffix("megas"))
            .or_else(|| t.strip_suffix("mbps"))
            .or_else(|| t.strip_suffix("m"))
            .unwrap_or(t);
        if let Ok(n) = num.parse::<u32>() {
            if rules.plan(n).is_some() {
                let prev = i.checked_sub(1).map(|j| tokens[j].as_str());
                let next = tokens.get(i + 1).map(String::as_str);
                let unit = next.is_some_and(|n| n == "megas" || n == "mega") || num != t;
                let context = matches!(
                    prev,
                    Some("de" | "plan" | "el" | "los" | "paquete" | "a" | "al")
                );
                let after_count =
                    matches!(next, Some("minutos" | "min" | "dias" | "horas" | "pesos"));
                if (unit || context) && !after_count {
                    return Some((i, n));
                }
            }
        }
        if t.len() >= 5 {
            if let Some(plan) = rules.plan_by_name(t) {
                return Some((i, plan.mbps));
            }
        }
    }
    None
}

/// What kind of failure an utterance describes, from its words alone (the intent decides
/// whether it is a report at all).
pub(crate) fn incident_kind(tokens: &[String]) -> Option<IncidentKind> {
    let has = |words: &str| has_any(tokens, words);
    let starts = |stems: &str| starts_any(tokens, stems);
    let pair = |a: &str, b: &str| tokens.windows(2).any(|w| w[0] == a && w[1] == b);
    // "se cae", "se me va", "se está cortando".
    let after_se = |words: &str| {
        tokens
            .iter()
            .enumerate()
            .any(|(i, t)| t == "se" && has_any(&tokens[i + 1..(i + 3).min(tokens.len())], words))
    };
    let intermittent = starts("intermiten inestab microcort desconecta")
        || has("cortes caidas ratos ratito ratitos regresa vuelve")
        || after_se("cae caia va iba corta cortan corto cortando quita pierde")
        || pair("cada", "rato")
        || pair("va", "y");
    if intermittent {
        return Some(IncidentKind::Intermittent);
    }
    let hardware = starts("modem router ruter antena cable foco luz luces poste fibra");
    let damage = starts(
        "romp roto rota quem cortad colg pelad mord parpade roj naranja apagad movio ruido huele \
         humo chispa moj prende enciende",
    );
    if hardware && damage {
        return Some(IncidentKind::Other);
    }
    let slow = starts("lent lague lagea congel trabad")
        || has("lag ping traba trabando tarda tardan tardado demora velocidad")
        || (has("megas") && has("pasa llegan llega apenas"));
    if slow {
        return Some(IncidentKind::Slow);
    }
    let neg = has("no sin nada ni");
    // Words of the service, and how they sound ("cenal" is "señal"), computed once.
    static SERVICE: std::sync::OnceLock<Vec<(&str, String)>> = std::sync::OnceLock::new();
    let service_words = SERVICE.get_or_init(|| {
        "internet servicio senal conexion wifi funciona sirve jala conecta"
            .split(' ')
            .map(|w| (w, sound(w)))
            .collect()
    });
    let service = has("red inter")
        || tokens.iter().any(|t| {
            let heard = sound(t);
            service_words.iter().any(|(w, s)| *s == heard || near(t, w))
        });
    let down = has("cayo caido fue murio");
    if (neg && service) || down {
        return Some(IncidentKind::NoService);
    }
    None
}

/// Words that name a moment or a span of time (folded).
const TIME_WORDS: &[&str] = &[
    "hoy",
    "ayer",
    "anoche",
    "antier",
    "anteayer",
    "manana",
    "tarde",
    "noche",
    "madrugada",
    "ahorita",
    "rato",
    "horas",
    "hora",
    "dias",
    "dia",
    "semana",
    "semanas",
    "mes",
    "meses",
    "lunes",
    "martes",
    "miercoles",
    "jueves",
    "viernes",
    "sabado",
    "domingo",
    "enero",
    "febrero",
    "marzo",
    "abril",
    "mayo",
    "junio",
    "julio",
    "agosto",
    "septiembre",
    "octubre",
    "noviembre",
    "diciembre",
    "temprano",
    "minutos",
    "finde",
    "pasado",
    "pasada",
    "ultimo",
    "ultimos",
    "varios",
    "siempre",
];

/// Whether a folded word names a moment or a span of time, or is a number.
pub fn is_time_word(word: &str) -> bool {
    TIME_WORDS.contains(&word) || (!word.is_empty() && word.bytes().all(|b| b.is_ascii_digit()))
}

/// Since when, if the utterance says it ("desde ayer", "hace 3 días"; "desde casa" is not).
pub(crate) fn find_since(folded: &str) -> Option<String> {
    let words: Vec<&str> = folded.split(' ').collect();
    for (i, w) in words.iter().enumerate() {
        if matches!(*w, "desde" | "hace") {
            let phrase: Vec<&str> = words[i..].iter().take(6).copied().collect();
            if !phrase.iter().skip(1).take(3).any(|w| is_time_word(w)) {
                continue;
            }
            let stop = phrase
                .iter()
                .skip(1)
                .position(|w| matches!(*w, "y" | "ya" | "no" | "pero" | "q" | "que"))
                .map(|p| p + 1)
                .unwrap_or(phrase.len());
            if stop > 1 {
                return Some(phrase[..stop].join(" "));
            }
        }
    }
    for w in ["ayer", "hoy", "anoche", "antier", "ahorita"] {
        if words.contains(&w) {
            return Some(w.to_string());
        }
    }
    None
}

pub(crate) fn modem_restarted(tokens: &[String]) -> Option<bool> {
    let pos = tokens.iter().position(|t| {
        text::fuzzy_prefix(t, "reinici")
            || text::fuzzy_prefix(t, "resete")
            || t == "desconecte"
            || t == "apague"
    })?;
    let before = &tokens[pos.saturating_sub(3)..pos];
    let negated = before
        .iter()
        .any(|t| t == "no" || t == "nunca" || t == "todavia" || t == "aun");
    Some(!negated)
}
