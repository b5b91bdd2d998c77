//! The wording guard: a model's worded answer is sent only when every number in it is one the
//! facts hold (prices from config, the facts' amounts, the question's own numbers).

use crate::text;
use std::collections::HashSet;

/// The numbers a worded answer may mention.
#[derive(Clone, Debug, Default)]
pub struct Known {
    /// Amounts of money: the plans' prices, amounts the facts state.
    pub money: HashSet<u64>,
    /// Any other number: speeds, hours, the question's own numbers.
    pub other: HashSet<u64>,
}

/// A worded answer, if it is safe to send: not empty, at most `max_chars`, no ticket id, no
/// percentage or foreign currency, every amount of money a price in config (or in the facts),
/// and every other number one the facts or the question hold. A price, a discount or a phone
/// number the model made up is never sent.
pub fn grounded(answer: &str, known: &Known, max_chars: usize) -> Option<String> {
    let answer = answer.trim();
    if answer.is_empty() || answer.chars().count() > max_chars {
        return None;
    }
    if answer.to_ascii_uppercase().contains("INC-") || answer.contains('%') {
        return None;
    }
    // Prices are in pesos: a known number in another currency is still an invented price.
    let folded = text::fold(answer);
    if folded
        .split(' ')
        .any(|w| w == "us" || w == "usd" || w.starts_with("dolar") || w.starts_with("euro"))
    {
        return None;
    }
    let fits = |n: &Number| {
        if n.money {
            known.money.contains(&n.value)
        } else {
            known.other.contains(&n.value) || known.money.contains(&n.value)
        }
    };
    numbers(answer).iter().all(fits).then(|| answer.to_string())
}

/// A number in a text, and whether it is an amount of money.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Number {
    pub(super) value: u64,
    pub(super) money: bool,
}

/// The numbers in a text.
/// - Thousands separators join digits ("1,200" is 1200, "1.500" is 1500); all-zero decimals
///   and minutes are dropped ("$450.00" is 450, "9:00" is 9).
/// - Other decimals make a number no fact holds (`u64::MAX`): "350.50", "9:30".
/// - Money: after a `$`, or followed by "pesos", "mxn" or "mn".
pub(super) fn numbers(s: &str) -> Vec<Number> {
    let chars: Vec<char> = s.chars().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if !chars[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        let mut digits = String::new();
        let mut fraction = false;
        while i < chars.len() {
            let c = chars[i];
            let run = chars[i + 1..]
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .count();
            if c.is_ascii_digit() {
                digits.push(c);
            } else if (c == ',' || c == '.') && run == 3 {
                // A thousands separator.
            } else if (c == ',' || c == '.' || c == ':') && run > 0 {
                // Decimals or minutes: whole when all zero.
                if chars[i + 1..i + 1 + run].iter().any(|d| *d != '0') {
                    fraction = true;
                }
                i += run;
            } else {
                break;
            }
            i += 1;
        }
        let before = chars[..start].iter().rev().find(|c| !c.is_whitespace());
        let after = text::fold(&chars[i..].iter().take(8).collect::<String>());
        let money = before == Some(&'$')
            || after.starts_with("peso")
            || after.starts_with("mxn")
            || after == "mn"
            || after.starts_with("mn ");
        // A number too long to read is certainly not one the facts hold.
        let value = if fraction {
            u64::MAX
        } else {
            digits.parse().unwrap_or(u64::MAX)
        };
        found.push(Number { value, money });
    }
    found
}
