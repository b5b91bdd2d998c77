//! The small pieces of pacing the channel shares: token buckets on tokio's clock, the backoff
//! policy, and bounded memories (sent outbox ids, group reply routes).

use crate::settings::TelegramTuning;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::time::Duration;
use tokio::time::Instant;

/// Rate-limited answers (429) are retried at most this many times `max_retries` (at least 4).
pub const RATE_LIMITED_RETRY_FACTOR: u32 = 4;

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
        let base = self.backoff_base.as_secs_f64();
        let full = (base * 2f64.powi(attempt.min(40) as i32)).min(self.backoff_max.as_secs_f64());
        Duration::from_secs_f64(full / 2.0 + fastrand::f64() * full / 2.0)
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

/// A token bucket on tokio's clock. Tokens are reserved: taking one from an empty bucket
/// returns how long to wait for it, so concurrent takers are served in order.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    capacity: f64,
    rate: f64,
    tokens: f64,
    updated: Instant,
}

impl TokenBucket {
    pub fn full(capacity: f64, rate: f64, now: Instant) -> TokenBucket {
        TokenBucket {
            capacity,
            rate,
            tokens: capacity,
            updated: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        if now > self.updated {
            let elapsed = (now - self.updated).as_secs_f64();
            self.tokens = (self.tokens + elapsed * self.rate).min(self.capacity);
            self.updated = now;
        }
    }

    /// Takes a token: how long to wait before using it (zero when it is there now).
    pub fn take(&mut self, now: Instant) -> Duration {
        self.refill(now);
        self.tokens -= 1.0;
        if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.rate)
        }
    }

    pub fn is_full(&mut self, now: Instant) -> bool {
        self.refill(now);
        self.tokens >= self.capacity
    }
}

/// A map that remembers the most recent `cap` keys.
#[derive(Debug)]
pub struct Bounded<K, V> {
    map: HashMap<K, V>,
    order: VecDeque<K>,
    cap: usize,
}

impl<K: Clone + Eq + Hash, V> Bounded<K, V> {
    pub fn new(cap: usize) -> Self {
        Self {
            map: HashMap::new(),
            order: VecDeque::new(),
            cap: cap.max(1),
        }
    }

    pub fn insert(&mut self, key: K, value: V) {
        if let Some(v) = self.map.get_mut(&key) {
            *v = value;
            return;
        }
        self.order.push_back(key.clone());
        self.map.insert(key, value);
        while self.map.len() > self.cap {
            match self.order.pop_front() {
                Some(old) => {
                    self.map.remove(&old);
                }
                None => break,
            }
        }
        // Keys removed by hand leave stale entries in `order`; drop them now and then.
        if self.order.len() > self.cap.saturating_mul(2) {
            let map = &self.map;
            self.order.retain(|k| map.contains_key(k));
        }
    }

    pub fn get(&self, key: &K) -> Option<&V> {
        self.map.get(key)
    }

    pub fn contains(&self, key: &K) -> bool {
        self.map.contains_key(key)
    }

    pub fn remove(&mut self, key: &K) -> Option<V> {
        self.map.remove(key)
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
