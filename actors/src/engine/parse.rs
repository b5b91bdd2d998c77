//! A message as the engine reads it: text to understand, a tapped choice that forces an
//! intent, or something with nothing to read (and the template that says so).

use super::*;

/// What the user said, once parsed: text to understand, or a tapped choice.
pub(super) enum Said {
    Text(String),
    Forced(Intent),
    Nothing(&'static str),
}

impl Engine {
    pub(super) fn parse(&self, state: &mut ConversationState, content: &Content) -> Said {
        match content {
            Content::Text(t) => {
                // Understanding reads the whole message; only what is stored is cut.
                let cleaned = text::clean_input(t, crate::nlu::MAX_UNDERSTOOD_CHARS);
                if text::fold(&cleaned).is_empty() && signals::signal(&cleaned).is_none() {
                    Said::Nothing("empty")
                } else {
                    Said::Text(cleaned)
                }
            }
            Content::Choice(id) => match choice_to_said(id) {
                Some(s) => s,
                None => Said::Text(text::clean_input(id, 100)),
            },
            Content::Location { name, address, .. } => {
                let hint = [name.as_deref(), address.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(" ");
                match self.rules.find_zone(&hint) {
                    Some(z) => Said::Text(z.name.clone()),
                    None => Said::Nothing("unsupported"),
                }
            }
            Content::Contact { phone } => {
                state.profile.phone = Some(text::clean_input(phone, 20));
                Said::Nothing("contact_saved")
            }
            // What the bot can read of a photo or a document is its caption.
            Content::Media {
                caption: Some(c), ..
            } if !text::fold(c).is_empty() => {
                Said::Text(text::clean_input(c, crate::nlu::MAX_UNDERSTOOD_CHARS))
            }
            Content::Unsupported(_) | Content::Media { .. } => Said::Nothing("unsupported"),
        }
    }
}

/// Maps a quick-reply id to what it means.
fn choice_to_said(id: &str) -> Option<Said> {
    let (kind, value) = id.split_once(':').unwrap_or((id, ""));
    match kind {
        "intent" => Intent::parse(value).map(Said::Forced),
        "cancel" => Some(Said::Text("cancelar".into())),
        "yes" => Some(Said::Text("sí".into())),
        "no" => Some(Said::Text("no".into())),
        "resume" => Some(Said::Text("siempre sí".into())),
        "zone" => Some(Said::Text(value.to_string())),
        "plan" => Some(Said::Text(format!("el de {value} megas"))),
        "modem" => Some(Said::Text(if value == "yes" { "sí" } else { "no" }.into())),
        "since" => Some(Said::Text(value.to_string())),
        "kind" => Some(Said::Text(format!("kind {value}"))),
        // The platform answers a contact request with a contact, not with this id.
        "contact" => Some(Said::Nothing("empty")),
        _ => None,
    }
}
