//! Replies as Graph messages: Meta's limits, text split at paragraph, line or word
//! boundaries, quick replies as reply buttons or a list.

use super::{media, GraphMessage};
use redsol_actors::model::{QuickReply, Reply};
use std::collections::HashSet;

/// Longest text message body.
pub const MAX_TEXT: usize = 4096;
/// Longest body of an interactive (buttons or list) message.
pub const MAX_INTERACTIVE_BODY: usize = 1024;
/// Most reply buttons in one message.
pub const MAX_BUTTONS: usize = 3;
/// Longest reply-button title.
pub const MAX_BUTTON_TITLE: usize = 20;
/// Longest reply-button id.
pub const MAX_BUTTON_ID: usize = 256;
/// Most rows in a list (we send one section).
pub const MAX_LIST_ROWS: usize = 10;
/// Longest list-row title.
pub const MAX_ROW_TITLE: usize = 24;
/// Longest list-row id (Meta's limit for rows is lower than for buttons).
pub const MAX_ROW_ID: usize = 200;
/// Longest label of the button that opens a list.
pub const MAX_LIST_BUTTON: usize = 20;
/// Longest section title.
pub const MAX_SECTION_TITLE: usize = 24;

/// The label of the button that opens a list of options.
pub const LIST_BUTTON_LABEL: &str = "Ver opciones";
/// The title of the list's only section.
pub(super) const LIST_SECTION_TITLE: &str = "Opciones";
/// The body of an interactive message whose reply has no text (Meta requires one).
pub(super) const DEFAULT_INTERACTIVE_BODY: &str = "Elige una opción:";
/// Length as Meta's limits count it, conservatively: UTF-16 code units.
pub fn units(s: &str) -> usize {
    s.chars().map(char::len_utf16).sum()
}

/// The byte index where the longest prefix of `s` of at most `max` units ends.
fn prefix_end(s: &str, max: usize) -> usize {
    let mut n = 0;
    for (i, c) in s.char_indices() {
        n += c.len_utf16();
        if n > max {
            return i;
        }
    }
    s.len()
}

/// The byte index where the longest suffix of `s` of at most `max` units starts.
fn suffix_start(s: &str, max: usize) -> usize {
    let mut n = 0;
    let mut start = s.len();
    for (i, c) in s.char_indices().rev() {
        n += c.len_utf16();
        if n > max {
            break;
        }
        start = i;
    }
    start
}

/// `s` shortened to `max` units, ending in "…" when it was cut.
pub fn truncate_title(s: &str, max: usize) -> String {
    let s = s.trim();
    if units(s) <= max {
        return s.to_string();
    }
    let end = prefix_end(s, max.saturating_sub(1));
    format!("{}…", s[..end].trim_end())
}

/// `s` cut to `max` units (ids: no ellipsis, which would change nothing for the user).
fn truncate_id(s: &str, max: usize) -> String {
    s[..prefix_end(s, max)].to_string()
}

/// Splits `text` into chunks of at most `max` units, preferring line breaks, then spaces (in
/// the second half of each chunk), and cutting between characters only as a last resort.
/// Whitespace at the cuts and around the text is dropped; no chunk is empty.
pub fn split_text(text: &str, max: usize) -> Vec<String> {
    let max = max.max(2);
    let mut chunks = Vec::new();
    let mut rest = text.trim();
    while units(rest) > max {
        let mut end = prefix_end(rest, max);
        if end == 0 {
            // Unreachable with max >= 2 (a char is at most 2 units); guards the loop anyway.
            end = rest
                .chars()
                .next()
                .map(char::len_utf8)
                .unwrap_or(rest.len());
        }
        let window = &rest[..end];
        let half = window.len() / 2;
        let cut = window
            .rfind('\n')
            .filter(|&i| i >= half)
            .or_else(|| window.rfind(char::is_whitespace).filter(|&i| i >= half));
        let (chunk, next) = match cut {
            Some(i) => {
                let sep = rest[i..].chars().next().map(char::len_utf8).unwrap_or(1);
                (&rest[..i], &rest[i + sep..])
            }
            None => (window, &rest[end..]),
        };
        let chunk = chunk.trim_end();
        if !chunk.is_empty() {
            chunks.push(chunk.to_string());
        }
        rest = next.trim_start();
    }
    if !rest.is_empty() {
        chunks.push(rest.to_string());
    }
    chunks
}

