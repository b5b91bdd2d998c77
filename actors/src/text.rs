//! Text utilities for Spanish as it is typed on a phone: normalization (accents, case,
//! punctuation, repeated letters, phone spellings) and typo-tolerant matching.

use std::borrow::Cow;

/// Lowercases, strips accents, turns punctuation into spaces and squeezes whitespace.
/// Keeps ASCII letters, digits and spaces only (emojis and symbols are dropped).
pub fn fold(text: &str) -> String {
    if text.contains(';') {
        return fold_plain(&keyboard_fix(text));
    }
    fold_plain(text)
}

/// A semicolon typed between two letters is an "ñ" on a keyboard without it ("se;al" is
/// "señal", "ma;ana" is "mañana"): Spanish keyboards have "ñ" where English ones have ";".
pub fn keyboard_fix(text: &str) -> Cow<'_, str> {
    if !text.contains(';') {
        return text.into();
    }
    let chars: Vec<char> = text.chars().collect();
    chars
        .iter()
        .enumerate()
        .map(|(i, &c)| {
            let between = i > 0
                && chars[i - 1].is_alphabetic()
                && chars.get(i + 1).is_some_and(|n| n.is_alphabetic());
            if c == ';' && between {
                'ñ'
            } else {
                c
            }
        })
        .collect::<String>()
        .into()
}

fn fold_plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last_space = true;
    let mut push = |mapped: char| {
        if mapped == ' ' {
            if !last_space {
                out.push(' ');
                last_space = true;
            }
        } else {
            out.push(mapped);
            last_space = false;
        }
    };
    for ch in text.chars() {
        // Most of what customers type is ASCII: no lowercase table to consult.
        if ch.is_ascii() {
            push(if ch.is_ascii_alphanumeric() {
                ch.to_ascii_lowercase()
            } else {
                ' '
            });
            continue;
        }
        for ch in ch.to_lowercase() {
            push(fold_char(ch));
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// A lowercase letter without its accent; anything else not ASCII is a space.
fn fold_char(ch: char) -> char {
    match ch {
        'á' | 'à' | 'ä' | 'â' | 'ã' => 'a',
        'é' | 'è' | 'ë' | 'ê' => 'e',
        'í' | 'ì' | 'ï' | 'î' => 'i',
        'ó' | 'ò' | 'ö' | 'ô' | 'õ' => 'o',
        'ú' | 'ù' | 'ü' | 'û' => 'u',
        'ñ' => 'n',
        'ç' => 'c',
        c if c.is_ascii_alphanumeric() => c,
        _ => ' ',
    }
}

/// Collapses runs of the same letter longer than two ("holaaaa" → "hola", "buenooo" → "bueno";
/// a double letter such as "ll" or "rr" is kept). Digits are left alone. Borrows the word when
/// nothing collapses (most words): no allocation.
pub fn squeeze(word: &str) -> Cow<'_, str> {
    let mut out: Option<String> = None;
    let mut prev = '\0';
    let mut run = 0;
    for (at, c) in word.char_indices() {
        if c == prev && c.is_ascii_alphabetic() {
            run += 1;
        } else {
            run = 1;
            prev = c;
        }
        let keep = if c.is_ascii_alphabetic() && !matches!(c, 'l' | 'r' | 'c' | 'e' | 'o') {
            run <= 1
        } else {
            run <= 2
        };
        match (&mut out, keep) {
            (Some(out), true) => out.push(c),
            (Some(_), false) => {}
            (None, true) => {}
            (None, false) => out = Some(word[..at].to_string()),
        }
    }
    match out {
        Some(out) => Cow::Owned(out),
        None => Cow::Borrowed(word),
    }
}

/// Rewrites a folded token as it would be spelled: "k" for "qu" ("kiero" → "quiero"),
/// "q" alone for "que", "x" for "por", common phone abbreviations. Borrows where it can.
pub fn respell(token: &str) -> Cow<'_, str> {
    let t = squeeze(token);
    let fixed = match t.as_ref() {
        "q" | "k" | "ke" | "qe" => "que",
        "x" => "por",
        "xq" | "xk" | "pq" | "porq" | "pk" => "porque",
        "tmb" | "tb" | "tmbn" | "tambn" => "tambien",
        "pls" | "plis" | "xfa" | "porfa" | "porfis" | "xfavor" => "porfavor",
        "grax" | "grcs" | "grs" | "gracias" | "grasias" | "gracas" => "gracias",
        "ntp" => "notepreocupes",
        "bn" => "bien",
        "dnd" | "dond" => "donde",
        "cdo" => "cuando",
        "msj" => "mensaje",
        "tel" | "cel" | "numero" | "num" => "telefono",
        "d" => "de",
        "m" => "me",
        "t" => "te",
        "sta" | "stoy" | "toy" | "ta" => "esta",
        "tas" => "estas",
        "aki" | "aqi" => "aqui",
        "ay" | "ai" | "hai" => "hay",
        "ola" | "hla" | "holi" | "holis" | "oli" => "hola",
        "mb" | "mbps" | "mega" | "megas" | "mbs" | "megabits" => "megas",
        "wey" | "guey" | "we" | "wee" | "buey" => "wey",
        "ok" | "oki" | "okey" | "okay" | "va" | "sale" => "ok",
        _ => "",
    };
    if !fixed.is_empty() {
        return Cow::Borrowed(fixed);
    }
    // "k" spelled for "qu" / "c" before e/i: kiero, kien, ke, porke, aki.
    if t.contains('k') {
        let mut s = String::with_capacity(t.len() + 2);
        let mut chars = t.chars().peekable();
        while let Some(c) = chars.next() {
            if c == 'k' {
                match chars.peek() {
                    Some('e') | Some('i') => s.push_str("qu"),
                    _ => s.push('c'),
                }
            } else {
                s.push(c);
            }
        }
        return Cow::Owned(s);
    }
    t
}

