//! A platform-neutral [`Reply`] as Telegram messages: the text cut to Telegram's 4096
//! characters (counted as Telegram counts them, in UTF-16 code units), and the quick replies as
//! an inline keyboard on the last part (two buttons a row, the quick reply id as the
//! `callback_data` that comes back in a callback query).
//!
//! The quick reply [`CONTACT_REQUEST`] is different: Telegram shares a phone number only from a
//! reply-keyboard button with `request_contact`, and a message carries one keyboard, so a reply
//! offering it keeps its other quick replies as inline buttons and gets one more short message
//! carrying a one-time reply keyboard with the "share my phone" button.

use redsol_actors::model::{Attachment, Reply};
use teloxide::types::{
    ButtonRequest, InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton, KeyboardMarkup,
    ReplyMarkup,
};

/// The longest message Telegram takes, in UTF-16 code units.
pub const MAX_MESSAGE_UNITS: usize = 4096;
/// The longest caption of a photo or document, in UTF-16 code units.
pub const MAX_CAPTION_UNITS: usize = 1024;
/// The longest `callback_data`, in bytes.
pub const MAX_CALLBACK_BYTES: usize = 64;
/// The quick reply id rendered as a "share my phone" button.
pub const CONTACT_REQUEST: &str = "contact:request";
/// Buttons per keyboard row.
const BUTTONS_PER_ROW: usize = 2;

/// One Telegram message of a reply.
#[derive(Clone, Debug, PartialEq)]
pub struct Part {
    /// The message's text, or the caption of its attachment.
    pub text: String,
    pub markup: Option<ReplyMarkup>,
    /// A photo or document sent again by its `file_id`.
    pub attachment: Option<Attachment>,
}

/// The messages of a reply, in order; the keyboard rides on the last.
pub fn render(reply: &Reply) -> Vec<Part> {
    let mut parts: Vec<Part> = split(&reply.text, MAX_MESSAGE_UNITS)
        .into_iter()
        .map(|text| Part {
            text,
            markup: None,
            attachment: None,
        })
        .collect();
    let markup = keyboard(reply);
    if parts.is_empty() && markup.is_some() {
        // A keyboard needs a message to ride on.
        parts.push(Part {
            text: "👇".to_string(),
            markup: None,
            attachment: None,
        });
    }
    if let Some(last) = parts.last_mut() {
        last.markup = markup;
    }
    if let Some(contact) = reply.quick_replies.iter().find(|q| q.id == CONTACT_REQUEST) {
        let button =
            KeyboardButton::new(truncate(&contact.title, 64)).request(ButtonRequest::Contact);
        parts.push(Part {
            text: "📱 Si quieres, comparte tu teléfono con el botón de abajo.".to_string(),
            markup: Some(ReplyMarkup::Keyboard(
                KeyboardMarkup::new(vec![vec![button]])
                    .resize_keyboard()
                    .one_time_keyboard(),
            )),
            attachment: None,
        });
    }
    if let Some(attachment) = &reply.attachment {
        // The file first, with the text as its caption when it is one short message.
        let caption = match parts.as_slice() {
            [only] if only.markup.is_none() && units(&only.text) <= MAX_CAPTION_UNITS => {
                parts.remove(0).text
            }
            _ => String::new(),
        };
        parts.insert(
            0,
            Part {
                text: caption,
                markup: None,
                attachment: Some(attachment.clone()),
            },
        );
    }
    parts
}

fn keyboard(reply: &Reply) -> Option<ReplyMarkup> {
    let buttons: Vec<_> = reply
        .quick_replies
        .iter()
        .filter(|q| !q.title.trim().is_empty() && q.id != CONTACT_REQUEST)
        .collect();
    if buttons.is_empty() {
        return None;
    }
    let usable: Vec<_> = buttons
        .into_iter()
        .filter(|q| {
            let fits = !q.id.is_empty() && q.id.len() <= MAX_CALLBACK_BYTES;
            if !fits {
                tracing::warn!(
                    bytes = q.id.len(),
                    "a quick reply id does not fit Telegram's 64-byte callback data; button left out"
                );
            }
            fits
        })
        .collect();
    if usable.is_empty() {
        return None;
    }
    let rows: Vec<Vec<InlineKeyboardButton>> = usable
        .chunks(BUTTONS_PER_ROW)
        .map(|row| {
            row.iter()
                .map(|q| InlineKeyboardButton::callback(truncate(&q.title, 64), q.id.clone()))
                .collect()
        })
        .collect();
    Some(ReplyMarkup::InlineKeyboard(InlineKeyboardMarkup::new(rows)))
}

