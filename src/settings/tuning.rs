//! The tuning sections of the config: WhatsApp, Telegram, Google Sheets, the language model and
//! the cluster (limits, retries, timeouts), each with its checks.

use super::*;

/// WhatsApp Cloud API tuning (`[whatsapp]`): limits, retries, the Graph API version.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WhatsAppTuning {
    pub api_url: String,
    pub api_version: String,
    pub max_body_bytes: usize,
    pub send_per_second: u32,
    pub recipient_burst: u32,
    pub recipient_per_second: f64,
    pub request_timeout_secs: u64,
    pub max_retries: u32,
    pub backoff_base_ms: u64,
    pub backoff_max_secs: u64,
    pub mark_read: bool,
    /// Replies the sender holds in memory; past it the backlog waits in the outbox on disk.
    pub memory_queue: usize,
}

impl WhatsAppTuning {
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        let bad = |key: &str, given: &dyn fmt::Debug, expected: &str| {
            Err(invalid(&format!("whatsapp.{key}"), given, expected))
        };
        if !is_http_url(&self.api_url) {
            return Err(invalid_url("whatsapp.api_url"));
        }
        if !self.api_version.starts_with('v') {
            return bad(
                "api_version",
                &self.api_version,
                "expected a Graph API version such as v23.0",
            );
        }
        if self.max_body_bytes < 1024 {
            return bad(
                "max_body_bytes",
                &self.max_body_bytes,
                "must be at least 1024",
            );
        }
        if self.send_per_second == 0 {
            return bad("send_per_second", &self.send_per_second, "must be positive");
        }
        if self.memory_queue == 0 {
            return bad("memory_queue", &self.memory_queue, "must be positive");
        }
        if self.recipient_burst == 0 {
            return bad("recipient_burst", &self.recipient_burst, "must be positive");
        }
        if self.recipient_per_second.is_nan() || self.recipient_per_second <= 0.0 {
            return bad(
                "recipient_per_second",
                &self.recipient_per_second,
                "must be positive",
            );
        }
        if self.request_timeout_secs == 0 {
            return bad(
                "request_timeout_secs",
                &self.request_timeout_secs,
                "must be positive",
            );
        }
        Ok(())
    }
}

/// How the bot treats group chats.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum GroupMode {
    /// Answer only commands addressed to the bot (`/menu@bot`).
    Commands,
    /// Skip group chats.
    Ignore,
}

/// Telegram tuning (`[telegram]`): polling, limits, retries.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramTuning {
    pub api_url: String,
    pub poll_timeout_secs: u32,
    pub send_per_second: u32,
    pub chat_burst: u32,
    pub chat_per_second: f64,
    pub max_retries: u32,
    pub backoff_base_ms: u64,
    pub backoff_max_secs: u64,
    pub groups: GroupMode,
    /// Replies the sender holds in memory; past it the backlog waits in the outbox on disk.
    pub memory_queue: usize,
}

impl TelegramTuning {
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        let bad = |key: &str, given: &dyn fmt::Debug, expected: &str| {
            Err(invalid(&format!("telegram.{key}"), given, expected))
        };
        if !is_http_url(&self.api_url) {
            return Err(invalid_url("telegram.api_url"));
        }
        if self.poll_timeout_secs == 0 || self.poll_timeout_secs >= 17 {
            return bad(
                "poll_timeout_secs",
                &self.poll_timeout_secs,
                "must be between 1 and 16 (teloxide's client times out at 17 s)",
            );
        }
        if self.send_per_second == 0 {
            return bad("send_per_second", &self.send_per_second, "must be positive");
        }
        if self.memory_queue == 0 {
            return bad("memory_queue", &self.memory_queue, "must be positive");
        }
        if self.chat_burst == 0 {
            return bad("chat_burst", &self.chat_burst, "must be positive");
        }
        if self.chat_per_second.is_nan() || self.chat_per_second <= 0.0 {
            return bad("chat_per_second", &self.chat_per_second, "must be positive");
        }
        Ok(())
    }
}

/// The least time left in a turn for which Gemini is asked (milliseconds): a shorter request
/// would rarely come back in time.
pub const MIN_GEMINI_REQUEST_MS: u64 = 500;

/// Google Sheets tuning (`[sheets]`): tabs, cache, write budget, retries.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SheetsTuning {
    pub api_url: String,
    pub clients_tab: String,
    pub incidents_tab: String,
    pub prospects_tab: String,
    /// Where customers' ratings of closed tickets are appended.
    pub surveys_tab: String,
    /// Clients' payments by period (staff's record; redsol writes receipts and answers).
    pub payments_tab: String,
    pub cache_ttl_secs: u64,
    pub request_timeout_secs: u64,
    pub writes_per_minute: u32,
    pub batch_max_rows: usize,
    pub backoff_base_ms: u64,
    pub backoff_max_secs: u64,
    pub max_cell_chars: usize,
}

