//! Business rules: plans, zones, priority rules, reply templates and conversation limits.
//! They are loaded from `config/default.toml` (and the layers above it) by the binary and
//! validated once at start; the engine only reads them. [`names`] matches typed words against
//! the zones' and plans' names.

mod billing;
mod faq;
mod hours;
mod names;
mod notices;
mod validate;

pub use billing::Billing;
pub use faq::Faq;
pub use hours::Handoff;
pub use notices::{NoticeEvent, Notices};

pub use validate::RulesError;

use names::NameWord;

use crate::model::{IncidentKind, Priority};
use crate::text;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// A plan on offer.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub mbps: u32,
    /// "Básico", "Estándar", "Premium".
    pub name: String,
    /// Monthly price in pesos.
    pub price: u32,
}

/// A zone with coverage, and the other ways people name it.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Zone {
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
}

/// One keyword rule for incident priority: any keyword found in the description gives the
/// priority. Rules are tried in order; the first that matches wins.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct PriorityRule {
    pub priority: Priority,
    pub keywords: Vec<String>,
}

/// Conversation limits.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Longest reply, in characters.
    pub max_reply_chars: usize,
    /// Longest accepted user message, in characters; the rest is cut.
    pub max_input_chars: usize,
    /// Inbound messages per minute a user may send (the token bucket's refill rate).
    pub inbound_per_minute: u32,
    /// How many messages a user may send at once before the rate applies.
    pub inbound_burst: u32,
    /// Seconds without messages after which a conversation is passivated.
    pub idle_timeout_secs: u64,
    /// Restart budget: at most `restart_max` restarts of one conversation within
    /// `restart_window_secs`; past it the poison message is dropped.
    pub restart_max: u32,
    pub restart_window_secs: u64,
    /// How many past turns a conversation remembers.
    pub history_turns: usize,
}

impl Limits {
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs)
    }

    pub fn restart_window(&self) -> Duration {
        Duration::from_secs(self.restart_window_secs)
    }
}

/// Who is staff, per channel.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Staff {
    #[serde(default)]
    pub telegram_ids: Vec<String>,
    #[serde(default)]
    pub whatsapp_numbers: Vec<String>,
    #[serde(default)]
    pub console_users: Vec<String>,
    /// The staff group's Telegram chat id, where handoff cards are posted; without it, cards
    /// go to every staff member's private chat.
    #[serde(default)]
    pub telegram_chat_id: Option<String>,
}

/// Everything the conversation engine decides by.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Company name used in replies.
    pub company: String,
    /// Whether replies keep their emojis.
    pub emojis: bool,
    /// Below this NLU confidence the bot says it did not understand instead of guessing.
    pub min_confidence: f32,
    pub limits: Limits,
    pub plans: Vec<Plan>,
    pub zones: Vec<Zone>,
    pub priority_rules: Vec<PriorityRule>,
    /// Priority when no rule matches.
    pub default_priority: Priority,
    #[serde(default)]
    pub staff: Staff,
    /// Questions the config answers (hours, installation time...): any phrase, found in a
    /// short message, gets the answer.
    #[serde(default)]
    pub faq: Vec<Faq>,
    /// How a request is named when it is kept for later ("tu cambio de plan"), by intent.
    #[serde(default)]
    pub topics: BTreeMap<String, String>,
    /// Reply templates (Spanish) by name; `{placeholders}` are filled by the engine.
    pub templates: BTreeMap<String, String>,
    /// Handoff to a person: business hours and the idle release (`[handoff]` in the config
    /// file, set by the binary).
    #[serde(skip)]
    pub handoff: Handoff,
    /// Proactive notices (`[notices]` in the config file, set by the binary).
    #[serde(skip)]
    pub notices: Notices,
    /// Payments (`[billing]` in the config file, set by the binary).
    #[serde(skip)]
    pub billing: Billing,
    /// Every zone's name and aliases, folded and split into words, once (read on every
    /// message by [`Rules::find_zone`]).
    #[serde(skip)]
    zone_words: std::sync::OnceLock<Vec<(usize, Vec<NameWord>)>>,
    /// Every plan's folded name, in the order of `plans` (for [`Rules::plan_by_name`]).
    #[serde(skip)]
    plan_words: std::sync::OnceLock<Vec<NameWord>>,
}