/// The length of a text as Telegram counts it.
pub fn units(text: &str) -> usize {
    text.encode_utf16().count()
}

/// At most `max` characters of `text`.
pub fn truncate(text: &str, max: usize) -> String {
    text.chars().take(max).collect()
}

/// Cuts a text into pieces of at most `max` UTF-16 units, preferring to cut after a paragraph,
/// then a line, then a space; never inside a character.
pub fn split(text: &str, max: usize) -> Vec<String> {
    let max = max.max(2);
    let mut pieces = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        if units(rest) <= max {
            pieces.push(rest.to_string());
            break;
        }
        // The longest prefix within the limit, as a byte index on a char boundary.
        let mut count = 0;
        let mut hard = 0;
        for (i, c) in rest.char_indices() {
            if count + c.len_utf16() > max {
                break;
            }
            count += c.len_utf16();
            hard = i + c.len_utf8();
        }
        let window = &rest[..hard];
        let cut = ["\n\n", "\n", " "]
            .iter()
            .find_map(|sep| {
                window
                    .rfind(sep)
                    .filter(|&at| at >= hard / 2)
                    .map(|at| at + sep.len())
            })
            .unwrap_or(hard);
        let (head, tail) = rest.split_at(cut);
        let head = head.trim_end();
        if !head.is_empty() {
            pieces.push(head.to_string());
        }
        rest = tail.trim_start();
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;
    use redsol_actors::model::QuickReply;

    #[test]
    fn long_texts_are_cut_within_the_limit_at_spaces() {
        let text = "palabra ".repeat(1500);
        let parts = split(&text, MAX_MESSAGE_UNITS);
        assert_eq!(parts.len(), 3);
        assert!(parts.iter().all(|p| units(p) <= MAX_MESSAGE_UNITS));
        assert!(parts.iter().all(|p| p.ends_with("palabra")));
        assert_eq!(parts.join(" "), text.trim());
    }

    #[test]
    fn emojis_count_as_telegram_counts_them() {
        let text = "😀".repeat(3000);
        let parts = split(&text, MAX_MESSAGE_UNITS);
        assert_eq!(parts.len(), 2);
        assert_eq!(units(&parts[0]), 4096);
        assert_eq!(parts.concat(), text);
    }

    #[test]
    fn quick_replies_become_an_inline_keyboard_on_the_last_part() {
        let reply = Reply {
            text: "x ".repeat(3000),
            quick_replies: vec![
                QuickReply::new("zone:Norte", "Norte"),
                QuickReply::new("zone:Sur", "Sur"),
                QuickReply::new("zone:Centro", "Centro"),
                QuickReply::new("x".repeat(65), "Demasiado largo"),
            ],
            attachment: None,
        };
        let parts = render(&reply);
        assert_eq!(parts.len(), 2);
        assert!(parts[0].markup.is_none());
        let Some(ReplyMarkup::InlineKeyboard(kb)) = &parts[1].markup else {
            panic!("inline keyboard expected: {:?}", parts[1].markup);
        };
        let rows: Vec<usize> = kb.inline_keyboard.iter().map(Vec::len).collect();
        assert_eq!(rows, vec![2, 1]);
    }

    #[test]
    fn a_contact_request_comes_as_its_own_reply_keyboard_after_the_inline_buttons() {
        let reply = Reply {
            text: "¿En qué zona vives?".into(),
            quick_replies: vec![
                QuickReply::new(CONTACT_REQUEST, "Compartir mi teléfono"),
                QuickReply::new("zone:Norte", "Norte"),
            ],
            attachment: None,
        };
        let parts = render(&reply);
        assert_eq!(parts.len(), 2);
        let Some(ReplyMarkup::InlineKeyboard(inline)) = &parts[0].markup else {
            panic!("inline keyboard expected first");
        };
        assert_eq!(
            inline.inline_keyboard.concat().len(),
            1,
            "the contact button is not inline"
        );
        let Some(ReplyMarkup::Keyboard(kb)) = &parts[1].markup else {
            panic!("reply keyboard expected second");
        };
        assert_eq!(kb.keyboard[0][0].request, Some(ButtonRequest::Contact));
        assert!(kb.one_time_keyboard);
    }
}
