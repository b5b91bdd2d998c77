//! Proactive notices of zone outages: on declaration, on an ETA change and on restore, every
//! client of the zone who can be reached is told once per event, across restarts.
//!
//! - **Who:** the zone's clients with a phone. A client who wrote to the bot is told on the
//!   channel they last wrote on (a Telegram chat is known once they shared their phone); else,
//!   with WhatsApp running, at `notices.whatsapp_country_code` + their phone. Anyone who wrote
//!   "BAJA AVISOS" is left out ("ALTA AVISOS" undoes it).
//! - **How:** on WhatsApp, a customer who has not written in the last 24 hours gets the
//!   approved template of `[notices]` (text is refused outside the window); otherwise the text.
//! - **Once:** each notice is queued under `notice:<outage>:<event>:<channel>:<user>`; the
//!   store keeps one per id, and [`crate::campaign`] releases them at the configured rate.
//!
//! The engine records when a customer writes ([`Engine::touch_contact`]) at most hourly, so
//! the window is judged on a time that is never later than the truth.
//!
//! Metric: `redsol_outage_notices_total{channel,outcome}`: `queued` per notice of a campaign,
//! `opted_out` per client left out, `no_template` per WhatsApp client outside the window with
//! no template configured, `released` when the campaign hands a notice to its sender.

use crate::engine::{ConversationState, Engine};
use crate::model::{Channel, Client, Content, ConversationKey, Inbound, Reply, Template};
use crate::rules::NoticeEvent;
use crate::store::notices::{Contact, Notice, NOTICE_PREFIX};
use crate::store::outages::Outage;
use crate::text;
use std::collections::HashMap;

/// How often a customer's last message is recorded, at most.
const TOUCH_EVERY_SECS: u64 = 3600;
/// WhatsApp's customer service window.
const WINDOW_SECS: u64 = 24 * 3600;

fn count(channel: Channel, outcome: &'static str, n: u64) {
    metrics::counter!("redsol_outage_notices_total", "channel" => channel.as_str(), "outcome" => outcome)
        .increment(n);
}

/// Who can be reached: the contacts by the last 10 digits of their phone.
pub(crate) struct Audience {
    by_phone: HashMap<String, Vec<Contact>>,
    now: u64,
}

/// Clients a campaign left out, by why.
#[derive(Default)]
pub(crate) struct Tally {
    pub opted_out: u64,
    pub no_template: u64,
}

impl Tally {
    /// Counts the clients left out in `redsol_outage_notices_total` (outages) or
    /// `redsol_reminders_total` (reminders).
    pub(crate) fn count(&self, campaign: &'static str) {
        let metric = if campaign == "outage" {
            "redsol_outage_notices_total"
        } else {
            "redsol_reminders_total"
        };
        for (outcome, n) in [
            ("opted_out", self.opted_out),
            ("no_template", self.no_template),
        ] {
            if n > 0 {
                metrics::counter!(metric, "channel" => Channel::WhatsApp.as_str(), "outcome" => outcome)
                    .increment(n);
            }
        }
    }
}

impl NoticeEvent {
    fn tag(self, eta: &str) -> String {
        match self {
            NoticeEvent::Declared => "declared".into(),
            // One event per ETA said: a new ETA is news, the same one repeated is not.
            NoticeEvent::EtaChanged => format!("eta-{}", text::fold(eta).replace(' ', "_")),
            NoticeEvent::Restored => "restored".into(),
        }
    }

    fn template_name(self) -> &'static str {
        match self {
            NoticeEvent::Declared => "notice_declared",
            NoticeEvent::EtaChanged => "notice_eta",
            NoticeEvent::Restored => "notice_restored",
        }
    }
}

impl Engine {
    /// Records that the customer wrote (at most hourly), with the phone they shared (in this
    /// message or before).
    pub(crate) async fn touch_contact(&self, state: &mut ConversationState, inbound: &Inbound) {
        let key = &inbound.key;
        if !matches!(key.channel, Channel::WhatsApp | Channel::Telegram) {
            return;
        }
        let now = self.now();
        let shared = match &inbound.content {
            Content::Contact { phone } => Some(text::clean_input(phone, 20)),
            _ => None,
        };
        let phone = shared
            .or_else(|| state.profile.phone.clone())
            .or_else(|| crate::engine::phone_of(key));
        let shared_now = phone.is_some() && state.contact_phone != phone;
        if !shared_now && now.saturating_sub(state.contact_touched) < TOUCH_EVERY_SECS {
            return;
        }
        match self
            .store
            .notices()
            .touch_contact(key, phone.clone(), now)
            .await
        {
            Ok(()) => {
                state.contact_touched = now;
                state.contact_phone = phone;
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not record a contact; notices may use a template")
            }
        }
    }

