//! Meta's webhook deliveries, parsed once at the edge into [`Inbound`] messages and status
//! events. Every `entry[].changes[].value` is walked, and every message and status in it: one
//! delivery may carry several contacts and messages.
//!
//! Shapes follow the Cloud API webhook reference; unknown fields are ignored and unknown
//! message types become [`Content::Unsupported`], never an error.

use redsol_actors::model::{Channel, Content, ConversationKey, Inbound, Profile};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Delivery {
    #[serde(default)]
    pub object: String,
    #[serde(default)]
    pub entry: Vec<Entry>,
}

#[derive(Debug, Deserialize)]
pub struct Entry {
    #[serde(default)]
    pub changes: Vec<Change>,
}

#[derive(Debug, Deserialize)]
pub struct Change {
    #[serde(default)]
    pub field: String,
    #[serde(default)]
    pub value: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Value {
    /// Which business number the change is for.
    #[serde(default)]
    pub metadata: Option<Metadata>,
    #[serde(default)]
    pub contacts: Vec<Contact>,
    #[serde(default)]
    pub messages: Vec<Message>,
    #[serde(default)]
    pub statuses: Vec<Status>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Metadata {
    pub phone_number_id: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Contact {
    pub wa_id: Option<String>,
    pub user_id: Option<String>,
    pub profile: Option<ContactProfile>,
}

#[derive(Debug, Deserialize)]
pub struct ContactProfile {
    pub name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Message {
    pub id: Option<String>,
    pub from: Option<String>,
    pub from_user_id: Option<String>,
    #[serde(rename = "type", default)]
    pub kind: String,
    pub text: Option<TextBody>,
    pub interactive: Option<Interactive>,
    pub button: Option<Button>,
    pub location: Option<Location>,
    pub image: Option<MediaBody>,
    pub document: Option<MediaBody>,
    pub audio: Option<MediaBody>,
    pub video: Option<MediaBody>,
    pub sticker: Option<MediaBody>,
}

/// A photo, document, audio (voice notes too), video or sticker: Graph's media id.
#[derive(Debug, Deserialize)]
pub struct MediaBody {
    #[serde(default)]
    pub id: String,
    pub caption: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct TextBody {
    #[serde(default)]
    pub body: String,
}

#[derive(Debug, Deserialize)]
pub struct Interactive {
    #[serde(rename = "type", default)]
    pub kind: String,
    pub button_reply: Option<ReplyChoice>,
    pub list_reply: Option<ReplyChoice>,
}

#[derive(Debug, Deserialize)]
pub struct ReplyChoice {
    #[serde(default)]
    pub id: String,
    #[serde(default)]
    pub title: String,
}

#[derive(Debug, Deserialize)]
pub struct Button {
    pub payload: Option<String>,
    pub text: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Location {
    #[serde(default)]
    pub latitude: f64,
    #[serde(default)]
    pub longitude: f64,
    pub name: Option<String>,
    pub address: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct Status {
    pub id: Option<String>,
    #[serde(default)]
    pub status: String,
    #[serde(default)]
    pub errors: Vec<StatusError>,
    /// What we sent with the message (`biz_opaque_callback_data`): a notice's id.
    pub biz_opaque_callback_data: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct StatusError {
    pub code: Option<i64>,
    pub title: Option<String>,
}

/// A delivery status of one of our messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusEvent {
    /// `sent`, `delivered`, `read`, `failed` (anything else is reported as `other`).
    pub status: &'static str,
    pub message_id: Option<String>,
    /// `(code, title)` of each error of a failed message.
    pub errors: Vec<(i64, String)>,
    /// The callback data we sent with the message (a notice's id), when it is an id.
    pub callback: Option<String>,
}

/// What a delivery carries, parsed.
#[derive(Debug, Default)]
pub struct Parsed {
    pub messages: Vec<Inbound>,
    pub statuses: Vec<StatusEvent>,
    /// Messages without a sender or an id, or with one that is not an id: logged and skipped.
    pub skipped: usize,
    /// Changes for another business number (`metadata.phone_number_id`): logged and dropped.
    pub foreign: usize,
}

/// The longest WhatsApp sender id: a phone number in digits (E.164 has at most 15).
const MAX_SENDER_DIGITS: usize = 20;
/// The longest other id taken from a delivery (message ids, user ids).
const MAX_ID_CHARS: usize = 256;

/// The longest callback data taken from a status (Graph takes 512 characters).
const MAX_CALLBACK_BYTES: usize = 2048;

/// A phone number as WhatsApp sends it: digits only, at most [`MAX_SENDER_DIGITS`].
fn is_phone_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_SENDER_DIGITS && s.bytes().all(|b| b.is_ascii_digit())
}

/// A message or user id: printable ASCII without spaces, at most [`MAX_ID_CHARS`].
fn is_token_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_ID_CHARS && s.bytes().all(|b| b.is_ascii_graphic())
}

impl Delivery {
    /// Walks every entry, change, message and status; changes for a business number other
    /// than `ours` (when given) are counted in `foreign` and dropped.
    pub fn parse(self, ours: Option<&str>) -> Parsed {
        let mut parsed = Parsed::default();
        for change in self.entry.into_iter().flat_map(|e| e.changes) {
            if change.field != "messages" {
                continue;
            }
            let Some(value) = change.value else { continue };
            let number = value
                .metadata
                .as_ref()
                .and_then(|m| m.phone_number_id.as_deref());
            if ours.is_some_and(|ours| number != Some(ours)) {
                parsed.foreign += value.messages.len() + value.statuses.len();
                continue;
            }
            for m in value.messages {
                match to_inbound(m, &value.contacts) {
                    Some(inbound) => parsed.messages.push(inbound),
                    None => parsed.skipped += 1,
                }
            }
            for s in value.statuses {
                parsed.statuses.push(StatusEvent {
                    status: match s.status.as_str() {
                        "sent" => "sent",
                        "delivered" => "delivered",
                        "read" => "read",
                        "failed" => "failed",
                        _ => "other",
                    },
                    message_id: s.id,
                    errors: s
                        .errors
                        .into_iter()
                        .map(|e| (e.code.unwrap_or(0), e.title.unwrap_or_default()))
                        .collect(),
                    callback: s.biz_opaque_callback_data.filter(|c| {
                        c.len() <= MAX_CALLBACK_BYTES && !c.chars().any(char::is_control)
                    }),
                });
            }
        }
        parsed
    }
}

fn to_inbound(m: Message, contacts: &[Contact]) -> Option<Inbound> {
    let id = m.id.filter(|s| is_token_id(s))?;
    // The phone (`from` = wa_id) keys the conversation; users with a username may come with
    // only a user id (Meta, 2026). Anything else is not an id we answer.
    let user = match (m.from.as_deref(), m.from_user_id.as_deref()) {
        (Some(from), _) if !from.is_empty() => Some(from.to_string()).filter(|f| is_phone_id(f)),
        (_, Some(user_id)) => Some(user_id.to_string()).filter(|u| is_token_id(u)),
        _ => None,
    }?;
    let contact = contacts.iter().find(|c| {
        c.wa_id.as_deref() == Some(user.as_str()) || c.user_id.as_deref() == Some(user.as_str())
    });
    let contact = contact.or(if contacts.len() == 1 {
        contacts.first()
    } else {
        None
    });
    let phone = m
        .from
        .clone()
        .or_else(|| contact.and_then(|c| c.wa_id.clone()))
        .filter(|p| is_phone_id(p));
    let content = match m.kind.as_str() {
        "text" => Content::Text(m.text.map(|t| t.body).unwrap_or_default()),
        "interactive" => match m.interactive {
            Some(i) => match i.button_reply.or(i.list_reply) {
                Some(choice) if !choice.id.is_empty() => Content::Choice(choice.id),
                Some(choice) => Content::Text(choice.title),
                None => Content::Unsupported(format!("interactive:{}", i.kind)),
            },
            None => Content::Unsupported("interactive".into()),
        },
        "button" => match m.button {
            Some(Button {
                payload: Some(p), ..
            }) if !p.is_empty() => Content::Choice(p),
            Some(Button { text: Some(t), .. }) => Content::Text(t),
            _ => Content::Unsupported("button".into()),
        },
        "location" => match m.location {
            Some(l) => Content::Location {
                latitude: l.latitude,
                longitude: l.longitude,
                name: l.name,
                address: l.address,
            },
            None => Content::Unsupported("location".into()),
        },
        kind @ ("image" | "document" | "audio" | "video" | "sticker") => {
            let media = match kind {
                "image" => m.image,
                "document" => m.document,
                "audio" => m.audio,
                "video" => m.video,
                _ => m.sticker,
            };
            match media.filter(|b| !b.id.is_empty()) {
                Some(b) => Content::Media {
                    kind: kind.into(),
                    id: b.id,
                    caption: b.caption.filter(|c| !c.trim().is_empty()),
                },
                None => Content::Unsupported(kind.into()),
            }
        }
        other => Content::Unsupported(if other.is_empty() {
            "unknown".into()
        } else {
            other.into()
        }),
    };
    Some(Inbound {
        key: ConversationKey::new(Channel::WhatsApp, user),
        message_id: Some(id),
        content,
        profile: Profile {
            name: contact
                .and_then(|c| c.profile.as_ref())
                .and_then(|p| p.name.clone()),
            phone,
        },
        accepted_at: tokio::time::Instant::now(),
        reply_to: None,
        tapped: None,
    })
}

#[cfg(test)]
mod tests;
