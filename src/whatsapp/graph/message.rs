//! The messages redsol sends to the Graph API and their JSON bodies.

use super::media::{self, MediaFile};
use super::render::LIST_SECTION_TITLE;
use redsol_actors::model::AttachmentKind;
use serde_json::{json, Value};

/// One message to the Graph API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GraphMessage {
    /// A text message (`body` at most 4096 characters; links are not previewed).
    Text { to: String, body: String },
    /// An interactive message with up to 3 reply buttons, as `(id, title)`.
    Buttons {
        to: String,
        body: String,
        buttons: Vec<(String, String)>,
    },
    /// An interactive list with one section of up to 10 rows, as `(id, title)`; `button` is
    /// the label of the button that opens it.
    List {
        to: String,
        body: String,
        button: String,
        rows: Vec<(String, String)>,
    },
    /// An approved template with its body parameters (what may open a conversation
    /// outside the 24-hour window).
    Template {
        to: String,
        name: String,
        language: String,
        params: Vec<String>,
    },
    /// Marks an inbound message as read (blue ticks).
    MarkRead { message_id: String },
    /// A photo or document with its caption (see [`media`]): a staff member's file, fetched
    /// from Telegram and uploaded before it is sent.
    Media {
        to: String,
        kind: AttachmentKind,
        file: MediaFile,
        caption: String,
    },
}

impl GraphMessage {
    /// `text`, `button`, `list` or `read`: for logs (never the recipient or the text).
    pub fn kind(&self) -> &'static str {
        match self {
            GraphMessage::Text { .. } => "text",
            GraphMessage::Buttons { .. } => "button",
            GraphMessage::List { .. } => "list",
            GraphMessage::Template { .. } => "template",
            GraphMessage::MarkRead { .. } => "read",
            GraphMessage::Media {
                kind: AttachmentKind::Photo,
                ..
            } => "image",
            GraphMessage::Media {
                kind: AttachmentKind::Document,
                ..
            } => "document",
        }
    }

    /// The recipient, for the messages that have one.
    pub fn to(&self) -> Option<&str> {
        match self {
            GraphMessage::Text { to, .. }
            | GraphMessage::Buttons { to, .. }
            | GraphMessage::List { to, .. }
            | GraphMessage::Template { to, .. }
            | GraphMessage::Media { to, .. } => Some(to),
            GraphMessage::MarkRead { .. } => None,
        }
    }

    /// The JSON body Graph expects for this message.
    pub fn to_json(&self) -> Value {
        match self {
            GraphMessage::Text { to, body } => json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": to,
                "type": "text",
                "text": { "preview_url": false, "body": body },
            }),
            GraphMessage::Buttons { to, body, buttons } => {
                let buttons: Vec<Value> = buttons
                    .iter()
                    .map(|(id, title)| json!({ "type": "reply", "reply": { "id": id, "title": title } }))
                    .collect();
                json!({
                    "messaging_product": "whatsapp",
                    "recipient_type": "individual",
                    "to": to,
                    "type": "interactive",
                    "interactive": {
                        "type": "button",
                        "body": { "text": body },
                        "action": { "buttons": buttons },
                    },
                })
            }
            GraphMessage::List {
                to,
                body,
                button,
                rows,
            } => {
                let rows: Vec<Value> = rows
                    .iter()
                    .map(|(id, title)| json!({ "id": id, "title": title }))
                    .collect();
                json!({
                    "messaging_product": "whatsapp",
                    "recipient_type": "individual",
                    "to": to,
                    "type": "interactive",
                    "interactive": {
                        "type": "list",
                        "body": { "text": body },
                        "action": {
                            "button": button,
                            "sections": [{ "title": LIST_SECTION_TITLE, "rows": rows }],
                        },
                    },
                })
            }
            GraphMessage::Template {
                to,
                name,
                language,
                params,
            } => {
                let params: Vec<Value> = params
                    .iter()
                    .map(|p| json!({ "type": "text", "text": p }))
                    .collect();
                json!({
                    "messaging_product": "whatsapp",
                    "recipient_type": "individual",
                    "to": to,
                    "type": "template",
                    "template": {
                        "name": name,
                        "language": { "code": language },
                        "components": [{ "type": "body", "parameters": params }],
                    },
                })
            }
            GraphMessage::MarkRead { message_id } => json!({
                "messaging_product": "whatsapp",
                "status": "read",
                "message_id": message_id,
            }),
            GraphMessage::Media { .. } => media::to_json(self),
        }
    }
}