impl SheetsTuning {
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        let bad = |key: &str, given: &dyn fmt::Debug, expected: &str| {
            Err(invalid(&format!("sheets.{key}"), given, expected))
        };
        if !is_http_url(&self.api_url) {
            return Err(invalid_url("sheets.api_url"));
        }
        for (key, tab) in [
            ("clients_tab", &self.clients_tab),
            ("incidents_tab", &self.incidents_tab),
            ("prospects_tab", &self.prospects_tab),
            ("surveys_tab", &self.surveys_tab),
            ("payments_tab", &self.payments_tab),
        ] {
            if tab.trim().is_empty() || tab.contains(['!', '\'', '#', '?', '/', '%']) {
                return bad(key, tab, "expected a tab name without ! ' # ? / or %");
            }
        }
        // Each append also reads the header row: reads must stay under Google's 60 a minute
        // too, with room for the background refresh.
        if self.writes_per_minute == 0 || self.writes_per_minute > 50 {
            return bad(
                "writes_per_minute",
                &self.writes_per_minute,
                "must be between 1 and 50 (Google allows 60 reads and 60 writes a minute)",
            );
        }
        if self.batch_max_rows == 0 {
            return bad("batch_max_rows", &self.batch_max_rows, "must be positive");
        }
        if self.request_timeout_secs == 0 {
            return bad(
                "request_timeout_secs",
                &self.request_timeout_secs,
                "must be positive",
            );
        }
        if self.max_cell_chars < 40 || self.max_cell_chars > 50_000 {
            return bad(
                "max_cell_chars",
                &self.max_cell_chars,
                "must be between 40 (dates and IDs must fit) and 50000 (a cell's limit)",
            );
        }
        Ok(())
    }
}

/// Language-model tuning (`[brain]`): which Gemini model, when to ask it, how long to wait.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrainTuning {
    pub model: String,
    pub api_url: String,
    pub ask_below: f32,
    pub call_timeout_ms: u64,
    pub turn_budget_ms: u64,
    pub max_concurrency: usize,
    pub max_retries: u32,
    pub backoff_base_ms: u64,
    pub backoff_max_secs: u64,
    pub breaker_failures: u32,
    pub breaker_cooldown_secs: u64,
    pub wording: bool,
    pub wording_max_chars: usize,
    #[serde(default)]
    pub facts: Vec<String>,
    /// `thinkingConfig.thinkingBudget` sent with every request; negative leaves it out (the
    /// model's default: models that cannot turn thinking off refuse 0).
    pub thinking_budget: i64,
}

impl BrainTuning {
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        let bad = |key: &str, given: &dyn fmt::Debug, expected: &str| {
            Err(invalid(&format!("brain.{key}"), given, expected))
        };
        if !is_http_url(&self.api_url) {
            return Err(invalid_url("brain.api_url"));
        }
        if self.model.trim().is_empty() || self.model.contains(['/', '?', '#', ' ']) {
            return bad(
                "model",
                &self.model,
                "expected a model name such as gemini-2.5-flash",
            );
        }
        if !(0.0..=1.0).contains(&self.ask_below) {
            return bad("ask_below", &self.ask_below, "must be between 0 and 1");
        }
        if self.call_timeout_ms == 0 {
            return bad("call_timeout_ms", &self.call_timeout_ms, "must be positive");
        }
        if self.turn_budget_ms < MIN_GEMINI_REQUEST_MS {
            return bad(
                "turn_budget_ms",
                &self.turn_budget_ms,
                &format!(
                    "must be at least {MIN_GEMINI_REQUEST_MS}: Gemini is never asked with less time left"
                ),
            );
        }
        if self.call_timeout_ms > self.turn_budget_ms {
            return bad(
                "call_timeout_ms",
                &self.call_timeout_ms,
                &format!(
                    "must not be longer than brain.turn_budget_ms ({}): no conversation waits that long",
                    self.turn_budget_ms
                ),
            );
        }
        if self.max_concurrency == 0 {
            return bad("max_concurrency", &self.max_concurrency, "must be positive");
        }
        if self.breaker_failures == 0 {
            return bad(
                "breaker_failures",
                &self.breaker_failures,
                "must be positive",
            );
        }
        if self.wording_max_chars < 40 {
            return bad(
                "wording_max_chars",
                &self.wording_max_chars,
                "must be at least 40",
            );
        }
        Ok(())
    }

    pub fn call_timeout(&self) -> Duration {
        Duration::from_millis(self.call_timeout_ms)
    }

    pub fn turn_budget(&self) -> Duration {
        Duration::from_millis(self.turn_budget_ms)
    }
}

/// Replicas (`[cluster]`): how they share the platforms' rates through Redis
/// (`REDSOL_REDIS_URL`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterTuning {
    /// Each Redis call's timeout.
    pub redis_timeout_ms: u64,
    /// The part of an account's rate one replica uses alone while Redis cannot be reached.
    pub fallback_share: f64,
    /// How long a replica's lease on a conversation holds without renewal (PostgreSQL): a dead
    /// replica's conversations resume elsewhere within it.
    pub lease_ms: u64,
}

impl ClusterTuning {
    pub(super) fn validate(&self) -> anyhow::Result<()> {
        if !(1..=60_000).contains(&self.redis_timeout_ms) {
            return Err(invalid(
                "cluster.redis_timeout_ms",
                &self.redis_timeout_ms,
                "1 to 60000",
            ));
        }
        if !(1_000..=60_000).contains(&self.lease_ms) {
            return Err(invalid("cluster.lease_ms", &self.lease_ms, "1000 to 60000"));
        }
        if !(self.fallback_share > 0.0 && self.fallback_share <= 1.0) {
            return Err(invalid(
                "cluster.fallback_share",
                &self.fallback_share,
                "more than 0, at most 1",
            ));
        }
        Ok(())
    }
}
