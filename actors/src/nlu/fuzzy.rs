//! Typo-tolerant word matching for Spanish as it is typed on a phone: how words sound, and
//! how far a typed word may be from a known one and still be it.

use crate::text;

/// Whether any token is one of the space-separated `words`.
pub(crate) fn has_any(tokens: &[String], words: &str) -> bool {
    // One pass over the list; the length and the first letter decide most comparisons
    // without comparing strings.
    let bytes = words.as_bytes();
    let mut start = 0;
    while start < bytes.len() {
        let end = bytes[start..]
            .iter()
            .position(|&b| b == b' ')
            .map_or(bytes.len(), |p| start + p);
        let w = &bytes[start..end];
        if tokens
            .iter()
            .any(|t| t.len() == w.len() && t.as_bytes().first() == w.first() && t.as_bytes() == w)
        {
            return true;
        }
        start = end + 1;
    }
    false
}

/// Whether any token starts with one of the space-separated `stems`.
pub(crate) fn starts_any(tokens: &[String], stems: &str) -> bool {
    stems.split(' ').any(|s| {
        let first = s.as_bytes().first();
        tokens
            .iter()
            .any(|t| t.as_bytes().first() == first && t.starts_with(s))
    })
}

/// How many typos a word of this length may carry: stricter than [`text::tolerance`], since
/// many short Spanish words are one letter apart ("cuesta", "cuenta").
pub(crate) fn typo_tolerance(len: usize) -> usize {
    match len {
        0..=5 => 0,
        6..=9 => 1,
        _ => 2,
    }
}

/// The first sound of a word, for the rule that a typo rarely changes it: a silent "h" is
/// skipped, and "b"/"v" and "s"/"c"/"z" are the same.
pub(crate) fn initial(w: &[u8]) -> u8 {
    let c = match w {
        [b'h', c, ..] => *c,
        [c, ..] => *c,
        [] => 0,
    };
    match c {
        b'v' => b'b',
        b'z' | b'c' => b's',
        c => c,
    }
}

/// Whether a typed token matches a lexicon word, allowing for typos but not for another
/// inflection ("facturado" is not "factura"; a plural is fine).
pub(crate) fn near(token: &str, word: &str) -> bool {
    if token == word {
        return true;
    }
    let (t, w) = (token.as_bytes(), word.as_bytes());
    let (long, short) = if t.len() > w.len() { (t, w) } else { (w, t) };
    if short.len() >= 3 && long.starts_with(short) {
        return matches!(&long[short.len()..], b"s" | b"es");
    }
    let tol = typo_tolerance(short.len());
    if tol == 0 || long.len() - short.len() > tol || initial(t) != initial(w) {
        return false;
    }
    // Only the last letter differs: "facturo" for "factura" is another form, not a typo.
    if t.len() == w.len() && t[..t.len() - 1] == w[..w.len() - 1] {
        return false;
    }
    distance(token, word, tol, short.len() >= 7) <= tol
}

/// Whether a typed token starts with a stem, allowing for typos in stems of six letters or
/// more, as long as the stem's last letter is where it should be ("regsitrarme" has
/// "registr*", "contrasena" has not "contrat*").
pub(crate) fn near_prefix(token: &str, stem: &str) -> bool {
    if token.starts_with(stem) {
        return true;
    }
    let (t, s) = (token.as_bytes(), stem.as_bytes());
    let n = s.len();
    if n < 6 || t.len() + 1 < n || initial(t) != initial(s) {
        return false;
    }
    let tol = typo_tolerance(n);
    (n - 1..=n + 1).any(|len| {
        len <= t.len()
            && t[len - 1] == s[n - 1]
            && token.is_char_boundary(len)
            && distance(&token[..len], stem, tol, n >= 7) <= tol
    })
}

/// Optimal-string-alignment distance, bounded by `max`, without allocating for the short
/// words of the lexicon (the tokens are ASCII after folding). Without `substitution`, a
/// changed letter costs two: short words one letter apart are more often
/// other words ("cuesta", "cuenta"; "tarda", "tarea") than typos, while a letter missing,
/// doubled or swapped is a typo.
pub(crate) fn distance(a: &str, b: &str, max: usize, substitution: bool) -> usize {
    let changed = if substitution { 1 } else { 2 };
    if !substitution && (a.len() >= text::SHORT_WORD || b.len() >= text::SHORT_WORD) {
        return max + 1;
    }
    text::short_distance(a.as_bytes(), b.as_bytes(), max, changed)
}

/// How a word sounds, for the spellings that Spanish sounds allow: a silent "h" is dropped,
/// "v" is "b", "z" and "c" before "e"/"i" are "s", "ll" is "y", and doubled letters but "rr"
/// are one ("servisio" sounds as "servicio", "yegan" as "llegan", "aser" as "hacer", "lentoo" as
/// "lento").
pub(crate) fn sound(word: &str) -> String {
    let b = word.as_bytes();
    let mut out = String::with_capacity(b.len());
    let mut last = 0u8;
    for (i, &c) in b.iter().enumerate() {
        let next = b.get(i + 1).copied();
        let mapped = match c {
            b'h' if last != b'c' => continue,
            b'v' => b'b',
            b'z' => b's',
            b'c' if matches!(next, Some(b'e' | b'i')) => b's',
            b'l' if last == b'l' => {
                out.pop();
                last = b'y';
                out.push('y');
                continue;
            }
            c => c,
        };
        if mapped != last || mapped == b'r' || !mapped.is_ascii_alphabetic() {
            out.push(char::from(mapped));
        }
        last = mapped;
    }
    out
}

/// A token as the lexicon expects it: the respelled word, except that the few words that
/// respelling turns into a yes or a phone ("va", "sale", "numero") keep their meaning here
/// ("se va el internet", "¿cuánto sale?", "número de reporte").
pub(crate) fn nlu_token(word: &str) -> String {
    let respelled = text::respell(word);
    if respelled == "ok" || respelled == "telefono" {
        let squeezed = text::squeeze(word);
        if matches!(squeezed.as_ref(), "va" | "sale" | "numero") {
            return squeezed.into_owned();
        }
    }
    respelled.into_owned()
}