/// Splits a text longer than `max` units into a head and a short tail of at most `max` units:
/// the last paragraph, else the last line, else the end of the text from a word boundary.
fn split_tail(text: &str, max: usize) -> (&str, &str) {
    for sep in ["\n\n", "\n"] {
        if let Some(i) = text.rfind(sep) {
            let tail = text[i + sep.len()..].trim();
            if !tail.is_empty() && units(tail) <= max {
                return (text[..i].trim_end(), tail);
            }
        }
    }
    let start = suffix_start(text, max);
    let window = &text[start..];
    let cut = window
        .find(char::is_whitespace)
        .filter(|&i| i <= window.len() / 2)
        .map(|i| start + i)
        .unwrap_or(start);
    (text[..cut].trim_end(), text[cut..].trim_start())
}

/// Renders a reply to `to` as the Graph messages that carry it, in order.
///
/// Without quick replies: the text, split into messages of at most 4096 characters. With up
/// to 3 quick replies: reply buttons; with 4 to 10: a list (further ones are dropped). When the
/// text does not fit an interactive body (1024), its head goes as text messages and its last
/// paragraph (or line, or words) comes with the buttons or list in a last, short message.
pub fn render(to: &str, reply: &Reply) -> Vec<GraphMessage> {
    match &reply.attachment {
        Some(attachment) => media::render(to, reply, attachment),
        None => render_text(to, reply),
    }
}

/// [`render`] of the text and quick replies.
pub(super) fn render_text(to: &str, reply: &Reply) -> Vec<GraphMessage> {
    let text = reply.text.trim();
    let mut seen = HashSet::new();
    let options: Vec<&QuickReply> = reply
        .quick_replies
        .iter()
        .filter(|q| !q.id.trim().is_empty() && seen.insert(q.id.as_str()))
        .take(MAX_LIST_ROWS)
        .collect();
    let text_message = |body: String| GraphMessage::Text {
        to: to.to_string(),
        body,
    };
    if options.is_empty() {
        return split_text(text, MAX_TEXT)
            .into_iter()
            .map(text_message)
            .collect();
    }
    let (head, body) = if units(text) <= MAX_INTERACTIVE_BODY {
        ("", text)
    } else {
        split_tail(text, MAX_INTERACTIVE_BODY)
    };
    let mut messages: Vec<GraphMessage> = split_text(head, MAX_TEXT)
        .into_iter()
        .map(text_message)
        .collect();
    let body = if body.is_empty() {
        DEFAULT_INTERACTIVE_BODY.to_string()
    } else {
        body.to_string()
    };
    let option = |q: &QuickReply, id_max: usize, title_max: usize| {
        let title = if q.title.trim().is_empty() {
            &q.id
        } else {
            &q.title
        };
        (truncate_id(&q.id, id_max), truncate_title(title, title_max))
    };
    if options.len() <= MAX_BUTTONS {
        messages.push(GraphMessage::Buttons {
            to: to.to_string(),
            body,
            buttons: options
                .iter()
                .map(|q| option(q, MAX_BUTTON_ID, MAX_BUTTON_TITLE))
                .collect(),
        });
    } else {
        messages.push(GraphMessage::List {
            to: to.to_string(),
            body,
            button: truncate_title(LIST_BUTTON_LABEL, MAX_LIST_BUTTON),
            rows: options
                .iter()
                .map(|q| option(q, MAX_ROW_ID, MAX_ROW_TITLE))
                .collect(),
        });
    }
    messages
}