/// Whether `phrase` is in the folded text `folded` as whole words ("no hay" is in "ya no hay
/// luz", not in "no haya"), with no allocation.
pub fn has_phrase(folded: &str, phrase: &str) -> bool {
    let bytes = folded.as_bytes();
    !phrase.is_empty()
        && folded.match_indices(phrase).any(|(at, _)| {
            (at == 0 || bytes[at - 1] == b' ')
                && bytes.get(at + phrase.len()).is_none_or(|b| *b == b' ')
        })
}

/// Folds and splits into respelled tokens.
pub fn tokens(text: &str) -> Vec<String> {
    fold(text)
        .split(' ')
        .filter(|t| !t.is_empty())
        .map(|t| respell(t).into_owned())
        .collect()
}

/// The last 10 digits of a phone, however it is written (`+52 1 464 123 4567`): how clients,
/// WhatsApp ids and shared contacts are matched. `None` with fewer than 10 digits.
pub fn last10(phone: &str) -> Option<String> {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    (digits.len() >= 10).then(|| digits[digits.len() - 10..].to_string())
}

/// Optimal-string-alignment distance (Levenshtein plus adjacent transpositions), bounded:
/// returns `max + 1` as soon as the distance is known to exceed `max`.
pub fn edit_distance(a: &str, b: &str, max: usize) -> usize {
    if a.is_ascii() && b.is_ascii() {
        return osa(a.as_bytes(), b.as_bytes(), max, 1);
    }
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    osa(&a, &b, max, 1)
}

/// Words shorter than this are compared without allocating.
pub const SHORT_WORD: usize = 32;

/// [`edit_distance`] of two byte strings, with a changed letter costing `changed` (two makes a
/// substitution count as a deletion plus an insertion).
pub fn short_distance(a: &[u8], b: &[u8], max: usize, changed: usize) -> usize {
    osa(a, b, max, changed)
}