    /// "BAJA AVISOS" turns notices off, "ALTA AVISOS" on again.
    pub(crate) async fn notices_command(
        &self,
        key: &ConversationKey,
        typed: &str,
    ) -> Option<Reply> {
        let folded = text::fold(typed);
        let opted_out = match folded.as_str() {
            "baja avisos" | "baja de avisos" | "no quiero avisos" => true,
            "alta avisos" | "alta de avisos" | "quiero avisos" => false,
            _ => return None,
        };
        if let Err(e) = self
            .store
            .notices()
            .set_opted_out(key, opted_out, self.now())
            .await
        {
            tracing::error!(error = %e, "could not record a notices opt-out");
            return Some(self.say("store_error", &[]));
        }
        tracing::info!(event = "notices_opt", opted_out, conversation = %key.opaque_id(), "notices preference changed");
        Some(self.say(
            if opted_out {
                "notices_off"
            } else {
                "notices_on"
            },
            &[],
        ))
    }

    /// Queues the notices of an outage event for every client of its zone who can be reached.
    /// Returns how many were new (a repeated event queues none).
    pub async fn queue_outage_notices(&self, o: &Outage, event: NoticeEvent) -> usize {
        let notices = match self.outage_notices(o, event).await {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(error = %e, outage = %o.id, "could not build the outage notices");
                return 0;
            }
        };
        let mut per_channel: HashMap<Channel, u64> = HashMap::new();
        for n in &notices {
            *per_channel.entry(n.key.channel).or_default() += 1;
        }
        match self.store.notices().queue_notices(notices).await {
            Ok(new) => {
                if new > 0 {
                    for (channel, n) in per_channel {
                        count(channel, "queued", n);
                    }
                }
                tracing::info!(event = "outage_notices", outage = %o.id, zone = %o.zone, kind = ?event, new, "outage notices queued");
                new
            }
            Err(e) => {
                tracing::error!(error = %e, outage = %o.id, "could not queue the outage notices");
                0
            }
        }
    }

    async fn outage_notices(
        &self,
        o: &Outage,
        event: NoticeEvent,
    ) -> crate::store::StoreResult<Vec<Notice>> {
        let clients = self.store.clients().await?;
        let audience = self.audience().await?;
        let values = [
            ("zone", o.zone.clone()),
            ("cause", o.cause.clone()),
            ("eta", o.eta.clone()),
        ];
        let reply = self.say(event.template_name(), &values);
        let template = self
            .rules
            .notices
            .template(event, &o.zone, &o.cause, &o.eta);
        let tag = event.tag(&o.eta);
        let mut notices = Vec::new();
        let mut tally = Tally::default();
        for client in clients.iter().filter(|c| c.zone == o.zone) {
            let id = |key: &ConversationKey| {
                format!("{NOTICE_PREFIX}{}:{tag}:{}:{}", o.id, key.channel, key.user)
            };
            if let Some(n) = self.notice_for(&audience, client, &reply, &template, id, &mut tally) {
                notices.push(n);
            }
        }
        tally.count("outage");
        Ok(notices)
    }

    /// Who can be reached, from the contacts (once per campaign).
    pub(crate) async fn audience(&self) -> crate::store::StoreResult<Audience> {
        let contacts = self.store.notices().contacts().await?;
        let mut by_phone: HashMap<String, Vec<Contact>> = HashMap::new();
        for c in contacts {
            let phone = c
                .phone
                .as_deref()
                .or_else(|| (c.key.channel == Channel::WhatsApp).then_some(c.key.user.as_str()))
                .and_then(text::last10);
            if let Some(p) = phone {
                by_phone.entry(p).or_default().push(c);
            }
        }
        Ok(Audience {
            by_phone,
            now: self.now(),
        })
    }

    /// A client's notice: on the channel they last wrote on (else WhatsApp at their number),
    /// as the WhatsApp `template` outside the 24-hour window; none when they opted out, cannot
    /// be reached, or need a template and none is configured (tallied).
    pub(crate) fn notice_for(
        &self,
        audience: &Audience,
        client: &Client,
        reply: &Reply,
        template: &Option<Template>,
        id: impl Fn(&ConversationKey) -> String,
        tally: &mut Tally,
    ) -> Option<Notice> {
        let phone = text::last10(&client.phone)?;
        let known = audience
            .by_phone
            .get(&phone)
            .map(Vec::as_slice)
            .unwrap_or_default();
        if known.iter().any(|c| c.opted_out) {
            tally.opted_out += 1;
            return None;
        }
        let latest = known
            .iter()
            .filter(|c| self.runs(c.key.channel))
            .max_by_key(|c| c.last_inbound);
        let (key, last_inbound) = match latest {
            Some(c) => (c.key.clone(), c.last_inbound),
            None if self.runs(Channel::WhatsApp) => (
                ConversationKey::new(
                    Channel::WhatsApp,
                    format!("{}{phone}", self.rules.notices.whatsapp_country_code.trim()),
                ),
                0,
            ),
            None => return None,
        };
        let outside = key.channel == Channel::WhatsApp
            && audience.now.saturating_sub(last_inbound) >= WINDOW_SECS;
        let template = match (outside, template) {
            (false, _) => None,
            (true, Some(t)) => Some(t.clone()),
            (true, None) => {
                tally.no_template += 1;
                return None;
            }
        };
        Some(Notice {
            id: id(&key),
            key,
            reply: reply.clone(),
            template,
            queued_at: audience.now,
        })
    }
}
