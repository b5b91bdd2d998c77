//! `[notices]` in the config: how proactive notices (a zone outage declared, its ETA changed,
//! service restored) go out.

use crate::model::Template;
use serde::Deserialize;

/// `[notices]` in the config.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Notices {
    /// Notices handed to the senders per second, across channels (below the platforms'
    /// limits: Graph takes 80 a second per number, Telegram 30).
    pub per_second: u32,
    /// Notices wait while a sender has more replies than this waiting: replies go first.
    pub max_backlog: usize,
    /// After a stop, a WhatsApp notice that was handed to Graph and never marked sent waits
    /// this long for Graph's status of it (which names the notice): confirmed, it is not sent
    /// again; unconfirmed, it is sent again. Longer than Meta's webhook retries take to reach
    /// a restarted process, so that a notice is neither lost nor sent twice.
    pub confirm_wait_secs: u64,
    /// The country code put before a client's 10-digit phone to reach it on WhatsApp.
    pub whatsapp_country_code: String,
    /// The WhatsApp templates sent outside the 24-hour window (approved in the WhatsApp
    /// Manager, with these body parameters): declared {{1}} zone, {{2}} cause, {{3}} ETA;
    /// ETA changed {{1}} zone, {{2}} ETA; restored {{1}} zone. Empty: no notice outside the
    /// window.
    pub template_language: String,
    pub declared_template: String,
    pub eta_template: String,
    pub restored_template: String,
}

impl Default for Notices {
    fn default() -> Self {
        Self {
            per_second: 20,
            max_backlog: 100,
            confirm_wait_secs: 600,
            whatsapp_country_code: "52".into(),
            template_language: "es_MX".into(),
            declared_template: "falla_zona".into(),
            eta_template: "falla_zona_eta".into(),
            restored_template: "servicio_restablecido".into(),
        }
    }
}

/// What a notice is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeEvent {
    Declared,
    EtaChanged,
    Restored,
}

impl Notices {
    /// The template of an event with its parameters, when one is configured.
    pub fn template(
        &self,
        event: NoticeEvent,
        zone: &str,
        cause: &str,
        eta: &str,
    ) -> Option<Template> {
        let (name, params) = match event {
            NoticeEvent::Declared => (&self.declared_template, vec![zone, cause, eta]),
            NoticeEvent::EtaChanged => (&self.eta_template, vec![zone, eta]),
            NoticeEvent::Restored => (&self.restored_template, vec![zone]),
        };
        (!name.trim().is_empty()).then(|| Template {
            name: name.trim().to_string(),
            language: self.template_language.trim().to_string(),
            params: params.into_iter().map(str::to_string).collect(),
        })
    }

    /// The first problem with these settings: the key and what is wrong.
    pub fn problem(&self) -> Option<(&'static str, String)> {
        if !(1..=1000).contains(&self.per_second) {
            return Some(("notices.per_second", "must be between 1 and 1000".into()));
        }
        let code = self.whatsapp_country_code.trim();
        if code.is_empty() || code.len() > 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Some((
                "notices.whatsapp_country_code",
                "must be 1 to 3 digits (52 for Mexico)".into(),
            ));
        }
        if self.template_language.trim().is_empty() {
            return Some((
                "notices.template_language",
                "must not be empty (es_MX)".into(),
            ));
        }
        None
    }
}
