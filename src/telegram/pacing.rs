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

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Policy {
        Policy {
            send_per_second: 30.0,
            chat_burst: 2.0,
            chat_per_second: 1.0,
            max_retries: 3,
            max_rate_limited_retries: 12,
            backoff_base: Duration::from_millis(500),
            backoff_max: Duration::from_secs(4),
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter() {
        let p = policy();
        for _ in 0..50 {
            let d0 = p.backoff(0);
            assert!(d0 >= Duration::from_millis(250) && d0 <= Duration::from_millis(500));
            let d2 = p.backoff(2);
            assert!(d2 >= Duration::from_secs(1) && d2 <= Duration::from_secs(2));
            assert!(p.backoff(u32::MAX) <= Duration::from_secs(4));
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_chat_bucket_serves_its_burst_then_paces() {
        let now = Instant::now();
        let mut b = policy().chat_bucket(now);
        assert_eq!(b.take(now), Duration::ZERO);
        assert_eq!(b.take(now), Duration::ZERO);
        assert_eq!(b.take(now), Duration::from_secs(1));
        assert_eq!(b.take(now), Duration::from_secs(2));
        assert!(!b.is_full(now));
        assert!(b.is_full(now + Duration::from_secs(10)));
    }

    #[test]
    fn bounded_maps_forget_the_oldest() {
        let mut m = Bounded::new(2);
        m.insert("a", 1);
        m.insert("b", 2);
        m.insert("a", 3);
        m.insert("c", 4);
        assert!(!m.contains(&"a") && m.contains(&"b") && m.contains(&"c"));
        assert_eq!(m.remove(&"b"), Some(2));
        for i in 0..10 {
            m.insert("x", i);
        }
        assert_eq!(m.get(&"x"), Some(&9));
    }
}
