//! Domain types shared by every part of redsol: who is talking, what they said, what we answer,
//! and the records the store keeps. Parsed once at the edge (a channel adapter), used everywhere.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::hash::Hash;

mod messages;
mod records;
mod understanding;

pub use messages::*;
pub use records::*;
pub use understanding::*;

/// The platform a conversation happens on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Console,
    Telegram,
    #[serde(rename = "whatsapp")]
    WhatsApp,
}

impl Channel {
    pub const ALL: [Channel; 3] = [Channel::Console, Channel::Telegram, Channel::WhatsApp];

    /// The name used in metrics labels, logs and the store.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Console => "console",
            Channel::Telegram => "telegram",
            Channel::WhatsApp => "whatsapp",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One conversation: a user on a channel. The user id is the platform's (Telegram user id,
/// WhatsApp `wa_id`, or the console session name).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
pub struct ConversationKey {
    pub channel: Channel,
    pub user: String,
}

/// The secret of [`ConversationKey::opaque_id`]; set once at start from the data directory.
static OPAQUE_ID_KEY: std::sync::OnceLock<[u8; 32]> = std::sync::OnceLock::new();

/// Sets the secret opaque ids are keyed with (once per process; later calls are ignored).
/// Until it is set, ids are keyed with zeros: stable, but reversible by brute force.
pub fn set_opaque_id_key(key: [u8; 32]) {
    let _ = OPAQUE_ID_KEY.set(key);
}

impl ConversationKey {
    pub fn new(channel: Channel, user: impl Into<String>) -> Self {
        Self {
            channel,
            user: user.into(),
        }
    }

    /// The key as stored (`channel:user`).
    pub fn storage_key(&self) -> String {
        format!("{}:{}", self.channel, self.user)
    }

    /// [`Self::opaque_id`], computed only when written: a log line that is off costs nothing
    /// (an HMAC is some 15,000 instructions, and a reply's path names its conversation in
    /// several places).
    pub fn opaque(&self) -> Opaque<'_> {
        Opaque(self)
    }

    /// An opaque id for logs and traces: an HMAC of the key under [`set_opaque_id_key`]'s
    /// secret, never the phone number or user id itself, and not reversible by trying every
    /// phone number without the secret.
    pub fn opaque_id(&self) -> String {
        use hmac::{Hmac, Mac};
        let secret = OPAQUE_ID_KEY.get().map_or(&[0u8; 32][..], |k| &k[..]);
        let mut mac = match Hmac::<sha2::Sha256>::new_from_slice(secret) {
            Ok(mac) => mac,
            Err(_) => return "c-".to_string(),
        };
        mac.update(self.channel.as_str().as_bytes());
        mac.update(b":");
        mac.update(self.user.as_bytes());
        let tag = mac.finalize().into_bytes();
        let id = tag[..8].iter().fold(0u64, |n, b| n << 8 | u64::from(*b));
        format!("c{id:016x}")
    }
}

/// A conversation's opaque id, as [`ConversationKey::opaque`] gives it: written on demand.
#[derive(Clone, Copy, Debug)]
pub struct Opaque<'a>(&'a ConversationKey);

impl std::fmt::Display for Opaque<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0.opaque_id())
    }
}
