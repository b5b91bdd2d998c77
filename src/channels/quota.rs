//! A sender's tokens of the platform's rate: its own bucket, or, when replicas share the rate
//! ([`crate::shared_rate`]), a small reservoir fed from the shared bucket.
//!
//! Fed, the sender never sends without a token the shared bucket granted. When the reservoir is
//! empty it asks its feeder for a few more (a twentieth of a second's worth) and looks again
//! shortly; the feeder claims them from Redis. Tokens are kept at most [`KEEP`]: a replica that
//! claimed and then had nothing to send must not spend them in a burst much later. While Redis
//! cannot be reached, the feeder grants from a bucket of its own at `fallback_share` of the rate
//! (a degraded rate, never a stopped sender), and says so once.

use crate::pacing::TokenBucket;
use crate::shared_rate::SharedRate;
use redsol_actors::model::Channel;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// How long claimed tokens are kept.
pub(crate) const KEEP: Duration = Duration::from_secs(1);
/// Bounds of how often an empty reservoir is looked at again (a token's time at the rate).
const POLL_MIN: Duration = Duration::from_millis(2);
const POLL_MAX: Duration = Duration::from_millis(50);

/// The platform's tokens.
pub(crate) enum Quota {
    Own(TokenBucket),
    Fed(Reservoir),
}

/// Tokens granted by the shared bucket, waiting to be used.
pub(crate) struct Reservoir {
    tokens: u32,
    granted_at: Instant,
    held_until: Option<Instant>,
    /// How long to wait before looking again when empty.
    poll: Duration,
    /// How many tokens to ask for at once.
    chunk: u32,
    demand: Arc<Demand>,
}

/// What the sender asks its feeder for.
#[derive(Default)]
pub(crate) struct Demand {
    wanted: AtomicU32,
    notify: Notify,
}

/// How a token was taken by [`Quota::take`].
pub(crate) enum Take {
    /// Reserved: usable after this wait (zero: now).
    After(Duration),
    /// None to be had now: ask again after this wait.
    Retry(Duration),
}

impl Reservoir {
    fn held(&self, now: Instant) -> Duration {
        self.held_until
            .map(|until| until.saturating_duration_since(now))
            .unwrap_or_default()
    }

    fn try_take(&mut self, now: Instant) -> Result<(), Duration> {
        let held = self.held(now);
        if !held.is_zero() {
            return Err(held);
        }
        if self.tokens > 0 && now.saturating_duration_since(self.granted_at) > KEEP {
            self.tokens = 0;
        }
        if self.tokens > 0 {
            self.tokens -= 1;
            return Ok(());
        }
        self.demand.wanted.fetch_max(self.chunk, Ordering::Relaxed);
        self.demand.notify.notify_one();
        Err(self.poll)
    }

    fn grant(&mut self, tokens: u32, now: Instant) {
        if now.saturating_duration_since(self.granted_at) > KEEP {
            self.tokens = 0;
        }
        // Tokens left over keep their age (the new ones go with them, never later).
        if self.tokens == 0 {
            self.granted_at = now;
        }
        self.tokens = self.tokens.saturating_add(tokens);
    }
}

impl Quota {
    /// Takes a token if one is there now; else how long until asking again.
    pub(crate) fn try_take(&mut self, now: Instant) -> Result<(), Duration> {
        match self {
            Quota::Own(b) => b.try_take(now),
            Quota::Fed(r) => r.try_take(now),
        }
    }

    /// Takes a token: the own bucket reserves one (in order among takers), the reservoir only
    /// gives one it holds.
    pub(crate) fn take(&mut self, now: Instant) -> Take {
        match self {
            Quota::Own(b) => Take::After(b.take(now)),
            Quota::Fed(r) => match r.try_take(now) {
                Ok(()) => Take::After(Duration::ZERO),
                Err(wait) => Take::Retry(wait),
            },
        }
    }

    /// No token before `until` (a rate limit announced by the platform).
    pub(crate) fn hold(&mut self, until: Instant) {
        match self {
            Quota::Own(b) => b.hold(until),
            Quota::Fed(r) => r.held_until = Some(r.held_until.map_or(until, |h| h.max(until))),
        }
    }
}

