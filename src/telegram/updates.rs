//! Telegram updates as [`Inbound`] messages: parsed once here, at the edge.
//!
//! - Private chats: text; commands (`/start` stays `/start`, which the engine greets; `/menu`,
//!   `/ayuda` and `/cancelar` become the words the engine knows); the user's own shared contact
//!   as [`Content::Contact`]; a location or venue as [`Content::Location`]; stickers, photos,
//!   voice notes, videos and documents as [`Content::Media`] (their `file_id` and caption);
//!   polls, dice and edited messages as [`Content::Unsupported`]. The engine answers what it
//!   cannot read in Spanish.
//! - Taps on inline buttons (callback queries) as [`Content::Choice`] with the button's data.
//! - Group chats, per `telegram.groups`: only commands addressed to the bot (`/menu@bot`), or
//!   nothing. The reply goes to the group.
//! - Everything else (channel posts, service messages, bots, update kinds we do not ask for) is
//!   skipped; its update id is still committed.
//!
//! The conversation is the user's (`from.id`), whatever the chat; the profile name is the
//! user's first and last name. The message id is `tg:<update_id>`, which the journal
//! deduplicates by.

use crate::settings::GroupMode;
use redsol_actors::flows::handoff::STAFF_COMMANDS;
use redsol_actors::model::{Channel, Content, ConversationKey, Inbound, Profile};
use teloxide::types::{
    CallbackQuery, CallbackQueryId, Chat, Message, MessageKind, Update, UpdateKind, User,
};

/// Who the bot is (from `getMe`): commands in groups must name it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Identity {
    pub id: u64,
    pub username: String,
}

/// What to do with one update.
#[derive(Debug)]
pub enum Intake {
    /// A message for a conversation.
    Accept {
        inbound: Box<Inbound>,
        /// The chat to answer in when it is not the user's private chat (a group).
        reply_chat: Option<i64>,
        /// The callback query to answer (it stops the button's spinner).
        callback: Option<CallbackQueryId>,
    },
    /// Nothing for a conversation; `reason` is for logs.
    Skip {
        reason: &'static str,
        callback: Option<CallbackQueryId>,
    },
}

impl Intake {
    fn skip(reason: &'static str) -> Intake {
        Intake::Skip {
            reason,
            callback: None,
        }
    }
}

/// The journal id of an update.
pub fn message_id(update_id: u32) -> String {
    format!("tg:{update_id}")
}

/// Parses one update.
pub fn parse(update: &Update, me: &Identity, groups: GroupMode) -> Intake {
    let id = update.id.0;
    match &update.kind {
        UpdateKind::Message(m) => from_message(id, m, false, me, groups),
        UpdateKind::EditedMessage(m) => from_message(id, m, true, me, groups),
        UpdateKind::CallbackQuery(q) => from_callback(id, q, groups),
        UpdateKind::ChannelPost(_) | UpdateKind::EditedChannelPost(_) => {
            Intake::skip("channel_post")
        }
        UpdateKind::Error(_) => Intake::skip("unknown_update"),
        _ => Intake::skip("other_update"),
    }
}

fn inbound(update_id: u32, from: &User, content: Content) -> Box<Inbound> {
    let name = from.full_name().trim().to_string();
    let phone = match &content {
        Content::Contact { phone } => Some(phone.clone()),
        _ => None,
    };
    Box::new(Inbound {
        key: ConversationKey::new(Channel::Telegram, from.id.0.to_string()),
        message_id: Some(message_id(update_id)),
        content,
        profile: Profile {
            name: (!name.is_empty()).then_some(name),
            phone,
        },
        accepted_at: tokio::time::Instant::now(),
        reply_to: None,
        tapped: None,
    })
}

fn is_group(chat: &Chat) -> bool {
    chat.is_group() || chat.is_supergroup()
}

