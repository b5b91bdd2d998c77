//! Telegram's pacing policy from `[telegram]`, over the shared pieces of [`crate::pacing`].

use crate::settings::TelegramTuning;
use std::time::Duration;
use tokio::time::Instant;

pub use crate::pacing::{Bounded, TokenBucket, RATE_LIMITED_RETRY_FACTOR};

/// Limits and retries, from `[telegram]`.
#[derive(Clone, Debug)]
pub struct Policy {
    pub send_per_second: f64,
    pub chat_burst: f64,
    pub chat_per_second: f64,
    pub max_retries: u32,
    pub max_rate_limited_retries: u32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
}

impl Policy {
    pub fn new(tuning: &TelegramTuning) -> Policy {
        let backoff_base = Duration::from_millis(tuning.backoff_base_ms.max(1));
        Policy {
            send_per_second: f64::from(tuning.send_per_second.max(1)),
            chat_burst: f64::from(tuning.chat_burst.max(1)),
            // NaN.max(x) is x: a nonsensical rate becomes the slowest one.
            chat_per_second: tuning.chat_per_second.max(0.001),
            max_retries: tuning.max_retries,
            max_rate_limited_retries: tuning
                .max_retries
                .saturating_mul(RATE_LIMITED_RETRY_FACTOR)
                .max(RATE_LIMITED_RETRY_FACTOR),
            backoff_base,
            backoff_max: Duration::from_secs(tuning.backoff_max_secs).max(backoff_base),
        }
    }

    /// The wait before retry number `attempt + 1`: the base doubled `attempt` times, capped,
    /// with "equal jitter" (half fixed, half random) so that retries spread out.
    pub fn backoff(&self, attempt: u32) -> Duration {
        crate::pacing::backoff(self.backoff_base, self.backoff_max, attempt)
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
