//! Payment reminders: `billing.remind_days_before` days before a pending period's due date,
//! and on the date itself, to every client who can be reached (as outage notices are: the
//! channel they last wrote on, the template outside WhatsApp's 24-hour window, "BAJA AVISOS"
//! respected), at the campaigns' pace, after the replies.
//!
//! Each reminder is keyed by its payment and kind (`notice:reminder:PAG-000123:before:…`), so
//! it is sent once across restarts however often the sweep runs; a period paid, reported or
//! overdue is not pending, and gets none.
//!
//! Metric: `redsol_reminders_total{channel,outcome}` (`queued`, `released`; `opted_out` and `no_template`
//! for clients left out).

use super::account::{date, plus_days};
use crate::engine::Engine;
use crate::flows::notices::Tally;
use crate::model::{ConversationKey, Template};
use crate::store::notices::REMINDER_PREFIX;
use std::collections::HashMap;

impl Engine {
    /// Queues the reminders due today; returns how many were new. Run it as often as you like.
    pub async fn queue_payment_reminders(&self) -> usize {
        match self.payment_reminders().await {
            Ok(new) => new,
            Err(e) => {
                tracing::error!(error = %e, "could not queue the payment reminders; trying again at the next sweep");
                0
            }
        }
    }

    async fn payment_reminders(&self) -> crate::store::StoreResult<usize> {
        let billing = &self.rules.billing;
        let today = self.today();
        let soon = plus_days(&today, billing.remind_days_before);
        let due = self
            .store
            .payments()
            .pending_due(vec![soon.clone(), today.clone()])
            .await?;
        if due.is_empty() {
            return Ok(0);
        }
        let clients = self.store.clients().await?;
        let by_id: HashMap<&str, _> = clients.iter().map(|c| (c.id.as_str(), c)).collect();
        let audience = self.audience().await?;
        let mut notices = Vec::new();
        let mut tally = Tally::default();
        for p in &due {
            let Some(client) = by_id.get(p.client_id.as_str()) else {
                continue;
            };
            let kind = if p.due == today { "due" } else { "before" };
            let name = client
                .name
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string();
            let values = [
                ("name", name.clone()),
                ("period", p.period.clone()),
                ("amount", super::money(p.amount)),
                ("due", date(&p.due)),
                // A row staff left without one has the reference rule's.
                ("reference", {
                    if p.reference.trim().is_empty() {
                        billing.reference(&p.client_id)
                    } else {
                        p.reference.clone()
                    }
                }),
            ];
            let reply = self.say(
                if kind == "due" {
                    "billing_reminder_due"
                } else {
                    "billing_reminder"
                },
                &values,
            );
            let template = (!billing.reminder_template.trim().is_empty()).then(|| Template {
                name: billing.reminder_template.trim().to_string(),
                language: self.rules.notices.template_language.trim().to_string(),
                params: vec![name, p.period.clone(), super::money(p.amount), date(&p.due)],
            });
            let id = |key: &ConversationKey| {
                format!(
                    "{REMINDER_PREFIX}{}:{kind}:{}:{}",
                    p.id, key.channel, key.user
                )
            };
            if let Some(n) = self.notice_for(&audience, client, &reply, &template, id, &mut tally) {
                notices.push(n);
            }
        }
        tally.count("reminder");
        let channels: Vec<_> = notices.iter().map(|n| n.key.channel).collect();
        let new = self.store.notices().queue_notices(notices).await?;
        if new > 0 {
            for channel in channels {
                metrics::counter!("redsol_reminders_total", "channel" => channel.as_str(), "outcome" => "queued")
                    .increment(1);
            }
            tracing::info!(event = "payment_reminders", new, "payment reminders queued");
        }
        Ok(new)
    }
}
