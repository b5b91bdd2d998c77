//! Long polling: a plain `getUpdates` loop.
//!
//! Telegram forgets an update once `getUpdates` is called with an offset above its id, so the
//! offset moves past an update only after the update was journaled ([`Receiver::receive`]):
//! a crash before that gets it again, and the journal, which dedupes by `tg:<update_id>`,
//! answers it once. When a batch cannot be journaled (the store is down), the loop waits and
//! asks again from the first update not taken.
//!
//! Errors never end the loop: it waits (exponential backoff with jitter, bounded by
//! `telegram.backoff_max_secs`) and polls again. A 409 Conflict (a webhook is set, or another
//! process polls with the same token) is logged as such. On stop, a last `getUpdates` with the
//! new offset and no wait confirms what was taken.

use super::api::{TelegramError, CALL_TIMEOUT};
use super::inbound::{Received, Receiver};
use crate::pacing::Retries;
use std::time::Duration;
use teloxide::payloads::GetUpdatesSetters;
use teloxide::requests::Requester;
use teloxide::types::AllowedUpdate;
use tokio::sync::watch;

/// The update kinds the bot asks for.
pub const ALLOWED_UPDATES: [AllowedUpdate; 3] = [
    AllowedUpdate::Message,
    AllowedUpdate::EditedMessage,
    AllowedUpdate::CallbackQuery,
];

/// Updates asked for at once.
const BATCH: u8 = 100;

/// What the poller needs.
pub struct Poller {
    pub receiver: Receiver,
    pub retries: Retries,
    pub timeout_secs: u32,
    /// Whether this replica leads: only the leader polls (Telegram gives a bot's updates to
    /// one poller). `None`: a single process, which always polls.
    pub leadership: Option<watch::Receiver<bool>>,
}

/// Whether `leadership` (when there is one) says this replica leads now.
fn leads(leadership: &mut Option<watch::Receiver<bool>>) -> bool {
    leadership.as_mut().is_none_or(|l| *l.borrow_and_update())
}

/// Resolves once `leadership` says this replica stopped leading (never without one).
async fn lost(leadership: &mut Option<watch::Receiver<bool>>) {
    match leadership {
        Some(l) => {
            let _ = l.wait_for(|leading| !*leading).await;
        }
        None => std::future::pending().await,
    }
}

/// Confirms every update below `offset` to Telegram, so the next poller (this process after a
/// restart, or the next leader) does not get them again; whether Telegram took it.
async fn commit(api: &super::api::Api, offset: i32) -> bool {
    let request = api.bot().get_updates().offset(offset).timeout(0).limit(1);
    api.call(request, CALL_TIMEOUT).await.is_ok()
}

fn count_error(kind: &'static str) {
    metrics::counter!("redsol_telegram_poll_errors_total", "kind" => kind).increment(1);
}

/// The offset that confirms every update up to `update_id`.
fn offset_after(update_id: u32) -> i32 {
    i32::try_from(u64::from(update_id) + 1).unwrap_or(i32::MAX)
}

