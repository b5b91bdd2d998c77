//! The Bot API client: teloxide's [`Bot`] over an HTTP client of ours, every call bounded by a
//! timeout, and teloxide's errors turned into [`TelegramError`], whose text never carries the
//! bot token (a network error of `reqwest` names the URL, and the URL holds the token).

use crate::settings::Secret;
use std::future::{Future, IntoFuture};
use std::time::Duration;
use teloxide::{ApiError, Bot, RequestError};

/// The bound of one Bot API call (besides `getUpdates`, whose bound is its long-polling timeout
/// plus this). teloxide waits 10 s after a 5xx answer before reading it, so this is longer, for
/// a 5xx to be seen as what it is rather than as a timeout.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(15);

/// How long a Bot API request may take to connect.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The bound of the HTTP client itself, above every call's own bound: long polls last up to
/// 16 s (`telegram.poll_timeout_secs` is at most 16).
const CLIENT_TIMEOUT: Duration = Duration::from_secs(35);

/// Why a Bot API call failed, in words fit for logs (no token, no user text).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TelegramError {
    /// 429: flood control; the request may be repeated after this long.
    #[error("Telegram asks to wait {} s before sending again (429)", .0.as_secs())]
    RetryAfter(Duration),
    /// 403: the user blocked the bot, deleted their account, or never started a chat with it.
    #[error("the recipient cannot be reached: {0}")]
    Blocked(String),
    /// 401/404 on the token: it is wrong or revoked.
    #[error("Telegram refused the bot token (401 Unauthorized): check TELEGRAM_BOT_TOKEN")]
    Unauthorized,
    /// 409: a webhook is set (while polling), or another process polls with the same token.
    #[error("conflict: {0}")]
    Conflict(String),
    /// 5xx, an answer that is not the Bot API's JSON (a proxy's error page), a network error.
    #[error("Telegram is unavailable: {0}")]
    Transient(String),
    /// No answer within the call's bound.
    #[error("no answer from Telegram within {} s", .0.as_secs())]
    Timeout(Duration),
    /// Any other refusal (400 and the like): sending it again would be refused again.
    #[error("Telegram refused the request: {0}")]
    Rejected(String),
}

impl TelegramError {
    /// Whether trying again later may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            TelegramError::RetryAfter(_) | TelegramError::Transient(_) | TelegramError::Timeout(_)
        )
    }

    /// A short name for logs and metrics labels.
    pub fn kind(&self) -> &'static str {
        match self {
            TelegramError::RetryAfter(_) => "rate_limited",
            TelegramError::Blocked(_) => "blocked",
            TelegramError::Unauthorized => "unauthorized",
            TelegramError::Conflict(_) => "conflict",
            TelegramError::Transient(_) => "unavailable",
            TelegramError::Timeout(_) => "timeout",
            TelegramError::Rejected(_) => "rejected",
        }
    }
}

/// The Bot API client with what is needed to keep its token out of error texts.
#[derive(Clone)]
pub struct Api {
    bot: Bot,
    token: Secret,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // teloxide's `Bot` prints its token: never show it.
        f.debug_struct("Api").finish_non_exhaustive()
    }
}

impl Api {
    /// A client of the Bot API at `api_url` (`https://api.telegram.org`, or a local server).
    pub fn new(token: &Secret, api_url: &str) -> anyhow::Result<Api> {
        let url = reqwest::Url::parse(api_url.trim_end_matches('/')).map_err(|e| {
            anyhow::anyhow!("TELEGRAM_API_URL / telegram.api_url is not a valid URL: {e}")
        })?;
        if url.cannot_be_a_base() {
            anyhow::bail!("TELEGRAM_API_URL / telegram.api_url is not a valid base URL");
        }
        if token.expose().is_empty()
            || token
                .expose()
                .chars()
                .any(|c| c.is_whitespace() || c == '/')
        {
            anyhow::bail!("TELEGRAM_BOT_TOKEN does not look like a bot token (123456:ABC...)");
        }
        let client = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(CLIENT_TIMEOUT)
            .tcp_nodelay(true)
            .build()
            .map_err(|e| anyhow::anyhow!("cannot build the HTTP client for Telegram: {e}"))?;
        let bot = Bot::with_client(token.expose(), client).set_api_url(url);
        Ok(Api {
            bot,
            token: token.clone(),
        })
    }

    /// The teloxide bot, to build requests with.
    pub fn bot(&self) -> &Bot {
        &self.bot
    }

    /// Runs one request within `limit`, its error made ours.
    pub async fn call<R, T>(&self, request: R, limit: Duration) -> Result<T, TelegramError>
    where
        R: IntoFuture<Output = Result<T, RequestError>>,
    {
        self.bounded(request.into_future(), limit).await
    }

    async fn bounded<T>(
        &self,
        fut: impl Future<Output = Result<T, RequestError>>,
        limit: Duration,
    ) -> Result<T, TelegramError> {
        match tokio::time::timeout(limit, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(classify(e, self.token.expose())),
            Err(_) => Err(TelegramError::Timeout(limit)),
        }
    }
}

