//! Pacing shared by the channels' senders: token buckets on tokio's clock (so tests can use
//! paused time), the retry backoff with jitter, and bounded memories of recent ids.

use std::borrow::Borrow;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// Rate-limited answers (429) are retried at most this many times `max_retries` (at least 4).
pub const RATE_LIMITED_RETRY_FACTOR: u32 = 4;

/// A sender's retry limits and backoff, from its config section.
#[derive(Clone, Debug)]
pub struct Retries {
    /// Retries of a transient failure (5xx, timeout, connection).
    pub max: u32,
    /// Retries of a rate-limited answer: [`RATE_LIMITED_RETRY_FACTOR`] × `max`, at least 4.
    pub max_rate_limited: u32,
    base: Duration,
    cap: Duration,
}

impl Retries {
    pub fn new(max_retries: u32, backoff_base_ms: u64, backoff_max_secs: u64) -> Retries {
        let base = Duration::from_millis(backoff_base_ms.max(1));
        Retries {
            max: max_retries,
            max_rate_limited: max_retries
                .saturating_mul(RATE_LIMITED_RETRY_FACTOR)
                .max(RATE_LIMITED_RETRY_FACTOR),
            base,
            cap: Duration::from_secs(backoff_max_secs).max(base),
        }
    }

    /// The wait before retry number `attempt + 1` (see [`backoff`]).
    pub fn backoff(&self, attempt: u32) -> Duration {
        backoff(self.base, self.cap, attempt)
    }
}

/// How many messages a sender has accepted and not finished (queued, running or in its
/// mailbox), shared by its handle and its actor; shutdown waits for it to reach zero.
#[derive(Clone, Debug)]
pub struct InFlight(Arc<watch::Sender<usize>>);

impl Default for InFlight {
    fn default() -> Self {
        Self(Arc::new(watch::Sender::new(0)))
    }
}

impl InFlight {
    pub fn add(&self) {
        self.0.send_modify(|n| *n += 1);
    }

    pub fn done(&self) {
        self.0.send_modify(|n| *n = n.saturating_sub(1));
    }

    /// Forgets everything counted (what a failed sender held is lost with it).
    pub fn reset(&self) {
        self.0.send_replace(0);
    }

    pub fn count(&self) -> usize {
        *watch::Sender::borrow(&self.0)
    }

    /// Waits until nothing is in flight, or `grace` passed; `true` when it emptied.
    pub async fn drained(&self, grace: Duration) -> bool {
        let mut idle = self.0.subscribe();
        let emptied = tokio::time::timeout(grace, idle.wait_for(|n| *n == 0)).await;
        matches!(emptied, Ok(Ok(_)))
    }
}

/// The wait before retry number `attempt + 1`: `base` doubled `attempt` times, capped at `max`,
/// with "equal jitter" (half of it fixed, half random) so that retries spread out.
pub fn backoff(base: Duration, max: Duration, attempt: u32) -> Duration {
    let full = (base.as_secs_f64() * 2f64.powi(attempt.min(40) as i32)).min(max.as_secs_f64());
    Duration::from_secs_f64(full / 2.0 + fastrand::f64() * full / 2.0)
}

/// A token bucket on tokio's clock. Tokens are reserved: taking one when the bucket is empty
/// returns how long to wait for it, so concurrent takers are served in order.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    capacity: f64,
    rate: f64,
    tokens: f64,
    updated: Instant,
    held_until: Option<Instant>,
}

impl TokenBucket {
    pub fn full(capacity: f64, rate: f64, now: Instant) -> TokenBucket {
        TokenBucket {
            capacity,
            rate,
            tokens: capacity,
            updated: now,
            held_until: None,
        }
    }

