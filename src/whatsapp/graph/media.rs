//! Photos and documents on WhatsApp: a staff member's file (a Telegram `file_id`) is uploaded
//! to the business number's media endpoint (`POST {base}/{version}/{phone_number_id}/media`,
//! multipart, as Meta documents it), then sent by the media id Graph gave it, with the text as
//! its caption.

use super::{
    render_text, transport_error, units, GraphClient, GraphError, GraphMessage,
    MAX_INTERACTIVE_BODY,
};
use crate::channels::media::Fetched;
use redsol_actors::model::{Attachment, AttachmentKind, Reply};
use serde_json::{json, Value};

/// Where the file of a media message is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MediaFile {
    /// A Telegram `file_id`, still to be fetched and uploaded.
    Telegram(String),
    /// The id Graph gave the uploaded file.
    Uploaded(String),
}

/// The file first, with the text as its caption when it is one short text; else the text
/// (and its buttons) follows.
pub(super) fn render(to: &str, reply: &Reply, attachment: &Attachment) -> Vec<GraphMessage> {
    let text = reply.text.trim();
    let short = reply.quick_replies.is_empty() && units(text) <= MAX_INTERACTIVE_BODY;
    let mut messages = vec![GraphMessage::Media {
        to: to.to_string(),
        kind: attachment.kind,
        file: MediaFile::Telegram(attachment.telegram_file.clone()),
        caption: if short {
            text.to_string()
        } else {
            String::new()
        },
    }];
    if !short {
        messages.extend(render_text(to, reply));
    }
    messages
}

/// The JSON body of a media message. A file not uploaded yet has no id Graph would take: its
/// `id` is empty, and Graph refuses it.
pub(super) fn to_json(message: &GraphMessage) -> Value {
    let GraphMessage::Media {
        to,
        kind,
        file,
        caption,
    } = message
    else {
        return Value::Null;
    };
    let id = match file {
        MediaFile::Uploaded(id) => id.as_str(),
        MediaFile::Telegram(_) => "",
    };
    let (kind, mut body) = match kind {
        AttachmentKind::Photo => ("image", json!({ "id": id })),
        AttachmentKind::Document => ("document", json!({ "id": id })),
    };
    if !caption.is_empty() {
        body["caption"] = json!(caption);
    }
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": kind,
        kind: body,
    })
}

#[derive(serde::Deserialize)]
struct Uploaded {
    id: String,
}

impl GraphClient {
    /// Uploads a file to the business number's media; the id to send it by.
    pub async fn upload(&self, file: &Fetched) -> Result<String, GraphError> {
        let part = reqwest::multipart::Part::bytes(file.bytes.clone())
            .file_name(file.file_name.clone())
            .mime_str(&file.mime)
            .map_err(|e| GraphError::Permanent {
                status: 0,
                code: None,
                message: format!("the file's type {} is not valid: {e}", file.mime),
            })?;
        let form = reqwest::multipart::Form::new()
            .text("messaging_product", "whatsapp")
            .text("type", file.mime.clone())
            .part("file", part);
        let response = self
            .http
            .post(format!("{}/media", self.node))
            .bearer_auth(self.token.expose())
            .multipart(form)
            .send()
            .await
            .map_err(transport_error)?;
        let body = self.body_of(response).await?;
        serde_json::from_slice::<Uploaded>(&body)
            .map(|u| u.id)
            .map_err(|_| GraphError::Connection {
                detail: "the media upload answered without an id".into(),
            })
    }

    /// Sends a message (with its `callback`, see [`GraphClient::send_tagged`]); a media
    /// message's Telegram file is `fetched` and uploaded first.
    pub async fn send_media(
        &self,
        message: &GraphMessage,
        callback: Option<&str>,
        fetched: impl std::future::Future<Output = Result<Fetched, GraphError>>,
    ) -> Result<Option<String>, GraphError> {
        match message {
            GraphMessage::Media {
                to,
                kind,
                file: MediaFile::Telegram(_),
                caption,
            } => {
                let id = self.upload(&fetched.await?).await?;
                let uploaded = GraphMessage::Media {
                    to: to.clone(),
                    kind: *kind,
                    file: MediaFile::Uploaded(id),
                    caption: caption.clone(),
                };
                self.send_tagged(&uploaded, callback).await
            }
            other => self.send_tagged(other, callback).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use redsol_actors::model::QuickReply;

    fn photo(text: &str, options: Vec<QuickReply>) -> Reply {
        Reply {
            text: text.into(),
            quick_replies: options,
            attachment: Some(Attachment {
                kind: AttachmentKind::Photo,
                telegram_file: "AgAD-1".into(),
            }),
        }
    }

    #[test]
    fn a_short_text_is_the_caption_of_the_file() {
        let out = super::super::render("521", &photo("  tu módem nuevo ", Vec::new()));
        assert_eq!(
            out,
            vec![GraphMessage::Media {
                to: "521".into(),
                kind: AttachmentKind::Photo,
                file: MediaFile::Telegram("AgAD-1".into()),
                caption: "tu módem nuevo".into(),
            }]
        );
        let uploaded = GraphMessage::Media {
            to: "521".into(),
            kind: AttachmentKind::Document,
            file: MediaFile::Uploaded("MEDIA-9".into()),
            caption: String::new(),
        };
        assert_eq!(
            uploaded.to_json()["document"],
            json!({"id": "MEDIA-9"}),
            "no empty caption"
        );
        assert_eq!(uploaded.to_json()["type"], "document");
    }

    #[test]
    fn a_long_text_or_buttons_follow_the_file() {
        let long = "x ".repeat(700);
        let out = super::super::render("521", &photo(&long, Vec::new()));
        assert!(matches!(&out[0], GraphMessage::Media { caption, .. } if caption.is_empty()));
        assert!(matches!(out[1], GraphMessage::Text { .. }));
        let out = super::super::render("521", &photo("¿ok?", vec![QuickReply::new("si", "Sí")]));
        assert_eq!(out.len(), 2);
        assert!(matches!(out[1], GraphMessage::Buttons { .. }));
    }
}