fn from_message(
    update_id: u32,
    m: &Message,
    edited: bool,
    me: &Identity,
    groups: GroupMode,
) -> Intake {
    let Some(from) = m.from.as_ref() else {
        return Intake::skip("no_sender");
    };
    if from.is_bot {
        return Intake::skip("from_bot");
    }
    if is_group(&m.chat) {
        if groups == GroupMode::Ignore {
            return Intake::skip("group_ignored");
        }
        if edited {
            return Intake::skip("group_edit");
        }
        let Some(cmd) = m.text().and_then(Command::parse) else {
            return Intake::skip("group_not_a_command");
        };
        if !cmd.is_for(me, true) {
            return Intake::skip("group_command_for_another_bot");
        }
        return Intake::Accept {
            inbound: inbound(update_id, from, Content::Text(cmd.as_text())),
            reply_chat: Some(m.chat.id.0),
            callback: None,
        };
    }
    if !m.chat.is_private() {
        return Intake::skip("not_a_private_chat");
    }
    let content = if edited {
        Content::Unsupported("edited_message".into())
    } else {
        match content_of(m, from, me) {
            Ok(c) => c,
            Err(reason) => return Intake::skip(reason),
        }
    };
    Intake::Accept {
        inbound: inbound(update_id, from, content),
        reply_chat: None,
        callback: None,
    }
}

fn content_of(m: &Message, from: &User, me: &Identity) -> Result<Content, &'static str> {
    if let Some(text) = m.text() {
        return match Command::parse(text) {
            Some(cmd) if cmd.is_for(me, false) => Ok(Content::Text(cmd.as_text())),
            Some(_) => Err("command_for_another_bot"),
            None => Ok(Content::Text(text.to_string())),
        };
    }
    if let Some(contact) = m.contact() {
        // Only the user's own number: a contact card of someone else is not theirs to give.
        return Ok(if contact.user_id == Some(from.id) {
            Content::Contact {
                phone: contact.phone_number.clone(),
            }
        } else {
            Content::Unsupported("contact".into())
        });
    }
    if let Some(venue) = m.venue() {
        return Ok(Content::Location {
            latitude: venue.location.latitude,
            longitude: venue.location.longitude,
            name: Some(venue.title.clone()),
            address: Some(venue.address.clone()),
        });
    }
    if let Some(loc) = m.location() {
        return Ok(Content::Location {
            latitude: loc.latitude,
            longitude: loc.longitude,
            name: None,
            address: None,
        });
    }
    // Media keep their `file_id` (a photo's largest size) and caption.
    let caption = m
        .caption()
        .map(str::to_string)
        .filter(|c| !c.trim().is_empty());
    let media = |kind: &str, id: &str| Content::Media {
        kind: kind.into(),
        id: id.to_string(),
        caption: caption.clone(),
    };
    if let Some(sizes) = m.photo() {
        if let Some(largest) = sizes.iter().max_by_key(|p| p.width * p.height) {
            return Ok(media("photo", &largest.file.id.0));
        }
    }
    let file = [
        m.sticker().map(|f| ("sticker", &f.file.id)),
        m.voice().map(|f| ("voice", &f.file.id)),
        m.audio().map(|f| ("audio", &f.file.id)),
        m.video().map(|f| ("video", &f.file.id)),
        m.video_note().map(|f| ("video_note", &f.file.id)),
        m.animation().map(|f| ("animation", &f.file.id)),
        m.document().map(|f| ("document", &f.file.id)),
    ]
    .into_iter()
    .flatten()
    .next();
    if let Some((kind, id)) = file {
        return Ok(media(kind, &id.0));
    }
    let kind = if m.poll().is_some() {
        "poll"
    } else if m.dice().is_some() {
        "dice"
    } else if let MessageKind::Common(_) = m.kind {
        "other"
    } else {
        // Service messages: someone joined, a title changed, a message was pinned...
        return Err("service_message");
    };
    Ok(Content::Unsupported(kind.into()))
}

fn from_callback(update_id: u32, q: &CallbackQuery, groups: GroupMode) -> Intake {
    let callback = Some(q.id.clone());
    if q.from.is_bot {
        return Intake::Skip {
            reason: "from_bot",
            callback,
        };
    }
    let Some(data) = q.data.as_ref().filter(|d| !d.is_empty()) else {
        return Intake::Skip {
            reason: "callback_without_data",
            callback,
        };
    };
    let chat = q.message.as_ref().map(|m| m.chat());
    let reply_chat = match chat {
        Some(c) if is_group(c) => {
            if groups == GroupMode::Ignore {
                return Intake::Skip {
                    reason: "group_ignored",
                    callback,
                };
            }
            Some(c.id.0)
        }
        _ => None,
    };
    let mut tap = inbound(update_id, &q.from, Content::Choice(data.clone()));
    // The message the button was on: an answer may replace it (a staff card, once taken).
    tap.tapped = q.message.as_ref().map(|m| m.id().0.to_string());
    Intake::Accept {
        inbound: tap,
        reply_chat,
        callback,
    }
}