    pub fn refill(&mut self, now: Instant) {
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
        let for_token = if self.tokens >= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(-self.tokens / self.rate)
        };
        let for_hold = self
            .held_until
            .map(|until| until.saturating_duration_since(now))
            .unwrap_or_default();
        for_token.max(for_hold)
    }

    /// How long until a token is there (zero when it is now); nothing taken or reserved.
    pub fn ready_in(&mut self, now: Instant) -> Duration {
        self.refill(now);
        let held = self
            .held_until
            .map(|until| until.saturating_duration_since(now))
            .unwrap_or_default();
        if !held.is_zero() {
            return held;
        }
        if self.tokens >= 1.0 {
            return Duration::ZERO;
        }
        Duration::from_secs_f64((1.0 - self.tokens) / self.rate).max(Duration::from_micros(1))
    }

    /// Takes a token only if it is there now; else how long until one is (nothing reserved).
    pub fn try_take(&mut self, now: Instant) -> Result<(), Duration> {
        let wait = self.ready_in(now);
        if !wait.is_zero() {
            return Err(wait);
        }
        self.tokens -= 1.0;
        Ok(())
    }

    /// No token before `until` (a rate limit announced by Graph).
    pub fn hold(&mut self, until: Instant) {
        self.held_until = Some(self.held_until.map_or(until, |h| h.max(until)));
    }

    pub fn is_full(&mut self, now: Instant) -> bool {
        self.refill(now);
        self.tokens >= self.capacity && self.held_until.is_none_or(|h| h <= now)
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

    pub fn get<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
    {
        self.map.get(key)
    }

    pub fn contains<Q: Hash + Eq + ?Sized>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
    {
        self.map.contains_key(key)
    }

    pub fn remove<Q: Hash + Eq + ?Sized>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
    {
        self.map.remove(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap_with_jitter() {
        let (base, max) = (Duration::from_millis(500), Duration::from_secs(4));
        for _ in 0..50 {
            let d0 = backoff(base, max, 0);
            assert!(d0 >= Duration::from_millis(250) && d0 <= base);
            let d9 = backoff(base, max, 9);
            assert!(d9 >= Duration::from_secs(2) && d9 <= max);
        }
        assert!(backoff(base, max, u32::MAX) <= max);
    }

    #[tokio::test(start_paused = true)]
    async fn a_bucket_serves_its_burst_then_paces_and_honours_holds() {
        let now = Instant::now();
        let mut b = TokenBucket::full(2.0, 1.0, now);
        assert_eq!(b.take(now), Duration::ZERO);
        assert_eq!(b.take(now), Duration::ZERO);
        assert_eq!(b.take(now), Duration::from_secs(1));
        assert_eq!(b.take(now), Duration::from_secs(2));
        assert!(!b.is_full(now));
        let later = now + Duration::from_secs(10);
        assert!(b.is_full(later));
        b.hold(later + Duration::from_secs(30));
        assert_eq!(b.take(later), Duration::from_secs(30));
        assert!(!b.is_full(later + Duration::from_secs(5)));
    }

    #[tokio::test(start_paused = true)]
    async fn trying_for_a_token_reserves_nothing() {
        let now = Instant::now();
        let mut b = TokenBucket::full(1.0, 2.0, now);
        assert_eq!(b.try_take(now), Ok(()));
        assert_eq!(b.try_take(now), Err(Duration::from_millis(500)));
        assert_eq!(
            b.try_take(now),
            Err(Duration::from_millis(500)),
            "nothing reserved"
        );
        let later = now + Duration::from_millis(500);
        assert_eq!(b.try_take(later), Ok(()));
        b.hold(later + Duration::from_secs(3));
        assert_eq!(
            b.try_take(later + Duration::from_secs(1)),
            Err(Duration::from_secs(2))
        );
    }

    #[test]
    fn bounded_forgets_the_oldest_and_looks_up_by_borrowed_keys() {
        let mut b: Bounded<String, u32> = Bounded::new(2);
        b.insert("a".into(), 1);
        b.insert("b".into(), 2);
        b.insert("a".into(), 4);
        b.insert("c".into(), 3);
        assert!(
            !b.contains("a") && b.contains("b"),
            "a re-insert does not refresh its age"
        );
        assert_eq!(b.get("c"), Some(&3));
        assert_eq!(b.remove("b"), Some(2));
    }
}