/// The descriptions Telegram (or the proxies before it) gives to answers worth retrying.
fn transient_description(description: &str) -> bool {
    const TRANSIENT: [&str; 6] = [
        "internal server error",
        "bad gateway",
        "service unavailable",
        "gateway timeout",
        "too many requests",
        "retry later",
    ];
    let d = description.to_ascii_lowercase();
    TRANSIENT.iter().any(|t| d.contains(t))
}

/// teloxide's error as ours, its text rid of the token.
pub fn classify(error: RequestError, token: &str) -> TelegramError {
    match error {
        RequestError::RetryAfter(s) => TelegramError::RetryAfter(s.duration()),
        RequestError::Api(api) => classify_api(api, token),
        RequestError::MigrateToChatId(_) => {
            TelegramError::Rejected("the group became a supergroup with another chat id".into())
        }
        RequestError::Network(e) => {
            let what = if e.is_timeout() {
                "timed out"
            } else if e.is_connect() {
                "cannot connect"
            } else {
                "network error"
            };
            TelegramError::Transient(redact(&format!("{what}: {}", chain(&*e)), token))
        }
        RequestError::InvalidJson { raw, .. } => TelegramError::Transient(redact(
            &format!(
                "the answer is not the Bot API's JSON: {}",
                crate::telegram::render::truncate(raw.trim(), 120)
            ),
            token,
        )),
        RequestError::Io(e) => TelegramError::Transient(redact(&e.to_string(), token)),
    }
}

fn classify_api(api: ApiError, token: &str) -> TelegramError {
    match api {
        ApiError::InvalidToken => TelegramError::Unauthorized,
        ApiError::BotBlocked
        | ApiError::UserDeactivated
        | ApiError::CantInitiateConversation
        | ApiError::CantTalkWithBots
        | ApiError::BotKicked
        | ApiError::BotKickedFromSupergroup
        | ApiError::BotKickedFromChannel => TelegramError::Blocked(api.to_string()),
        ApiError::TerminatedByOtherGetUpdates | ApiError::CantGetUpdates => {
            TelegramError::Conflict(api.to_string())
        }
        ApiError::Unknown(description) => {
            let description = redact(&description, token);
            if description.starts_with("Conflict") {
                TelegramError::Conflict(description)
            } else if description.starts_with("Forbidden") {
                TelegramError::Blocked(description)
            } else if transient_description(&description) {
                TelegramError::Transient(description)
            } else {
                TelegramError::Rejected(description)
            }
        }
        other => TelegramError::Rejected(redact(&other.to_string(), token)),
    }
}

/// An error with its sources, `a: b: c`.
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}

/// Removes the token from a text: the token itself, and any `/bot<...>/` path segment.
pub fn redact(text: &str, token: &str) -> String {
    let mut out = if token.is_empty() {
        text.to_string()
    } else {
        text.replace(token, "[redacted]")
    };
    let mut from = 0;
    while let Some(pos) = out[from..].find("/bot") {
        let start = from + pos + "/bot".len();
        let end = out[start..]
            .find(['/', ' ', ')', '?', '"'])
            .map_or(out.len(), |e| start + e);
        if end > start && &out[start..end] != "[redacted]" {
            out.replace_range(start..end, "[redacted]");
        }
        from = start;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_redacted_from_texts() {
        let token = "123456:SECRET-abc";
        let text =
            "error sending request for url (https://api.telegram.org/bot123456:SECRET-abc/GetMe)";
        let clean = redact(text, token);
        assert!(!clean.contains("SECRET"), "{clean}");
        assert!(clean.contains("/bot[redacted]/GetMe"), "{clean}");
        let other = redact("url (http://x/bot999:OTHER/SendMessage)", token);
        assert!(!other.contains("OTHER"), "{other}");
        assert_eq!(redact("no token here", token), "no token here");
    }

    #[test]
    fn api_errors_are_classified() {
        let t = "1:T";
        assert_eq!(
            classify(RequestError::Api(ApiError::InvalidToken), t),
            TelegramError::Unauthorized
        );
        assert!(matches!(
            classify(RequestError::Api(ApiError::BotBlocked), t),
            TelegramError::Blocked(_)
        ));
        assert!(matches!(
            classify(
                RequestError::Api(ApiError::Unknown("Internal Server Error".into())),
                t
            ),
            TelegramError::Transient(_)
        ));
        assert!(matches!(
            classify(
                RequestError::Api(ApiError::Unknown(
                    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first".into()
                )),
                t
            ),
            TelegramError::Conflict(_)
        ));
        assert!(matches!(
            classify(RequestError::Api(ApiError::MessageIsTooLong), t),
            TelegramError::Rejected(_)
        ));
        assert_eq!(
            classify(
                RequestError::RetryAfter(teloxide::types::Seconds::from_seconds(3)),
                t
            ),
            TelegramError::RetryAfter(Duration::from_secs(3))
        );
        assert!(TelegramError::Timeout(Duration::from_secs(1)).is_retryable());
        assert!(!TelegramError::Blocked("x".into()).is_retryable());
    }
}