impl Poller {
    /// Polls until `stop` turns true (or its sender is dropped), then commits the offset.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let api = self.receiver.api.clone();
        // The offset to ask with next (every update below it was taken), and the offset
        // Telegram was last told (what it has forgotten).
        let mut offset: Option<i32> = None;
        let mut told: Option<i32> = None;
        let mut failures: u32 = 0;
        tracing::info!(
            channel = "telegram",
            timeout_secs = self.timeout_secs,
            "Telegram long polling started"
        );
        loop {
            if *stop.borrow() {
                break;
            }
            if !leads(&mut self.leadership) {
                // Another replica polls: hand over what was taken, then wait to lead.
                if let (Some(o), true) = (offset, offset != told) {
                    if commit(&api, o).await {
                        told = offset;
                    }
                }
                tracing::info!(
                    channel = "telegram",
                    "not the leader: Telegram polling waits"
                );
                let Some(leadership) = self.leadership.as_mut() else {
                    continue;
                };
                tokio::select! {
                    changed = leadership.wait_for(|leading| *leading) => {
                        if changed.is_err() {
                            break;
                        }
                    }
                    _ = stop.wait_for(|s| *s) => break,
                }
                tracing::info!(
                    channel = "telegram",
                    "the leader now: Telegram polling resumes"
                );
                continue;
            }
            let mut request = api
                .bot()
                .get_updates()
                .timeout(self.timeout_secs)
                .limit(BATCH)
                .allowed_updates(ALLOWED_UPDATES);
            if let Some(o) = offset {
                request = request.offset(o);
            }
            let limit = Duration::from_secs(u64::from(self.timeout_secs)) + CALL_TIMEOUT;
            let result = tokio::select! {
                r = api.call(request, limit) => r,
                _ = stop.wait_for(|s| *s) => break,
                // No longer the leader: the request is dropped, the next one is the new
                // leader's.
                _ = lost(&mut self.leadership) => continue,
            };
            let wait = match result {
                Ok(updates) => {
                    told = offset;
                    let mut stuck = false;
                    for update in &updates {
                        match self.receiver.receive(update).await {
                            Ok(r) => {
                                if r == Received::New {
                                    tracing::debug!(
                                        channel = "telegram",
                                        update_id = update.id.0,
                                        "update taken"
                                    );
                                }
                                offset = Some(offset_after(update.id.0));
                            }
                            Err(e) => {
                                count_error("journal");
                                tracing::error!(
                                    channel = "telegram",
                                    update_id = update.id.0,
                                    error = %e,
                                    "could not take a Telegram update; it will be asked for again"
                                );
                                stuck = true;
                                break;
                            }
                        }
                    }
                    if stuck {
                        failures += 1;
                        Some(self.retries.backoff(failures - 1))
                    } else {
                        failures = 0;
                        None
                    }
                }
                Err(e) => {
                    failures += 1;
                    count_error(e.kind());
                    let delay = self.retries.backoff(failures - 1);
                    log_poll_error(&e, failures, delay);
                    Some(delay)
                }
            };
            if let Some(delay) = wait {
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = stop.wait_for(|s| *s) => break,
                }
            }
        }
        if let (Some(o), true) = (offset, offset != told) {
            if commit(&api, o).await {
                tracing::info!(
                    channel = "telegram",
                    "Telegram polling stopped; offset committed"
                );
            } else {
                tracing::warn!(
                    channel = "telegram",
                    "Telegram polling stopped, but the offset could not be committed; the last updates will come again and be answered once"
                );
            }
        } else {
            tracing::info!(channel = "telegram", "Telegram polling stopped");
        }
    }
}

fn log_poll_error(e: &TelegramError, failures: u32, delay: Duration) {
    let retry_in_ms = delay.as_millis() as u64;
    match e {
        TelegramError::Conflict(_) => tracing::error!(
            channel = "telegram",
            error = %e,
            failures,
            retry_in_ms,
            "getUpdates refused with 409 Conflict: a webhook is set for this bot, or another process polls with the same token; only one may receive updates"
        ),
        TelegramError::Unauthorized => tracing::error!(
            channel = "telegram",
            error = %e,
            failures,
            retry_in_ms,
            "getUpdates refused: the bot token is no longer valid"
        ),
        _ if failures > 3 => tracing::error!(
            channel = "telegram",
            error = %e,
            failures,
            retry_in_ms,
            "getUpdates keeps failing; retrying"
        ),
        _ => tracing::warn!(
            channel = "telegram",
            error = %e,
            failures,
            retry_in_ms,
            "getUpdates failed; retrying"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_follow_the_last_update() {
        assert_eq!(offset_after(0), 1);
        assert_eq!(offset_after(41), 42);
        assert_eq!(offset_after(u32::MAX), i32::MAX);
    }
}
