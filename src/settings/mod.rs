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

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub shutdown_grace_secs: u64,
    /// Requests handled at once; past it a request gets 503 at once.
    pub max_concurrent_requests: usize,
    /// The most one request may take, its body read included (408 past it).
    pub request_timeout_secs: u64,
    /// The most reading a request's headers may take (the connection is closed past it).
    pub header_timeout_secs: u64,
    /// When set (`host:port`), `/metrics` is served there alone, not on the public listener.
    #[serde(default)]
    pub metrics_addr: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSettings {
    pub data_dir: PathBuf,
    pub demo_clients: usize,
    /// How often the senders offer unsent outbox replies again.
    pub outbox_sweep_secs: u64,
    /// Retention: answered journal rows, sent replies, idle conversations' snapshots and
    /// requests for staff are deleted after this many days (checked every hour).
    pub journal_retention_days: u32,
    pub outbox_retention_days: u32,
    pub snapshot_retention_days: u32,
    pub request_retention_days: u32,
}

impl StoreSettings {
    /// The retention the store applies.
    pub fn retention(&self) -> redsol_actors::store::Retention {
        redsol_actors::store::Retention {
            journal_days: self.journal_retention_days,
            outbox_days: self.outbox_retention_days,
            snapshot_days: self.snapshot_retention_days,
            request_days: self.request_retention_days,
        }
    }
}

mod complete;
mod env;
mod errors;
mod secret;
#[cfg(test)]
mod tests;
mod tuning;

use complete::{sheets_missing, whatsapp_missing};
pub use complete::{Incomplete, IncompleteConfig};
use env::*;
pub use env::{Env, ProcessEnv};
use errors::*;
pub use secret::Secret;
pub use tuning::*;

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
    cluster: ClusterTuning,
    rules: Rules,
    #[serde(default)]
    handoff: redsol_actors::rules::Handoff,
    #[serde(default)]
    notices: redsol_actors::rules::Notices,
    #[serde(default)]
    billing: redsol_actors::rules::Billing,
}

