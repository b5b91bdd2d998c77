//! At start: the notices the last run left in flight.
//!
//! - Released into the outbox and never handed to a platform: back in their campaign, to
//!   leave again at its pace (not all at once after a restart).
//! - Handed to WhatsApp and never marked sent (the process died around the request): held
//!   for `notices.confirm_wait_secs`. Graph's status of a message carries the notice's id
//!   (`biz_opaque_callback_data`), and Meta retries webhooks to a process that was down, so a
//!   notice that arrived is confirmed within the wait and never sent again; one that did not
//!   arrive leaves again after it. Each is sent once.
//! - Handed to Telegram and never marked sent: closed, not sent again. Telegram confirms
//!   nothing, so a notice there arrives at most once (`maybe_sent`).

use redsol_actors::model::Channel;
use redsol_actors::rules::Notices;
use redsol_actors::store::{unix_now, Store};

/// Settles the notices in flight at the last stop; `whatsapp` when the WhatsApp channel runs
/// (and so its webhook takes Graph's statuses). Runs before the senders read the outbox back
/// and before the HTTP server takes webhooks.
pub async fn settle_notices(store: &dyn Store, config: &Notices, whatsapp: bool) {
    let notices = store.notices();
    if whatsapp {
        let until = unix_now().saturating_add(config.confirm_wait_secs);
        match notices
            .hold_attempted_notices(Channel::WhatsApp, until)
            .await
        {
            Ok(0) => {}
            Ok(n) => {
                metrics::counter!("redsol_outage_notices_total", "channel" => Channel::WhatsApp.as_str(), "outcome" => "held")
                    .increment(n);
                tracing::info!(
                    notices = n,
                    wait_secs = config.confirm_wait_secs,
                    "WhatsApp notices in flight at the stop wait for Graph's statuses; unconfirmed ones are sent again after the wait"
                );
            }
            Err(e) => {
                tracing::warn!(error = %e, "could not hold the WhatsApp notices in flight at the stop; they are closed and may be missing")
            }
        }
    }
    match notices.close_attempted_notices().await {
        Ok(closed) => {
            for (channel, n) in closed {
                metrics::counter!("redsol_outage_notices_total", "channel" => channel.as_str(), "outcome" => "maybe_sent")
                    .increment(n);
            }
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not close the notices in flight at the stop; they may arrive twice")
        }
    }
    match notices.requeue_notices().await {
        Ok(0) => {}
        Ok(n) => tracing::info!(
            notices = n,
            "unsent notices of the last run back in their campaign"
        ),
        Err(e) => {
            tracing::warn!(error = %e, "could not requeue unsent notices; they are sent at once")
        }
    }
}