/// The templates the engine uses; every one must be present in config.
pub const TEMPLATE_NAMES: &[&str] = &[
    "greeting",
    "menu",
    "plans",
    "coverage_yes",
    "coverage_no",
    "coverage_ask",
    "register_ask_name",
    "register_ask_zone",
    "register_unknown_zone",
    "register_ask_plan",
    "register_done",
    "incident_ask_what",
    "incident_ask_since",
    "incident_ask_modem",
    "incident_done",
    "status_none",
    "status_list",
    "goodbye",
    "out_of_scope",
    "not_understood",
    "staff_only",
    "staff_private",
    "stats",
    "finance",
    "search_ask",
    "search_results",
    "search_none",
    "cancelled",
    "rate_limited",
    "unsupported",
    "empty",
    "contact_saved",
    "apology",
    "store_error",
    "cancelled_flow",
    "resumed",
    "not_an_answer",
    "no_coverage",
    "register_confirm",
    "register_what_to_change",
    "incident_confirm",
    "change_plan_ask",
    "change_plan_confirm",
    "change_plan_done",
    "cancel_service_confirm",
    "cancel_service_done",
    "cancel_service_kept",
    "complaint",
    "thanks",
    "offer_person",
    "followup_later",
    "followup_now",
    "welcome",
    "registration_corrected",
    "clarify",
    "lead_offer",
    "lead_ask_name",
    "lead_ask_phone",
    "lead_confirm",
    "lead_done",
    "handoff_waiting",
    "handoff_closed_hours",
    "handoff_card",
    "handoff_taken_group",
    "handoff_card_taken",
    "handoff_taken_customer",
    "handoff_taken_staff",
    "handoff_held_by",
    "handoff_gone",
    "handoff_relay",
    "handoff_relay_unsupported",
    "handoff_mine",
    "handoff_none_held",
    "handoff_released_customer",
    "handoff_released_staff",
    "handoff_idle_staff",
    "handoff_abandoned",
    "handoff_unavailable",
    "handoff_switched",
    "handoff_expired",
    "handoff_attend_usage",
    "ticket_closed",
    "ticket_note",
    "ticket_close_usage",
    "ticket_closed_staff",
    "ticket_close_unknown",
    "survey_thanks",
    "survey_already",
    "survey_reopened",
    "survey_alert",
    "outage_known",
    "outage_notice",
    "outage_usage",
    "outage_declared",
    "outage_unknown_zone",
    "outage_resolved",
    "outage_none",
    "outage_list",
    "outage_list_none",
    "outage_stats",
    "notice_declared",
    "notice_eta",
    "notice_restored",
    "notices_off",
    "notices_on",
    "billing_balance",
    "billing_overdue",
    "billing_places",
    "billing_clear",
    "billing_waiting",
    "billing_next_due",
    "billing_ask_id",
    "billing_staff_ask_id",
    "billing_staff_unknown",
    "billing_ask_digits",
    "billing_wrong",
    "billing_locked",
    "billing_ask_receipt",
    "billing_receipt_received",
    "billing_nothing_owed",
    "billing_staff_alert",
    "payment_confirmed",
    "payment_rejected",
    "payment_settled_staff",
    "payment_unknown",
    "payment_usage",
    "billing_reminder",
    "finance_collections",
    "billing_reminder_due",
    "lead_declined",
];

/// A text as its words sound once respelled ("no ay cenal" and "no hay señal" are the same).
fn sounds_of(s: &str) -> String {
    text::fold(s)
        .split(' ')
        .map(|w| crate::nlu::fuzzy::sound(&crate::nlu::fuzzy::nlu_token(w)))
        .collect::<Vec<_>>()
        .join(" ")
}

impl Rules {
    /// The plan of a speed, if offered.
    pub fn plan(&self, mbps: u32) -> Option<&Plan> {
        self.plans.iter().find(|p| p.mbps == mbps)
    }

    /// The priority of an incident from the config rules; `kind` counts as a keyword source too
    /// (a report of no service is "Alta" even in words no rule lists).
    pub fn priority_for(&self, description: &str, kind: Option<IncidentKind>) -> Priority {
        // Compared as they sound, respelled: "no ay cenal" is "no hay señal".
        let folded = format!(" {} ", sounds_of(description));
        for rule in &self.priority_rules {
            if rule
                .keywords
                .iter()
                .any(|k| folded.contains(&format!(" {} ", sounds_of(k))))
            {
                return rule.priority;
            }
        }
        match kind {
            Some(IncidentKind::NoService) => Priority::Alta,
            Some(IncidentKind::Slow | IncidentKind::Intermittent) => Priority::Media,
            _ => self.default_priority,
        }
    }

    /// How a request kept for later is named ("tu cambio de plan").
    pub fn topic(&self, intent: crate::model::Intent) -> String {
        self.topics
            .get(intent.as_str())
            .cloned()
            .unwrap_or_else(|| "lo otro que pediste".to_string())
    }

    /// Whether a user of a channel is staff.
    pub fn is_staff(&self, key: &crate::model::ConversationKey) -> bool {
        use crate::model::Channel;
        let list = match key.channel {
            Channel::Telegram => &self.staff.telegram_ids,
            Channel::WhatsApp => &self.staff.whatsapp_numbers,
            Channel::Console => &self.staff.console_users,
        };
        let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
        // A WhatsApp entry matches by its digits ("+52 1 464…"), and only when it has some: an
        // entry with none must not match every id with none.
        list.iter().any(|s| {
            s == &key.user
                || (key.channel == Channel::WhatsApp && {
                    let d = digits(s);
                    !d.is_empty() && d == digits(&key.user)
                })
        })
    }

    /// A template filled with `{name}` values; emojis removed when they are off.
    pub fn render(&self, template: &str, values: &[(&str, String)]) -> String {
        let mut out = self
            .templates
            .get(template)
            .cloned()
            .unwrap_or_else(|| template.to_string());
        for (k, v) in values {
            out = out.replace(&format!("{{{k}}}"), v);
        }
        out = out.replace("{company}", &self.company);
        self.finish(out)
    }

    /// Any reply text made fit to send: emojis removed when they are off, length capped.
    pub fn finish(&self, text: String) -> String {
        let text = if self.emojis {
            text
        } else {
            text::strip_emojis(&text)
        };
        text::truncate_chars(&text, self.limits.max_reply_chars)
    }

    /// "Básico 20 Mbps: $350/mes" lines.
    pub fn plan_lines(&self) -> String {
        self.plans
            .iter()
            .map(|p| format!("• {} {} Mbps: ${}/mes", p.name, p.mbps, p.price))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// "Norte, Sur, Centro..." list.
    pub fn zone_list(&self) -> String {
        self.zones
            .iter()
            .map(|z| z.name.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests;
