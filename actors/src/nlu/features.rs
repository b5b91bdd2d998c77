//! The features the intent classifier reads: hashed word unigrams and bigrams of the respelled
//! tokens, character n-grams of each token (they carry typos and inflections: "intenet" shares
//! most of its trigrams with "internet"), and number shapes (a phone, a ticket, a plan speed).
//!
//! Feature names are hashed into a fixed table (the hashing trick): no vocabulary to build or
//! ship, the same function at training and at prediction.

use crate::text;

/// How many hash buckets the feature table has (a power of two).
pub const BUCKETS: usize = 1 << 17;

/// How much a word or a word pair counts beside one character n-gram (chosen on the dev split).
const WORD_WEIGHT: f32 = 2.0;

/// One feature of an utterance: its bucket and its value (the vector is L2-normalized).
pub type Feature = (u32, f32);

/// 64-bit FNV-1a over a namespace byte and the parts of a feature name.
fn hash(namespace: u8, parts: &[&[u8]]) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |b: u8| {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    };
    eat(namespace);
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            eat(b' ');
        }
        for &b in *part {
            eat(b);
        }
    }
    // Fold the high bits in: FNV's low bits alone mix poorly.
    ((h ^ (h >> 29)) as usize & (BUCKETS - 1)) as u32
}

/// A token as the classifier sees it: digits become their shape (a phone, a ticket number, a
/// small number keeps its value: "50" is a plan's speed).
fn shape(token: &str) -> std::borrow::Cow<'_, str> {
    let digits = token.bytes().filter(u8::is_ascii_digit).count();
    if digits == 0 || token.len() <= 3 && digits == token.len() {
        return token.into();
    }
    if digits == token.len() {
        return if digits >= 7 { "<phone>" } else { "<num>" }.into();
    }
    if token.starts_with("inc") {
        return "<ticket>".into();
    }
    "<mixed>".into()
}

/// The longest padded token whose character n-grams are all taken (`<`, 62 bytes, `>`).
const PADDED_MAX: usize = 64;

/// The tokens of an utterance as the classifier reads them: folded, respelled, shaped.
pub fn tokens(utterance: &str) -> Vec<String> {
    text::fold(utterance)
        .split(' ')
        .filter(|t| !t.is_empty())
        .map(|t| shape(&text::respell(t)).into_owned())
        .collect()
}

/// [`tokens`] from the lexicon's tokens ([`super::fuzzy::nlu_token`]), which differ from a
/// respelling only where the lexicon keeps the word ("va", "sale", "numero").
pub(crate) fn tokens_of(nlu_tokens: &[String]) -> Vec<std::borrow::Cow<'_, str>> {
    nlu_tokens
        .iter()
        .map(|t| match t.as_str() {
            "va" | "sale" => "ok".into(),
            "numero" => "telefono".into(),
            t => shape(t),
        })
        .collect()
}

/// How much the hand-written lexicon's scores count (chosen on the dev split).
const LEXICON_WEIGHT: f32 = 1.0;

/// The features of an utterance, sorted by bucket with duplicates summed, L2-normalized.
/// `lexicon` holds every intent's score from the hand-written lexicon (in the order of
/// [`crate::model::Intent::ALL`]); each non-zero one is a feature, and so is the best.
pub fn extract(utterance: &str, lexicon: &[f32]) -> Vec<Feature> {
    from_tokens(&tokens(utterance), lexicon)
}

/// [`extract`] from the utterance's [`tokens`].
pub(crate) fn from_tokens<T: AsRef<str>>(toks: &[T], lexicon: &[f32]) -> Vec<Feature> {
    let toks: Vec<&str> = toks.iter().map(AsRef::as_ref).collect();
    let mut buckets: Vec<(u32, f32)> = Vec::with_capacity(toks.len() * 12);
    for (i, t) in toks.iter().enumerate() {
        buckets.push((hash(b'w', &[t.as_bytes()]), WORD_WEIGHT));
        let prev = if i == 0 { "^" } else { toks[i - 1] };
        buckets.push((hash(b'b', &[prev.as_bytes(), t.as_bytes()]), WORD_WEIGHT));
        if t.starts_with('<') {
            continue;
        }
        // "<token>" on the stack (a longer token is cut: its first grams are enough).
        let mut padded = [0u8; PADDED_MAX];
        let len = t.len().min(PADDED_MAX - 2);
        padded[0] = b'<';
        padded[1..=len].copy_from_slice(&t.as_bytes()[..len]);
        padded[len + 1] = b'>';
        for n in 3..=4 {
            for gram in padded[..len + 2].windows(n) {
                buckets.push((hash(b'c', &[gram]), 1.0));
            }
        }
    }
    if let Some(last) = toks.last() {
        buckets.push((hash(b'b', &[last.as_bytes(), b"$"]), WORD_WEIGHT));
    }
    let mut best = (0, 0f32);
    for (i, &score) in lexicon.iter().enumerate() {
        if score > 0.0 {
            let id = [i as u8];
            buckets.push((hash(b'l', &[&id]), LEXICON_WEIGHT * (score / 3.0).min(2.0)));
            if score > best.1 {
                best = (i, score);
            }
        }
    }
    if best.1 >= 1.0 {
        buckets.push((hash(b'L', &[&[best.0 as u8]]), LEXICON_WEIGHT));
    }
    buckets.sort_unstable_by_key(|(b, _)| *b);
    let mut out: Vec<Feature> = Vec::with_capacity(buckets.len());
    for (b, w) in buckets {
        match out.last_mut() {
            Some((last, v)) if *last == b => *v += w,
            _ => out.push((b, w)),
        }
    }
    let norm = out.iter().map(|(_, v)| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        out.iter_mut().for_each(|(_, v)| *v /= norm);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typos_share_most_features() {
        let a = extract("no hay internet", &[]);
        let b = extract("no ay intenet", &[]);
        let shared = a
            .iter()
            .filter(|(k, _)| b.iter().any(|(j, _)| j == k))
            .count();
        assert!(shared * 2 > a.len(), "{shared} of {}", a.len());
    }

    #[test]
    fn the_lexicon_tokens_give_the_same_features() {
        let rules = crate::testing::rules();
        for text in [
            "va, mi numero es 4641234567",
            "sale pues, el de 50 megaz porfa",
            "Ola q tal, no ay intenet desde ayer INC-000123",
        ] {
            let prepared = super::super::matcher::prepare(text, &rules);
            assert_eq!(tokens_of(&prepared.tokens), tokens(text), "{text}");
        }
    }

    #[test]
    fn numbers_become_shapes() {
        assert_eq!(tokens("mi cel 4641234567"), ["mi", "telefono", "<phone>"]);
        assert_eq!(tokens("el de 50"), ["el", "de", "50"]);
        assert_eq!(tokens("INC-000123"), ["inc", "<num>"]);
        assert!(extract("", &[]).is_empty());
    }
}
