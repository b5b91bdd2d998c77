//! Telegram's pacing policy from `[telegram]`, over the shared pieces of [`crate::pacing`].

use crate::settings::TelegramTuning;
use tokio::time::Instant;

pub use crate::pacing::{Bounded, Retries, TokenBucket, RATE_LIMITED_RETRY_FACTOR};

/// Limits and retries, from `[telegram]`.
#[derive(Clone, Debug)]
pub struct Policy {
    pub send_per_second: f64,
    pub chat_burst: f64,
    pub chat_per_second: f64,
    pub retries: Retries,
}

impl Policy {
    pub fn new(tuning: &TelegramTuning) -> Policy {
        Policy {
            send_per_second: f64::from(tuning.send_per_second.max(1)),
            chat_burst: f64::from(tuning.chat_burst.max(1)),
            // NaN.max(x) is x: a nonsensical rate becomes the slowest one.
            chat_per_second: tuning.chat_per_second.max(0.001),
            retries: Retries::new(
                tuning.max_retries,
                tuning.backoff_base_ms,
                tuning.backoff_max_secs,
            ),
        }
    }

    /// A full bucket for one chat.
    pub fn chat_bucket(&self, now: Instant) -> TokenBucket {
        TokenBucket::full(self.chat_burst, self.chat_per_second, now)
    }

    /// A full bucket for the whole bot.
    pub fn global_bucket(&self, now: Instant) -> TokenBucket {
        TokenBucket::full(self.send_per_second, self.send_per_second, now)
    }
}