/// A reservoir fed from `shared`, and the task that feeds it (it ends when the quota is
/// dropped). `fallback_share` of the rate is granted locally while Redis is unreachable.
pub(crate) fn fed(channel: Channel, shared: SharedRate, fallback_share: f64) -> Arc<Mutex<Quota>> {
    let rate = shared.rate();
    let demand = Arc::new(Demand::default());
    let quota = Arc::new(Mutex::new(Quota::Fed(Reservoir {
        tokens: 0,
        granted_at: Instant::now(),
        held_until: None,
        // Well within KEEP, so a token granted while the sender waits is used before it goes.
        poll: Duration::from_secs_f64(1.0 / rate).clamp(POLL_MIN, POLL_MAX),
        chunk: ((rate / 20.0).ceil() as u32).max(1),
        demand: demand.clone(),
    })));
    let fallback_rate = (rate * fallback_share).max(0.1);
    let fallback = TokenBucket::full(1.0, fallback_rate, Instant::now());
    tokio::spawn(feed(
        channel,
        Arc::downgrade(&quota),
        shared,
        demand,
        fallback,
    ));
    quota
}

/// The quota, even if a sender panicked holding it (its state stays usable).
pub(crate) fn lock(quota: &Mutex<Quota>) -> std::sync::MutexGuard<'_, Quota> {
    match quota.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

fn count_claim(channel: Channel, outcome: &'static str) {
    metrics::counter!("redsol_shared_rate_claims_total", "channel" => channel.as_str(), "outcome" => outcome)
        .increment(1);
}

/// How long the feeder keeps to its fallback share after Redis failed, before trying it again.
const RETRY_SHARED: Duration = Duration::from_secs(5);

/// Claims tokens from the shared bucket as the sender asks for them.
async fn feed(
    channel: Channel,
    quota: Weak<Mutex<Quota>>,
    shared: SharedRate,
    demand: Arc<Demand>,
    mut fallback: TokenBucket,
) {
    // Since when Redis has been failing (and when to try it again).
    let mut failing: Option<Instant> = None;
    loop {
        // Asked, or a look now and then (a wish may come while a claim is on its way).
        let _ = tokio::time::timeout(Duration::from_millis(200), demand.notify.notified()).await;
        let Some(quota) = quota.upgrade() else {
            return;
        };
        let want = demand.wanted.swap(0, Ordering::Relaxed);
        if want == 0 {
            continue;
        }
        let try_shared = failing.is_none_or(|since| since.elapsed() >= RETRY_SHARED);
        let claimed = if try_shared {
            Some(shared.claim(want).await)
        } else {
            None
        };
        let (granted, next_in) = match claimed {
            Some(Ok(grant)) => {
                if failing.take().is_some() {
                    tracing::info!(
                        channel = channel.as_str(),
                        "the shared rate is reachable again; sending at the account's shared rate"
                    );
                }
                let outcome = if grant.granted > 0 {
                    "granted"
                } else {
                    "empty"
                };
                count_claim(channel, outcome);
                (grant.granted, grant.next_in)
            }
            failed => {
                if let Some(Err(e)) = failed {
                    if failing.is_none() {
                        tracing::warn!(
                            channel = channel.as_str(),
                            error = %e,
                            "the shared rate (REDSOL_REDIS_URL) cannot be reached; sending at this replica's fallback share until it is back"
                        );
                    }
                    failing = Some(Instant::now());
                    count_claim(channel, "error");
                }
                let now = Instant::now();
                let mut granted = 0;
                let mut next_in = Duration::ZERO;
                while granted < want {
                    match fallback.try_take(now) {
                        Ok(()) => granted += 1,
                        Err(wait) => {
                            next_in = wait;
                            break;
                        }
                    }
                }
                (granted, next_in)
            }
        };
        if granted > 0 {
            if let Quota::Fed(r) = &mut *lock(&quota) {
                r.grant(granted, Instant::now());
            }
        }
        drop(quota);
        if granted < want {
            // Nothing more before the bucket holds a token again; the sender asks again if it
            // still has something to send then (what it no longer needs is never claimed).
            tokio::time::sleep(next_in.max(Duration::from_millis(1))).await;
        }
    }
}
