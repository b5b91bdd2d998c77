//! Typed settings, loaded in layers and validated once at start:
//! 1. `config/default.toml`, embedded in the binary (every business rule and default);
//! 2. the file named by `REDSOL_CONFIG`, if set (only the keys it changes; tables merge);
//! 3. the environment variables of the contract (`MESSAGING_HOST`, `REDSOL_DATA_DIR`...).
//!
//! Secrets (tokens, keys) come only from the environment, or from a file named by
//! `NAME_FILE`, and are wrapped in [`Secret`] so they never print.

use anyhow::{bail, Context as _};
use redsol_actors::rules::Rules;
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

/// The configuration shipped in `config/default.toml`.
pub const DEFAULT_CONFIG: &str = redsol_actors::testing::DEFAULT_CONFIG;

/// A secret value: printing it shows `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub shutdown_grace_secs: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSettings {
    pub data_dir: PathBuf,
    pub demo_clients: usize,
    /// How often the senders offer unsent outbox replies again.
    pub outbox_sweep_secs: u64,
}

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
}

impl WhatsAppTuning {
    fn validate(&self) -> anyhow::Result<()> {
        let bad = |key: &str, problem: &str| {
            Err(anyhow::anyhow!(
                "invalid configuration: whatsapp.{key}: {problem}"
            ))
        };
        if !(self.api_url.starts_with("http://") || self.api_url.starts_with("https://")) {
            return bad("api_url", "must be an http:// or https:// URL");
        }
        if !self.api_version.starts_with('v') {
            return bad("api_version", "must look like v23.0");
        }
        if self.max_body_bytes < 1024 {
            return bad("max_body_bytes", "must be at least 1024");
        }
        if self.send_per_second == 0 || self.recipient_burst == 0 {
            return bad("send_per_second / recipient_burst", "must be positive");
        }
        if self.recipient_per_second.is_nan() || self.recipient_per_second <= 0.0 {
            return bad("recipient_per_second", "must be positive");
        }
        if self.request_timeout_secs == 0 {
            return bad("request_timeout_secs", "must be positive");
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
}

impl TelegramTuning {
    fn validate(&self) -> anyhow::Result<()> {
        let bad = |key: &str, problem: &str| {
            Err(anyhow::anyhow!(
                "invalid configuration: telegram.{key}: {problem}"
            ))
        };
        if !(self.api_url.starts_with("http://") || self.api_url.starts_with("https://")) {
            return bad("api_url", "must be an http:// or https:// URL");
        }
        if self.poll_timeout_secs == 0 || self.poll_timeout_secs >= 17 {
            return bad(
                "poll_timeout_secs",
                "must be between 1 and 16 (teloxide's client times out at 17 s)",
            );
        }
        if self.send_per_second == 0 || self.chat_burst == 0 {
            return bad("send_per_second / chat_burst", "must be positive");
        }
        if self.chat_per_second.is_nan() || self.chat_per_second <= 0.0 {
            return bad("chat_per_second", "must be positive");
        }
        Ok(())
    }
}

/// The configuration file's shape.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    server: ServerSettings,
    store: StoreSettings,
    whatsapp: WhatsAppTuning,
    telegram: TelegramTuning,
    brain: BrainTuning,
    sheets: SheetsTuning,
    rules: Rules,
}

/// Google Sheets tuning (`[sheets]`): tabs, cache, write budget, retries.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SheetsTuning {
    pub api_url: String,
    pub clients_tab: String,
    pub incidents_tab: String,
    pub prospects_tab: String,
    pub cache_ttl_secs: u64,
    pub request_timeout_secs: u64,
    pub writes_per_minute: u32,
    pub batch_max_rows: usize,
    pub backoff_base_ms: u64,
    pub backoff_max_secs: u64,
    pub max_cell_chars: usize,
}

