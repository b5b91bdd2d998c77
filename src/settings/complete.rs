//! Integrations set up in part: the variables each still needs, one rule for `redsol status`
//! and `redsol run`.

use super::*;

/// An integration set up in part: the variables it still needs. `redsol run` refuses it;
/// `redsol status` names them and exits 2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incomplete {
    /// `whatsapp`, `telegram` or `sheets`.
    pub integration: &'static str,
    /// The variables to set.
    pub missing: Vec<&'static str>,
}

impl fmt::Display for Incomplete {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: incomplete — missing {}",
            self.integration,
            self.missing.join(", ")
        )
    }
}

/// The error for integrations set up in part (see [`Incomplete`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IncompleteConfig(pub Vec<Incomplete>);

impl fmt::Display for IncompleteConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join("; "))
    }
}

impl std::error::Error for IncompleteConfig {}

/// WhatsApp's rule, given which of its variables are set: nothing set (of the phone number id
/// and the access token) is "not configured"; otherwise all four are needed (the app secret
/// verifies webhook signatures, the verify token the subscription).
pub(super) fn whatsapp_missing(
    phone_number_id: bool,
    access_token: bool,
    verify_token: bool,
    app_secret: bool,
) -> Vec<&'static str> {
    if !phone_number_id && !access_token {
        return Vec::new();
    }
    [
        (phone_number_id, "WHATSAPP_PHONE_NUMBER_ID"),
        (access_token, "WHATSAPP_ACCESS_TOKEN"),
        (app_secret, "WHATSAPP_APP_SECRET"),
        (verify_token, "WHATSAPP_VERIFY_TOKEN"),
    ]
    .into_iter()
    .filter_map(|(set, name)| (!set).then_some(name))
    .collect()
}

/// Telegram's rule: with a token, webhook mode also needs its secret (it proves that webhook
/// requests come from Telegram).
pub(super) fn telegram_missing(
    token: bool,
    webhook_url: bool,
    webhook_secret: bool,
) -> Vec<&'static str> {
    if token && webhook_url && !webhook_secret {
        vec!["TELEGRAM_WEBHOOK_SECRET"]
    } else {
        Vec::new()
    }
}

/// Google Sheets' rule: the sheet needs the service-account key. The key alone is not Sheets
/// (`GOOGLE_APPLICATION_CREDENTIALS` is also set for other Google tools).
pub(super) fn sheets_missing(sheet_id: bool, credentials: bool) -> Vec<&'static str> {
    if sheet_id && !credentials {
        vec!["GOOGLE_APPLICATION_CREDENTIALS"]
    } else {
        Vec::new()
    }
}

impl WhatsAppSettings {
    /// The variables WhatsApp still needs to run (none when complete).
    pub fn missing(&self) -> Vec<&'static str> {
        whatsapp_missing(
            true,
            true,
            self.verify_token.is_some(),
            self.app_secret.is_some(),
        )
    }
}

impl TelegramSettings {
    /// The variables Telegram still needs to run (none when complete).
    pub fn missing(&self) -> Vec<&'static str> {
        telegram_missing(
            true,
            self.webhook_url.is_some(),
            self.webhook_secret.is_some(),
        )
    }
}