/// A bot command: `/name@bot args`.
#[derive(Debug, PartialEq, Eq)]
struct Command {
    name: String,
    target: Option<String>,
    args: String,
}

impl Command {
    fn parse(text: &str) -> Option<Command> {
        let text = text.trim_start();
        let rest = text.strip_prefix('/')?;
        let (head, args) = rest
            .split_once(char::is_whitespace)
            .map_or((rest, ""), |(h, a)| (h, a.trim()));
        let (name, target) = match head.split_once('@') {
            Some((n, t)) => (n, Some(t.to_string())),
            None => (head, None),
        };
        let valid = !name.is_empty()
            && name.len() <= 32
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        valid.then(|| Command {
            name: name.to_ascii_lowercase(),
            target,
            args: args.to_string(),
        })
    }

    /// Whether the command is for this bot: named, or (outside groups) unnamed.
    fn is_for(&self, me: &Identity, in_group: bool) -> bool {
        match &self.target {
            Some(t) => t.eq_ignore_ascii_case(&me.username),
            None => !in_group,
        }
    }

    /// What the engine is told.
    fn as_text(&self) -> String {
        match self.name.as_str() {
            // A deep-link payload after /start is not for the engine.
            "start" => "/start".to_string(),
            "menu" | "inicio" => "menu".to_string(),
            "ayuda" | "help" => "ayuda".to_string(),
            "cancelar" | "cancel" => "cancelar".to_string(),
            // Staff commands keep their slash (the engine's list).
            name if STAFF_COMMANDS.contains(&format!("/{name}").as_str()) => {
                format!("/{name} {}", self.args).trim_end().to_string()
            }
            other if self.args.is_empty() => other.replace('_', " "),
            other => format!("{} {}", other.replace('_', " "), self.args),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> Identity {
        Identity {
            id: 1,
            username: "redsol_bot".into(),
        }
    }

    fn update(json: serde_json::Value) -> Update {
        match serde_json::from_str(&json.to_string()) {
            Ok(u) => u,
            Err(e) => panic!("test update does not parse: {e}"),
        }
    }

    fn private_message(extra: serde_json::Value) -> serde_json::Value {
        let mut m = serde_json::json!({
            "message_id": 7,
            "date": 1_700_000_000,
            "from": {"id": 42, "is_bot": false, "first_name": "Ana", "last_name": "López"},
            "chat": {"id": 42, "type": "private", "first_name": "Ana"},
        });
        if let (Some(m), Some(extra)) = (m.as_object_mut(), extra.as_object()) {
            for (k, v) in extra {
                m.insert(k.clone(), v.clone());
            }
        }
        serde_json::json!({"update_id": 10, "message": m})
    }

    fn accepted(intake: Intake) -> (Inbound, Option<i64>) {
        match intake {
            Intake::Accept {
                inbound,
                reply_chat,
                ..
            } => (*inbound, reply_chat),
            Intake::Skip { reason, .. } => panic!("skipped: {reason}"),
        }
    }

    #[test]
    fn commands_become_what_the_engine_knows() {
        for (typed, said) in [
            ("/start", "/start"),
            ("/start promo", "/start"),
            ("/menu", "menu"),
            ("/ayuda", "ayuda"),
            ("/cancelar", "cancelar"),
            ("/menu@redsol_bot", "menu"),
            ("/planes", "planes"),
            ("/soltar", "/soltar"),
            ("/mis@redsol_bot", "/mis"),
            ("/cliente ahora", "/cliente ahora"),
            ("/cerrar INC-000001 listo", "/cerrar INC-000001 listo"),
        ] {
            let u = update(private_message(serde_json::json!({ "text": typed })));
            let (inbound, chat) = accepted(parse(&u, &me(), GroupMode::Commands));
            assert_eq!(inbound.content, Content::Text(said.into()), "{typed}");
            assert_eq!(chat, None);
            assert_eq!(inbound.key.user, "42");
            assert_eq!(inbound.message_id.as_deref(), Some("tg:10"));
            assert_eq!(inbound.profile.name.as_deref(), Some("Ana López"));
        }
        let u = update(private_message(
            serde_json::json!({ "text": "/menu@otro_bot" }),
        ));
        assert!(matches!(
            parse(&u, &me(), GroupMode::Commands),
            Intake::Skip { .. }
        ));
    }

    #[test]
    fn contacts_are_taken_only_when_they_are_the_users_own() {
        let own = update(private_message(serde_json::json!({
            "contact": {"phone_number": "+524641234567", "first_name": "Ana", "user_id": 42}
        })));
        let (inbound, _) = accepted(parse(&own, &me(), GroupMode::Commands));
        assert_eq!(
            inbound.content,
            Content::Contact {
                phone: "+524641234567".into()
            }
        );
        let other = update(private_message(serde_json::json!({
            "contact": {"phone_number": "+525550000000", "first_name": "Luis", "user_id": 77}
        })));
        let (inbound, _) = accepted(parse(&other, &me(), GroupMode::Commands));
        assert_eq!(inbound.content, Content::Unsupported("contact".into()));
    }

    #[test]
    fn media_keep_their_file_id_edits_are_unsupported_and_service_messages_skipped() {
        let sticker = update(private_message(serde_json::json!({
            "sticker": {"file_id": "a", "file_unique_id": "b", "type": "regular",
                        "width": 512, "height": 512, "is_animated": false, "is_video": false}
        })));
        let (inbound, _) = accepted(parse(&sticker, &me(), GroupMode::Commands));
        assert_eq!(
            inbound.content,
            Content::Media {
                kind: "sticker".into(),
                id: "a".into(),
                caption: None
            }
        );
        let photo = update(private_message(serde_json::json!({
            "photo": [
                {"file_id": "small", "file_unique_id": "s", "width": 90, "height": 90},
                {"file_id": "large", "file_unique_id": "l", "width": 1280, "height": 960}
            ],
            "caption": "mi recibo"
        })));
        let (inbound, _) = accepted(parse(&photo, &me(), GroupMode::Commands));
        assert_eq!(
            inbound.content,
            Content::Media {
                kind: "photo".into(),
                id: "large".into(),
                caption: Some("mi recibo".into())
            }
        );

        let mut edited =
            private_message(serde_json::json!({"text": "hola", "edit_date": 1_700_000_100}));
        if let Some(m) = edited.as_object_mut().and_then(|o| o.remove("message")) {
            edited["edited_message"] = m;
        }
        let (inbound, _) = accepted(parse(&update(edited), &me(), GroupMode::Commands));
        assert_eq!(
            inbound.content,
            Content::Unsupported("edited_message".into())
        );

        let joined = update(private_message(serde_json::json!({
            "new_chat_members": [{"id": 5, "is_bot": false, "first_name": "X"}]
        })));
        assert!(matches!(
            parse(&joined, &me(), GroupMode::Commands),
            Intake::Skip { .. }
        ));
    }

    #[test]
    fn groups_answer_only_commands_addressed_to_the_bot() {
        let group = |text: &str| {
            update(serde_json::json!({"update_id": 11, "message": {
                "message_id": 3, "date": 1_700_000_000, "text": text,
                "from": {"id": 42, "is_bot": false, "first_name": "Ana"},
                "chat": {"id": -100123, "type": "supergroup", "title": "Vecinos"}
            }}))
        };
        let (inbound, chat) = accepted(parse(
            &group("/menu@RedSol_Bot"),
            &me(),
            GroupMode::Commands,
        ));
        assert_eq!(inbound.content, Content::Text("menu".into()));
        assert_eq!(chat, Some(-100123));
        for text in ["/menu", "/menu@otro_bot", "hola a todos"] {
            assert!(
                matches!(
                    parse(&group(text), &me(), GroupMode::Commands),
                    Intake::Skip { .. }
                ),
                "{text}"
            );
        }
        assert!(matches!(
            parse(&group("/menu@redsol_bot"), &me(), GroupMode::Ignore),
            Intake::Skip { .. }
        ));
    }

    #[test]
    fn button_taps_become_choices_to_answer() {
        let u = update(serde_json::json!({"update_id": 12, "callback_query": {
            "id": "cbq-1", "chat_instance": "ci", "data": "zone:Norte",
            "from": {"id": 42, "is_bot": false, "first_name": "Ana"},
            "message": {"message_id": 9, "date": 1_700_000_000, "text": "¿Zona?",
                        "chat": {"id": 42, "type": "private", "first_name": "Ana"}}
        }}));
        match parse(&u, &me(), GroupMode::Commands) {
            Intake::Accept {
                inbound, callback, ..
            } => {
                assert_eq!(inbound.content, Content::Choice("zone:Norte".into()));
                assert_eq!(callback.map(|c| c.0), Some("cbq-1".to_string()));
            }
            Intake::Skip { reason, .. } => panic!("skipped: {reason}"),
        }
    }
}