impl SheetsTuning {
    fn validate(&self) -> anyhow::Result<()> {
        let bad = |key: &str, problem: &str| {
            Err(anyhow::anyhow!(
                "invalid configuration: sheets.{key}: {problem}"
            ))
        };
        if !(self.api_url.starts_with("http://") || self.api_url.starts_with("https://")) {
            return bad("api_url", "must be an http:// or https:// URL");
        }
        for (key, tab) in [
            ("clients_tab", &self.clients_tab),
            ("incidents_tab", &self.incidents_tab),
            ("prospects_tab", &self.prospects_tab),
        ] {
            if tab.trim().is_empty() || tab.contains(['!', '\'', '#', '?', '/', '%']) {
                return bad(key, "must be a tab name without ! ' # ? / or %");
            }
        }
        // Each append also reads the header row: reads must stay under Google's 60 a minute
        // too, with room for the background refresh.
        if self.writes_per_minute == 0 || self.writes_per_minute > 50 {
            return bad(
                "writes_per_minute",
                "must be between 1 and 50 (Google allows 60 reads and 60 writes a minute)",
            );
        }
        if self.batch_max_rows == 0 || self.request_timeout_secs == 0 {
            return bad("batch_max_rows / request_timeout_secs", "must be positive");
        }
        if self.max_cell_chars < 40 || self.max_cell_chars > 50_000 {
            return bad(
                "max_cell_chars",
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
    fn validate(&self) -> anyhow::Result<()> {
        let bad = |key: &str, problem: &str| {
            Err(anyhow::anyhow!(
                "invalid configuration: brain.{key}: {problem}"
            ))
        };
        if !(self.api_url.starts_with("http://") || self.api_url.starts_with("https://")) {
            return bad("api_url", "must be an http:// or https:// URL");
        }
        if self.model.trim().is_empty() || self.model.contains(['/', '?', '#', ' ']) {
            return bad("model", "must be a model name such as gemini-2.5-flash");
        }
        if !(0.0..=1.0).contains(&self.ask_below) {
            return bad("ask_below", "must be between 0 and 1");
        }
        if self.call_timeout_ms == 0 || self.turn_budget_ms == 0 {
            return bad("call_timeout_ms / turn_budget_ms", "must be positive");
        }
        if self.call_timeout_ms > self.turn_budget_ms {
            return bad(
                "call_timeout_ms",
                "must not be longer than turn_budget_ms (no conversation waits that long)",
            );
        }
        if self.max_concurrency == 0 || self.breaker_failures == 0 {
            return bad("max_concurrency / breaker_failures", "must be positive");
        }
        if self.wording_max_chars < 40 {
            return bad("wording_max_chars", "must be at least 40");
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

/// Telegram, when `TELEGRAM_BOT_TOKEN` is set. `api_url` is `TELEGRAM_API_URL`, else
/// `telegram.api_url` from the config.
#[derive(Clone, Debug)]
pub struct TelegramSettings {
    pub token: Secret,
    pub api_url: String,
    pub webhook_url: Option<String>,
    pub webhook_secret: Option<Secret>,
}

/// WhatsApp Cloud API, when `WHATSAPP_PHONE_NUMBER_ID` and `WHATSAPP_ACCESS_TOKEN` are set.
/// `api_url` is `WHATSAPP_API_URL`, else `whatsapp.api_url` from the config.
#[derive(Clone, Debug)]
pub struct WhatsAppSettings {
    pub phone_number_id: String,
    pub access_token: Secret,
    pub verify_token: Option<Secret>,
    pub app_secret: Option<Secret>,
    pub api_url: String,
}

/// Gemini, when `GEMINI_API_KEY` is set. `model` and `api_url` are `GEMINI_MODEL` and
/// `GEMINI_API_URL`, else `brain.model` and `brain.api_url` from the config.
#[derive(Clone, Debug)]
pub struct GeminiSettings {
    pub api_key: Secret,
    pub model: String,
    pub api_url: String,
}

/// Google Sheets, when `GOOGLE_SHEETS_ID` and `GOOGLE_APPLICATION_CREDENTIALS` are set.
#[derive(Clone, Debug)]
pub struct SheetsSettings {
    pub sheet_id: String,
    pub credentials_file: PathBuf,
    /// `SHEETS_API_URL`, else `sheets.api_url`, without a trailing `/`.
    pub api_url: String,
}

/// Everything redsol runs with.
#[derive(Clone, Debug)]
pub struct Settings {
    pub server: ServerSettings,
    pub store: StoreSettings,
    pub whatsapp_tuning: WhatsAppTuning,
    pub telegram_tuning: TelegramTuning,
    pub brain: BrainTuning,
    pub sheets_tuning: SheetsTuning,
    pub rules: Rules,
    pub telegram: Option<TelegramSettings>,
    pub whatsapp: Option<WhatsAppSettings>,
    pub gemini: Option<GeminiSettings>,
    pub sheets: Option<SheetsSettings>,
    /// Where each layer came from, for `redsol status`.
    pub sources: Vec<String>,
}

/// Where environment values come from (the process environment, or a map in tests).
pub trait Env {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Env for HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        HashMap::get(self, name).cloned()
    }
}

fn var(env: &dyn Env, name: &str) -> Option<String> {
    env.get(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// A secret from `NAME`, or from the file named by `NAME_FILE`.
fn secret(env: &dyn Env, name: &str) -> anyhow::Result<Option<Secret>> {
    if let Some(v) = var(env, name) {
        return Ok(Some(Secret(v)));
    }
    let file_var = format!("{name}_FILE");
    match var(env, &file_var) {
        Some(path) => {
            let value = std::fs::read_to_string(&path)
                .with_context(|| format!("{file_var}: cannot read the file {path}"))?;
            let value = value.trim().to_string();
            if value.is_empty() {
                bail!("{file_var}: the file {path} is empty");
            }
            Ok(Some(Secret(value)))
        }
        None => Ok(None),
    }
}

fn url(env: &dyn Env, name: &str) -> anyhow::Result<Option<String>> {
    match var(env, name) {
        Some(u) if u.starts_with("http://") || u.starts_with("https://") => {
            Ok(Some(u.trim_end_matches('/').to_string()))
        }
        Some(_) => bail!("{name}: must be an http:// or https:// URL"),
        None => Ok(None),
    }
}

fn list(env: &dyn Env, name: &str) -> Vec<String> {
    var(env, name)
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// Merges `over` into `base`: tables merge key by key, anything else is replaced.
fn merge(base: &mut toml::Table, over: toml::Table) {
    for (k, v) in over {
        match (base.get_mut(&k), v) {
            (Some(toml::Value::Table(b)), toml::Value::Table(o)) => merge(b, o),
            (_, v) => {
                base.insert(k, v);
            }
        }
    }
}

impl Settings {
    /// Loads the settings from the process environment.
    pub fn load() -> anyhow::Result<Settings> {
        Self::load_from(&ProcessEnv)
    }

    /// Loads the settings from the given environment (tests pass a map).
    pub fn load_from(env: &dyn Env) -> anyhow::Result<Settings> {
        let mut table: toml::Table =
            toml::from_str(DEFAULT_CONFIG).context("the embedded config/default.toml")?;
        let mut sources = vec!["config/default.toml (embedded)".to_string()];
        if let Some(path) = var(env, "REDSOL_CONFIG") {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("REDSOL_CONFIG: cannot read {path}"))?;
            let over: toml::Table =
                toml::from_str(&text).with_context(|| format!("REDSOL_CONFIG: {path}"))?;
            merge(&mut table, over);
            sources.push(format!("{path} (REDSOL_CONFIG)"));
        }
        let mut file: FileSettings =
            toml::Value::Table(table)
                .try_into()
                .map_err(|e: toml::de::Error| {
                    anyhow::anyhow!("invalid configuration: {}", e.message())
                })?;

        if let Some(host) = var(env, "MESSAGING_HOST") {
            file.server.host = host;
        }
        if let Some(port) = var(env, "MESSAGING_PORT") {
            file.server.port = port
                .parse()
                .with_context(|| format!("MESSAGING_PORT: '{port}' is not a port number"))?;
        }
        if let Some(dir) = var(env, "REDSOL_DATA_DIR") {
            file.store.data_dir = PathBuf::from(dir);
        }
        file.rules
            .staff
            .telegram_ids
            .extend(list(env, "REDSOL_ADMIN_TELEGRAM_IDS"));
        file.rules
            .staff
            .whatsapp_numbers
            .extend(list(env, "REDSOL_ADMIN_WHATSAPP_NUMBERS"));
        file.rules.validate()?;
        file.whatsapp.validate()?;
        file.telegram.validate()?;
        file.brain.validate()?;
        file.sheets.validate()?;
        if file.server.host.trim().is_empty() {
            bail!("invalid configuration: server.host: must not be empty");
        }
        if file.store.demo_clients > 100_000 {
            bail!("invalid configuration: store.demo_clients: at most 100000");
        }

        let telegram = match secret(env, "TELEGRAM_BOT_TOKEN")? {
            Some(token) => Some(TelegramSettings {
                token,
                api_url: url(env, "TELEGRAM_API_URL")?
                    .unwrap_or_else(|| file.telegram.api_url.trim_end_matches('/').to_string()),
                webhook_url: url(env, "TELEGRAM_WEBHOOK_URL")?,
                webhook_secret: secret(env, "TELEGRAM_WEBHOOK_SECRET")?,
            }),
            None => None,
        };
        let whatsapp = match (
            var(env, "WHATSAPP_PHONE_NUMBER_ID"),
            secret(env, "WHATSAPP_ACCESS_TOKEN")?,
        ) {
            (Some(phone_number_id), Some(access_token)) => Some(WhatsAppSettings {
                phone_number_id,
                access_token,
                verify_token: secret(env, "WHATSAPP_VERIFY_TOKEN")?,
                app_secret: secret(env, "WHATSAPP_APP_SECRET")?,
                api_url: url(env, "WHATSAPP_API_URL")?
                    .unwrap_or_else(|| file.whatsapp.api_url.trim_end_matches('/').to_string()),
            }),
            (None, None) => None,
            (None, Some(_)) => {
                bail!("WHATSAPP_PHONE_NUMBER_ID is required with WHATSAPP_ACCESS_TOKEN")
            }
            (Some(_), None) => {
                bail!("WHATSAPP_ACCESS_TOKEN is required with WHATSAPP_PHONE_NUMBER_ID")
            }
        };
        let gemini = match secret(env, "GEMINI_API_KEY")? {
            Some(api_key) => Some(GeminiSettings {
                api_key,
                model: var(env, "GEMINI_MODEL").unwrap_or_else(|| file.brain.model.clone()),
                api_url: url(env, "GEMINI_API_URL")?
                    .unwrap_or_else(|| file.brain.api_url.trim_end_matches('/').to_string()),
            }),
            None => None,
        };
        let sheets = match (
            var(env, "GOOGLE_SHEETS_ID"),
            var(env, "GOOGLE_APPLICATION_CREDENTIALS"),
        ) {
            (Some(sheet_id), Some(credentials)) => Some(SheetsSettings {
                sheet_id,
                credentials_file: PathBuf::from(credentials),
                api_url: url(env, "SHEETS_API_URL")?
                    .unwrap_or_else(|| file.sheets.api_url.trim_end_matches('/').to_string()),
            }),
            (None, None) => None,
            (Some(_), None) => {
                bail!("GOOGLE_APPLICATION_CREDENTIALS is required with GOOGLE_SHEETS_ID")
            }
            (None, Some(_)) => None,
        };
        Ok(Settings {
            server: file.server,
            store: file.store,
            whatsapp_tuning: file.whatsapp,
            telegram_tuning: file.telegram,
            brain: file.brain,
            sheets_tuning: file.sheets,
            rules: file.rules,
            telegram,
            whatsapp,
            gemini,
            sheets,
            sources,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_load_with_an_empty_environment() {
        let s = Settings::load_from(&env(&[])).expect("defaults load");
        assert_eq!(s.server.port, 5001);
        assert_eq!(s.server.host, "127.0.0.1");
        assert_eq!(s.rules.plan(100).map(|p| p.price), Some(600));
        assert_eq!(s.rules.limits.max_reply_chars, 800);
        assert!(s.telegram.is_none() && s.whatsapp.is_none() && s.gemini.is_none());
    }

    #[test]
    fn environment_overrides_and_bad_values_name_the_variable() {
        let s = Settings::load_from(&env(&[
            ("MESSAGING_PORT", "6000"),
            ("REDSOL_DATA_DIR", "/tmp/x"),
            ("REDSOL_ADMIN_TELEGRAM_IDS", "11, 22"),
        ]))
        .expect("loads");
        assert_eq!(s.server.port, 6000);
        assert_eq!(s.store.data_dir, PathBuf::from("/tmp/x"));
        assert!(s.rules.staff.telegram_ids.contains(&"22".to_string()));
        let err = Settings::load_from(&env(&[("MESSAGING_PORT", "abc")])).unwrap_err();
        assert!(format!("{err:#}").contains("MESSAGING_PORT"), "{err:#}");
    }

    #[test]
    fn config_file_layer_merges_and_bad_keys_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let good = dir.path().join("good.toml");
        std::fs::write(
            &good,
            "[rules]\nemojis = false\n[rules.limits]\nmax_reply_chars = 500\n",
        )
        .expect("write");
        let s = Settings::load_from(&env(&[(
            "REDSOL_CONFIG",
            good.to_str().unwrap_or_default(),
        )]))
        .expect("loads");
        assert!(!s.rules.emojis);
        assert_eq!(s.rules.limits.max_reply_chars, 500);
        assert_eq!(
            s.rules.limits.inbound_burst, 5,
            "untouched keys keep their defaults"
        );

        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "[rules.limits]\nmax_reply_chars = 5\n").expect("write");
        let err = Settings::load_from(&env(&[("REDSOL_CONFIG", bad.to_str().unwrap_or_default())]))
            .unwrap_err();
        assert!(
            format!("{err:#}").contains("rules.limits.max_reply_chars"),
            "{err:#}"
        );

        let typo = dir.path().join("typo.toml");
        std::fs::write(&typo, "[rules]\nemoji = false\n").expect("write");
        let err = Settings::load_from(&env(&[(
            "REDSOL_CONFIG",
            typo.to_str().unwrap_or_default(),
        )]))
        .unwrap_err();
        assert!(format!("{err:#}").contains("emoji"), "{err:#}");
    }

    #[test]
    fn secrets_never_print_and_can_come_from_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let f = dir.path().join("token");
        std::fs::write(&f, "123:SECRET-TOKEN\n").expect("write");
        let s = Settings::load_from(&env(&[(
            "TELEGRAM_BOT_TOKEN_FILE",
            f.to_str().unwrap_or_default(),
        )]))
        .expect("loads");
        let tg = s.telegram.expect("telegram configured");
        assert_eq!(tg.token.expose(), "123:SECRET-TOKEN");
        let printed = format!("{tg:?} {}", tg.token);
        assert!(!printed.contains("SECRET"), "{printed}");
    }
}
