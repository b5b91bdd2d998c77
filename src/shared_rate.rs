//! A platform's rate shared by every replica (`REDSOL_REDIS_URL`): Graph's per-number and
//! Telegram's per-bot limits hold for the account, however many processes send for it.
//!
//! The account's token bucket lives in Redis, one hash per account, and a Lua script takes
//! tokens from it atomically, on Redis's clock (replicas' clocks do not matter). A sender claims
//! a few tokens at a time when it has something to send and keeps them briefly
//! ([`crate::channels::quota`]), so a reply costs no Redis round trip of its own at a
//! sustained rate.
//!
//! Why Redis and not PostgreSQL: a claim is one script run in memory, several times a second
//! per replica while replies wait; in PostgreSQL it would be a row update with its lock and WAL
//! write each time, load on the system of record for something that is worth nothing after a
//! second. Losing Redis loses only the buckets' state: senders fall back to a share of the rate
//! of their own until it is back.

use redis::aio::ConnectionManager;
use std::time::Duration;

/// Takes up to `want` tokens from the bucket at `KEYS[1]` (rate `ARGV[1]` a second, `ARGV[2]`
/// at most): `{granted, milliseconds until the next token}`.
const CLAIM: &str = r"
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1])
local at = tonumber(b[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
if now > at then
  tokens = math.min(burst, tokens + (now - at) * rate)
end
local granted = math.min(want, math.floor(tokens))
if granted < 0 then granted = 0 end
tokens = tokens - granted
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(math.max(now, at)))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 60000)
local wait = 0
if tokens < 1 then wait = math.ceil((1 - tokens) / rate * 1000) end
return {granted, wait}
";

/// How this replica shares the platforms' rates: where the buckets are, and the part of a rate
/// it uses alone while they cannot be reached.
#[derive(Clone, Debug)]
pub struct Sharing {
    pub store: RateStore,
    pub fallback_share: f64,
}

impl Sharing {
    /// From `REDSOL_REDIS_URL` and `[cluster]`; `None` without the URL (one process).
    pub fn from_settings(settings: &crate::settings::Settings) -> anyhow::Result<Option<Sharing>> {
        let Some(url) = &settings.redis_url else {
            return Ok(None);
        };
        let timeout = Duration::from_millis(settings.cluster.redis_timeout_ms);
        Ok(Some(Sharing {
            store: RateStore::new(url.expose(), timeout)?,
            fallback_share: settings.cluster.fallback_share,
        }))
    }
}

/// Why a claim failed.
#[derive(Debug, thiserror::Error)]
pub enum ClaimError {
    #[error("Redis did not answer within {0:?}")]
    Timeout(Duration),
    #[error("Redis: {0}")]
    Redis(#[from] redis::RedisError),
}

/// Where replicas keep the platforms' buckets: a Redis server.
#[derive(Clone)]
pub struct RateStore {
    client: redis::Client,
    /// Connected on first use, then reconnected by the manager itself.
    conn: std::sync::Arc<tokio::sync::OnceCell<ConnectionManager>>,
    timeout: Duration,
}

impl std::fmt::Debug for RateStore {
    // The URL may hold a password: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RateStore")
    }
}

impl RateStore {
    /// A store at `url` (`redis://[:password@]host[:port][/db]`), reached within `timeout` a
    /// call. Nothing is connected yet.
    pub fn new(url: &str, timeout: Duration) -> anyhow::Result<RateStore> {
        // The parser's error may quote the URL, password included: not passed on.
        let client = redis::Client::open(url).map_err(|_| {
            anyhow::anyhow!(
                "REDSOL_REDIS_URL is not a Redis URL (redis://[:password@]host[:port][/db]; TLS, rediss://, is not built in)"
            )
        })?;
        Ok(RateStore {
            client,
            conn: Default::default(),
            timeout,
        })
    }

    /// The bucket of one account: `rate` tokens a second, at most `burst` saved up.
    pub fn bucket(&self, account: String, rate: f64, burst: f64) -> SharedRate {
        SharedRate {
            store: self.clone(),
            key: format!("redsol:rate:{account}"),
            rate,
            burst: burst.max(1.0),
            script: std::sync::Arc::new(redis::Script::new(CLAIM)),
        }
    }

    async fn connection(&self) -> Result<ConnectionManager, redis::RedisError> {
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(self.timeout)
            .set_response_timeout(self.timeout)
            .set_number_of_retries(1);
        self.conn
            .get_or_try_init(|| {
                self.client
                    .get_connection_manager_with_config(config.clone())
            })
            .await
            .cloned()
    }
}

/// One account's bucket in Redis.
#[derive(Clone)]
pub struct SharedRate {
    store: RateStore,
    key: String,
    rate: f64,
    burst: f64,
    script: std::sync::Arc<redis::Script>,
}

impl std::fmt::Debug for SharedRate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedRate")
            .field("key", &self.key)
            .field("rate", &self.rate)
            .finish()
    }
}

/// What one claim got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grant {
    pub granted: u32,
    /// Until the bucket holds a token again (zero when it holds one now).
    pub next_in: Duration,
}

impl SharedRate {
    pub fn rate(&self) -> f64 {
        self.rate
    }

    /// Takes up to `want` tokens of the account, within the store's timeout (connecting
    /// included).
    pub async fn claim(&self, want: u32) -> Result<Grant, ClaimError> {
        let claim = async {
            let mut conn = self.store.connection().await?;
            let mut call = self.script.prepare_invoke();
            call.key(&self.key).arg(self.rate).arg(self.burst).arg(want);
            call.invoke_async::<(i64, i64)>(&mut conn).await
        };
        match tokio::time::timeout(self.store.timeout, claim).await {
            Ok(Ok((granted, wait_ms))) => Ok(Grant {
                granted: u32::try_from(granted.max(0)).unwrap_or(0),
                next_in: Duration::from_millis(u64::try_from(wait_ms.max(0)).unwrap_or(0)),
            }),
            Ok(Err(e)) => Err(e.into()),
            Err(_) => Err(ClaimError::Timeout(self.store.timeout)),
        }
    }
}
