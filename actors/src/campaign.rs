//! The campaign runner: releases queued notices ([`crate::flows::notices`]) to their channels
//! at `notices.per_second`, a small batch per tick, and only while no sender has more than
//! `notices.max_backlog` replies waiting: conversation replies go first.
//!
//! A released notice is in the reply outbox (moved there in the transaction that marks it
//! released), so the senders' own bookkeeping applies: sent once, offered again after a
//! failure. A notice handed to the platform before a crash waits for the platform's
//! confirmation on WhatsApp (`Notices::hold_attempted_notices`, at start) and is not sent
//! again on Telegram (`Notices::close_attempted_notices`): none arrives twice.

use crate::model::Outbound;
use crate::rules::Notices;
use crate::store::notices::REMINDER_PREFIX;
use crate::store::Store;
use crate::supervisor::Sinks;
use std::sync::Arc;
use std::time::Duration;

/// The notices released per tick and the tick, for a rate: ticks of at least 100 ms.
pub fn pace(per_second: u32) -> (usize, Duration) {
    let per_second = per_second.max(1);
    let batch = (per_second / 10).max(1);
    (
        batch as usize,
        Duration::from_secs_f64(f64::from(batch) / f64::from(per_second)),
    )
}

/// Releases up to `limit` notices to their channels, unless a sender's backlog is above
/// `max_backlog`. Returns how many were handed over.
pub async fn release_once(
    store: &dyn Store,
    sinks: &Sinks,
    limit: usize,
    max_backlog: usize,
) -> usize {
    if sinks.values().any(|s| s.backlog() > max_backlog) {
        return 0;
    }
    let entries = match store.notices().release_notices(limit).await {
        Ok(entries) => entries,
        Err(e) => {
            tracing::error!(error = %e, "could not release notices; trying again at the next tick");
            return 0;
        }
    };
    let mut handed = 0;
    for entry in entries {
        let channel = entry.key.channel;
        let entry_is_reminder = entry.id.starts_with(REMINDER_PREFIX);
        let Some(sink) = sinks.get(&channel) else {
            tracing::error!(
                channel = channel.as_str(),
                "a notice for a channel that is not running stays in the outbox"
            );
            continue;
        };
        sink.deliver(Outbound {
            key: entry.key,
            reply: entry.reply,
            in_reply_to: None,
            outbox_id: Some(entry.id),
            accepted_at: tokio::time::Instant::now(),
            reply_to: None,
            edit: None,
            template: entry.template,
        });
        // Reminders are counted as reminders, outage notices as notices.
        let metric = if entry_is_reminder {
            "redsol_reminders_total"
        } else {
            "redsol_outage_notices_total"
        };
        metrics::counter!(metric, "channel" => channel.as_str(), "outcome" => "released")
            .increment(1);
        handed += 1;
    }
    handed
}

/// Releases notices at the configured rate until the task is aborted.
pub async fn run(store: Arc<dyn Store>, sinks: Arc<Sinks>, notices: Notices) {
    let (batch, every) = pace(notices.per_second);
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        release_once(store.as_ref(), &sinks, batch, notices.max_backlog).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pace_keeps_the_rate_in_ticks_of_at_least_100_ms() {
        assert_eq!(pace(20), (2, Duration::from_millis(100)));
        assert_eq!(pace(5), (1, Duration::from_millis(200)));
        assert_eq!(pace(500), (50, Duration::from_millis(100)));
        assert_eq!(pace(0), (1, Duration::from_secs(1)));
    }
}