/// The one optimal-string-alignment distance, bounded by `max`, over any letters; rows live
/// on the stack for words shorter than [`SHORT_WORD`].
fn osa<T: PartialEq>(a: &[T], b: &[T], max: usize, changed: usize) -> usize {
    if a.len().abs_diff(b.len()) > max {
        return max + 1;
    }
    let n = b.len();
    let (mut s2, mut s1, mut s0) = (
        [0usize; SHORT_WORD],
        [0usize; SHORT_WORD],
        [0usize; SHORT_WORD],
    );
    let (mut h2, mut h1, mut h0);
    let (prev2, prev, cur): (&mut [usize], &mut [usize], &mut [usize]) = if n < SHORT_WORD {
        (&mut s2[..=n], &mut s1[..=n], &mut s0[..=n])
    } else {
        h2 = vec![0; n + 1];
        h1 = vec![0; n + 1];
        h0 = vec![0; n + 1];
        (&mut h2, &mut h1, &mut h0)
    };
    let (mut prev2, mut prev, mut cur) = (prev2, prev, cur);
    for (j, v) in prev.iter_mut().enumerate() {
        *v = j;
    }
    for i in 1..=a.len() {
        cur[0] = i;
        let mut row_min = i;
        for j in 1..=n {
            let cost = if a[i - 1] == b[j - 1] { 0 } else { changed };
            let mut v = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                v = v.min(prev2[j - 2] + 1);
            }
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if row_min > max {
            return max + 1;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[n]
}

/// The set of ASCII letters and digits in a word, one bit each: a cheap test before an edit
/// distance ([`could_be_typo`]).
pub fn letter_set(word: &str) -> u32 {
    word.bytes().fold(0, |set, b| {
        set | match b {
            b'a'..=b'z' => 1 << (b - b'a'),
            b'0'..=b'9' => 1 << 26,
            _ => 1 << 27,
        }
    })
}

/// Whether `token` could be `word` with the typos [`fuzzy_eq`] tolerates: each typo adds or
/// removes at most two letters from the set, and changes the length by at most one. A `false`
/// is certain; a `true` still needs [`fuzzy_eq`].
pub fn could_be_typo(word: &str, word_letters: u32, token: &str, token_letters: u32) -> bool {
    let tol = tolerance(word.len().min(token.len()));
    word.len().abs_diff(token.len()) <= tol
        && (word_letters ^ token_letters).count_ones() as usize <= 2 * tol
}

/// How many typos a word of this length may carry and still match.
pub fn tolerance(len: usize) -> usize {
    match len {
        0..=3 => 0,
        4..=5 => 1,
        _ => 2,
    }
}

/// Whether a typed token matches a known word, allowing for typos by length.
pub fn fuzzy_eq(token: &str, word: &str) -> bool {
    if token == word {
        return true;
    }
    let tol = tolerance(word.chars().count().min(token.chars().count()));
    tol > 0 && edit_distance(token, word, tol) <= tol
}

/// Whether `token` is `stem` or starts with it (with typo tolerance on the stem part).
pub fn fuzzy_prefix(token: &str, stem: &str) -> bool {
    if token.starts_with(stem) {
        return true;
    }
    let n = stem.chars().count();
    if n < 4 {
        return false;
    }
    // Compare the stem with the token's prefix of the same length, plus or minus one letter.
    let tol = tolerance(n);
    fn close<T: PartialEq>(t: &[T], stem: &[T], tol: usize) -> bool {
        let n = stem.len();
        (n - 1..=n + 1).any(|len| len <= t.len() && osa(&t[..len], stem, tol, 1) <= tol)
    }
    if token.is_ascii() && stem.is_ascii() {
        // Each typo takes at most one of the stem's letters away from the token.
        let missing = letter_set(stem) & !letter_set(token);
        return missing.count_ones() as usize <= tol
            && close(token.as_bytes(), stem.as_bytes(), tol);
    }
    let t: Vec<char> = token.chars().collect();
    let s: Vec<char> = stem.chars().collect();
    close(&t, &s, tol)
}

/// Removes emoji and pictographic symbols (for `emojis = false`), tidying the spaces left.
pub fn strip_emojis(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let cp = c as u32;
        let emoji = matches!(cp,
            0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B00..=0x2BFF | 0xFE0F | 0x200D | 0x20E3 | 0x2300..=0x23FF
        );
        if !emoji {
            out.push(c);
        }
    }
    out.lines()
        .map(|l| l.trim_start().replace("  ", " "))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_string()
}

/// Cuts a text to at most `max` characters, on a line or word boundary when possible,
/// ending with "…" when something was cut.
pub fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let keep = max.saturating_sub(1);
    let cut: String = text.chars().take(keep).collect();
    let boundary = cut
        .rfind('\n')
        .filter(|&i| i > keep / 2)
        .or_else(|| cut.rfind(' ').filter(|&i| i > keep / 2))
        .unwrap_or(cut.len());
    format!("{}…", cut[..boundary].trim_end())
}

/// Sanitizes user text before it is stored or echoed: control characters removed, whitespace
/// squeezed, length capped.
pub fn clean_input(text: &str, max_chars: usize) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let squeezed = cleaned.split_whitespace().collect::<Vec<_>>().join(" ");
    squeezed.chars().take(max_chars).collect()
}

#[cfg(test)]
mod tests;