impl Settings {
    /// `count` demo clients over the configured zones and plans, as an empty embedded store is
    /// seeded with them (the same ones on every machine).
    pub fn demo_clients(&self, count: usize) -> Vec<redsol_actors::model::Client> {
        let zones: Vec<String> = self.rules.zones.iter().map(|z| z.name.clone()).collect();
        let plans: Vec<(u32, u32)> = self.rules.plans.iter().map(|p| (p.mbps, p.price)).collect();
        redsol_actors::demo::demo_clients(count, &zones, &plans)
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
    pub cluster: ClusterTuning,
    pub rules: Rules,
    pub telegram: Option<TelegramSettings>,
    pub whatsapp: Option<WhatsAppSettings>,
    pub gemini: Option<GeminiSettings>,
    pub sheets: Option<SheetsSettings>,
    /// `REDSOL_ADMIN_TOKEN`: the bearer token of the admin API (`/admin/*`), off without it.
    pub admin_token: Option<Secret>,
    /// `REDSOL_REDIS_URL`: replicas share the platforms' rates there (it may hold a password).
    pub redis_url: Option<Secret>,
    /// `REDSOL_DATABASE_URL`: the PostgreSQL store (it may hold a password).
    pub database_url: Option<Secret>,
    /// Where each layer came from, for `redsol status`.
    pub sources: Vec<String>,
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
    /// The channels set up in part: what `redsol run` refuses to start and `redsol status`
    /// reports (exit code 2). Empty when everything configured is complete.
    pub fn incomplete(&self) -> Vec<Incomplete> {
        let whatsapp = self.whatsapp.as_ref().map(|w| ("whatsapp", w.missing()));
        let telegram = self.telegram.as_ref().map(|t| ("telegram", t.missing()));
        [whatsapp, telegram]
            .into_iter()
            .flatten()
            .filter(|(_, missing)| !missing.is_empty())
            .map(|(integration, missing)| Incomplete {
                integration,
                missing,
            })
            .collect()
    }

    /// Loads the settings from the process environment.
    pub fn load() -> anyhow::Result<Settings> {
        Self::load_from(&ProcessEnv)
    }

    /// Loads the settings from the given environment (tests pass a map). An error names the
    /// key or variable, the value given (never a secret's) and what is expected; a channel or
    /// integration set up in part is an [`IncompleteConfig`] error.
    pub fn load_from(env: &dyn Env) -> anyhow::Result<Settings> {
        let mut table: toml::Table =
            toml::from_str(DEFAULT_CONFIG).context("the embedded config/default.toml")?;
        let mut sources = vec!["config/default.toml (embedded)".to_string()];
        let mut file_layer = None;
        if let Some(path) = var(env, "REDSOL_CONFIG") {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("REDSOL_CONFIG: cannot read {path}"))?;
            let over: toml::Table = toml::from_str(&text)
                .map_err(|e| anyhow::anyhow!(syntax_error(&path, &text, &e)))?;
            merge(&mut table, over.clone());
            sources.push(format!("{path} (REDSOL_CONFIG)"));
            file_layer = Some((path, toml::Value::Table(over)));
        }
        let merged = toml::Value::Table(table);
        let mut file: FileSettings =
            serde_path_to_error::deserialize(merged.clone()).map_err(|e| {
                let file = file_layer.as_ref().map(|(p, t)| (p.as_str(), t));
                anyhow::anyhow!(type_error(&e, &merged, file))
            })?;

        if let Some(host) = var(env, "MESSAGING_HOST") {
            file.server.host = host;
        }
        if let Some(port) = var(env, "MESSAGING_PORT") {
            file.server.port = port.parse().map_err(|_| {
                invalid(
                    "MESSAGING_PORT",
                    &port,
                    "expected a port number (0 to 65535)",
                )
            })?;
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
        if let Some(chat) = var(env, "REDSOL_STAFF_CHAT_ID") {
            file.rules.staff.telegram_chat_id = Some(chat);
        }
        file.rules.handoff = file.handoff.clone();
        file.rules.notices = file.notices.clone();
        file.rules.billing = file.billing.clone();
        file.rules.validate()?;
        file.whatsapp.validate()?;
        file.telegram.validate()?;
        file.brain.validate()?;
        file.sheets.validate()?;
        file.cluster.validate()?;
        if file.server.host.trim().is_empty() {
            return Err(invalid(
                "server.host",
                &file.server.host,
                "must not be empty",
            ));
        }
        if file.store.demo_clients > 100_000 {
            return Err(invalid(
                "store.demo_clients",
                &file.store.demo_clients,
                "must be at most 100000",
            ));
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
        let whatsapp = {
            let phone_number_id = var(env, "WHATSAPP_PHONE_NUMBER_ID");
            let access_token = secret(env, "WHATSAPP_ACCESS_TOKEN")?;
            let (verify_token, app_secret) = match (&phone_number_id, &access_token) {
                (None, None) => (None, None),
                _ => (
                    secret(env, "WHATSAPP_VERIFY_TOKEN")?,
                    secret(env, "WHATSAPP_APP_SECRET")?,
                ),
            };
            match (phone_number_id, access_token) {
                (Some(phone_number_id), Some(access_token)) => Some(WhatsAppSettings {
                    phone_number_id,
                    access_token,
                    verify_token,
                    app_secret,
                    api_url: url(env, "WHATSAPP_API_URL")?
                        .unwrap_or_else(|| file.whatsapp.api_url.trim_end_matches('/').to_string()),
                }),
                (None, None) => None,
                (phone_number_id, access_token) => {
                    return Err(IncompleteConfig(vec![Incomplete {
                        integration: "whatsapp",
                        missing: whatsapp_missing(
                            phone_number_id.is_some(),
                            access_token.is_some(),
                            verify_token.is_some(),
                            app_secret.is_some(),
                        ),
                    }])
                    .into())
                }
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
            (sheet_id, credentials) => {
                let missing = sheets_missing(sheet_id.is_some(), credentials.is_some());
                if !missing.is_empty() {
                    return Err(IncompleteConfig(vec![Incomplete {
                        integration: "sheets",
                        missing,
                    }])
                    .into());
                }
                None
            }
        };
        Ok(Settings {
            server: file.server,
            store: file.store,
            whatsapp_tuning: file.whatsapp,
            telegram_tuning: file.telegram,
            brain: file.brain,
            sheets_tuning: file.sheets,
            cluster: file.cluster,
            rules: file.rules,
            telegram,
            whatsapp,
            gemini,
            sheets,
            admin_token: secret(env, "REDSOL_ADMIN_TOKEN")?,
            redis_url: secret(env, "REDSOL_REDIS_URL")?,
            database_url: secret(env, "REDSOL_DATABASE_URL")?,
            sources,
        })
    }
}
