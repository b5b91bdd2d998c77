//! What users send and what we answer, as every channel hands it over and takes it back.

use super::*;

/// What the platform tells us about the sender, when it tells anything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    pub name: Option<String>,
    pub phone: Option<String>,
}

/// The content of one inbound message, already parsed from the platform's format.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Content {
    /// Typed text (or a command such as `/start`).
    Text(String),
    /// The id of a quick reply the user tapped; continues the dialogue as if typed.
    Choice(String),
    /// A shared location, used as a hint for the zone.
    Location {
        latitude: f64,
        longitude: f64,
        name: Option<String>,
        address: Option<String>,
    },
    /// A shared contact card (the user's phone).
    Contact { phone: String },
    /// A photo, document, voice note, video or sticker: its kind, the platform's media id
    /// (WhatsApp's media id, Telegram's `file_id`) and its caption, if any.
    Media {
        kind: String,
        id: String,
        caption: Option<String>,
    },
    /// Anything we do not understand (photo, sticker, voice...), with the platform's kind.
    Unsupported(String),
}

/// One message from a user, as every channel hands it to the conversation actors.
#[derive(Clone, Debug)]
pub struct Inbound {
    pub key: ConversationKey,
    /// The platform's message id (`wamid`, Telegram `update_id`), when there is one.
    pub message_id: Option<String>,
    pub content: Content,
    pub profile: Profile,
    /// When the channel accepted the message; the response latency is measured from here.
    pub accepted_at: tokio::time::Instant,
    /// The chat to answer in when it is not the user's own (a Telegram group).
    pub reply_to: Option<String>,
    /// The platform id of the message whose button was tapped (a Telegram callback's message),
    /// so that an answer may replace it.
    pub tapped: Option<String>,
}

impl Inbound {
    /// The message cut to what is ever read: text to `max_chars`, the other strings a platform
    /// sends (names, a location's labels, kinds, choice ids) to 200. Applied before anything is
    /// journaled, so a 2 MB text costs 4 KB.
    pub fn bounded(mut self, max_chars: usize) -> Self {
        use crate::text::truncate_chars;
        let short = |s: &mut String| {
            if s.len() > 200 {
                *s = truncate_chars(s, 200);
            }
        };
        match &mut self.content {
            Content::Text(t) if t.len() > max_chars => *t = truncate_chars(t, max_chars),
            Content::Text(_) => {}
            Content::Choice(s) | Content::Unsupported(s) | Content::Contact { phone: s } => {
                short(s)
            }
            Content::Location { name, address, .. } => {
                name.iter_mut().chain(address.iter_mut()).for_each(short)
            }
            Content::Media { kind, id, caption } => {
                short(kind);
                short(id);
                if let Some(c) = caption.as_mut().filter(|c| c.len() > max_chars) {
                    *c = truncate_chars(c, max_chars);
                }
            }
        }
        self.profile
            .name
            .iter_mut()
            .chain(self.profile.phone.iter_mut())
            .for_each(short);
        self
    }

    pub fn text(key: ConversationKey, text: impl Into<String>) -> Self {
        Self {
            key,
            message_id: None,
            content: Content::Text(text.into()),
            profile: Profile::default(),
            accepted_at: tokio::time::Instant::now(),
            reply_to: None,
            tapped: None,
        }
    }
}

/// A button the user can tap instead of typing: `id` comes back as [`Content::Choice`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuickReply {
    pub id: String,
    pub title: String,
}

impl QuickReply {
    pub fn new(id: impl Into<String>, title: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            title: title.into(),
        }
    }
}

/// One answer of the bot, platform-neutral; the channel renders the quick replies as it can.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub text: String,
    pub quick_replies: Vec<QuickReply>,
    /// A photo or document sent with the text (its caption): what a staff member sends a
    /// customer they attend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Attachment>,
}

/// A staff member's photo or document, relayed to a customer. Staff work on Telegram, so it is
/// a Telegram `file_id`: Telegram sends it again by that id; another channel fetches it from
/// Telegram and uploads it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub kind: AttachmentKind,
    pub telegram_file: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttachmentKind {
    Photo,
    Document,
}

impl AttachmentKind {
    /// A media kind as channels name it (`photo`, `image`, `document`), if it can be relayed.
    pub fn of(kind: &str) -> Option<AttachmentKind> {
        match kind {
            "photo" | "image" => Some(AttachmentKind::Photo),
            "document" => Some(AttachmentKind::Document),
            _ => None,
        }
    }
}

/// A reply on its way to a channel.
#[derive(Clone, Debug)]
pub struct Outbound {
    pub key: ConversationKey,
    pub reply: Reply,
    /// The inbound message this answers, when it had an id (for idempotent sends, read receipts).
    pub in_reply_to: Option<String>,
    /// The reply's row in the store's outbox, when it is durable: the channel marks it sent
    /// once the platform accepted it, and unsent ones are sent again after a restart.
    pub outbox_id: Option<String>,
    pub accepted_at: tokio::time::Instant,
    /// Where the reply goes when not to the user's own chat (a Telegram group), fixed when the
    /// message came in: a private answer never lands in a chat the user wrote to since.
    pub reply_to: Option<String>,
    /// The platform id of a message of ours this reply replaces, where the platform can edit
    /// (Telegram: the staff card, once taken); elsewhere it is sent as a new message.
    pub edit: Option<String>,
    /// On WhatsApp, the approved template to send instead of the text (a notice to a
    /// customer who has not written in the last 24 hours); other platforms send the text.
    pub template: Option<Template>,
}

/// A WhatsApp message template, as approved in the WhatsApp Manager: what may open a
/// conversation outside the 24-hour customer service window.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Template {
    pub name: String,
    /// The template's language code (`es_MX`).
    pub language: String,
    /// The body's parameters, in order (`{{1}}`, `{{2}}`...).
    pub params: Vec<String>,
}

/// Where a channel takes replies. Implemented by every channel (an actor ref, a queue...).
pub trait ReplySink: Send + Sync + 'static {
    fn deliver(&self, out: Outbound);

    /// Replies waiting to go out (queued or in flight): notices wait while it is high, so
    /// that conversation replies go first.
    fn backlog(&self) -> usize {
        0
    }
}

/// How an inbound message is kept in the journal: what is needed to process it again.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct JournalPayload {
    pub content: Content,
    pub profile: Profile,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tapped: Option<String>,
}

impl Inbound {
    /// The journal form of this message (`None` when it has no platform id to dedupe by).
    pub fn journal_entry(&self) -> Option<crate::store::JournalEntry> {
        let message_id = self.message_id.clone()?;
        let payload = serde_json::to_string(&JournalPayload {
            content: self.content.clone(),
            profile: self.profile.clone(),
            reply_to: self.reply_to.clone(),
            tapped: self.tapped.clone(),
        })
        .ok()?;
        Some(crate::store::JournalEntry {
            key: self.key.clone(),
            message_id,
            payload,
        })
    }

    /// Rebuilds a journaled message (after a restart), accepted now.
    pub fn from_journal(entry: &crate::store::JournalEntry) -> Result<Inbound, serde_json::Error> {
        let payload: JournalPayload = serde_json::from_str(&entry.payload)?;
        Ok(Inbound {
            key: entry.key.clone(),
            message_id: Some(entry.message_id.clone()),
            content: payload.content,
            profile: payload.profile,
            accepted_at: tokio::time::Instant::now(),
            reply_to: payload.reply_to,
            tapped: payload.tapped,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_huge_message_is_cut_before_it_is_journaled() {
        let key = ConversationKey::new(Channel::WhatsApp, "5214641111111");
        let inbound = Inbound {
            message_id: Some("wamid.BIG".into()),
            profile: Profile {
                name: Some("N".repeat(10_000)),
                phone: None,
            },
            ..Inbound::text(key, "hola ".repeat(400_000))
        }
        .bounded(4000);
        let Content::Text(t) = &inbound.content else {
            panic!("text")
        };
        assert!(t.chars().count() <= 4000 && t.starts_with("hola hola"));
        let entry = inbound.journal_entry().expect("journaled");
        assert!(entry.payload.len() < 5_000, "{} bytes", entry.payload.len());
    }
}
