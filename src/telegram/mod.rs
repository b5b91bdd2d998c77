//! The Telegram channel: updates in by long polling (the default) or by webhook (when
//! `TELEGRAM_WEBHOOK_URL` is set), journaled before they are acknowledged; replies out through
//! a paced sender with retries, each sent once.
//!
//! - [`api`]: teloxide's `Bot` with timeouts, and its errors made ours (never the token).
//! - [`updates`]: Telegram updates parsed into `Inbound` messages.
//! - [`inbound`]: the shared inbound path (journal, route, answer button taps).
//! - [`polling`]: the `getUpdates` loop and its offset bookkeeping.
//! - [`webhook`]: the axum route `POST /telegram/webhook`.
//! - [`render`]: replies as Telegram messages (split at 4096, inline keyboards).
//! - [`outbound`]: Telegram as a platform of the shared sender ([`crate::channels`]).
//!
//! Start-up comes in two steps, because the conversations need the channel's reply sink before
//! they start, and the channel's inbound side needs their router after they started:
//!
//! ```text
//! let mut telegram = TelegramChannel::prepare(settings, tuning, store.clone()).await?; // getMe, commands, sender
//! sinks.insert(Channel::Telegram, telegram.sink());
//! let core = start_core(.., sinks).await?;                  // the actor tree
//! telegram.start_inbound(core.router.clone()).await?;       // setWebhook, or deleteWebhook + poller
//! telegram.resend_pending().await;                          // unsent replies of the last run
//! let routes = routes.merge(telegram.routes());             // POST /telegram/webhook (webhook mode)
//! ...
//! telegram.stop_inbound().await;                            // stop polling, commit the offset
//! core.stop(grace).await;                                   // let the conversations finish
//! telegram.shutdown(grace).await;                           // flush the sender
//! ```

pub mod api;
pub mod inbound;
pub mod media;
pub mod outbound;
pub mod polling;
pub mod render;
pub mod updates;
pub mod webhook;

use crate::settings::{Secret, TelegramSettings, TelegramTuning};
use crate::shared_rate::Sharing;
use anyhow::Context as _;
use api::{Api, TelegramError, CALL_TIMEOUT};
use inbound::Receiver;
use outbound::TelegramOutbound;
use polling::{Poller, ALLOWED_UPDATES};
use redsol_actors::model::ReplySink;
use redsol_actors::store::Store;
use redsol_actors::supervisor::Router;
use std::sync::Arc;
use std::time::Duration;
use teloxide::payloads::SetWebhookSetters;
use teloxide::requests::Requester;
use teloxide::types::{BotCommand, Me};
use tokio::sync::watch;
use updates::Identity;
use webhook::WebhookState;

/// The commands shown in Telegram's menu, with their Spanish descriptions.
pub const COMMANDS: [(&str, &str); 4] = [
    ("start", "Empezar a platicar con el asistente"),
    ("menu", "Ver lo que puedo hacer por ti"),
    ("ayuda", "Pedir ayuda"),
    ("cancelar", "Cancelar lo que estamos haciendo"),
];

/// How updates arrive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TelegramMode {
    /// `getUpdates` long polling.
    Polling,
    /// Telegram posts to this public URL (`TELEGRAM_WEBHOOK_URL`).
    Webhook { url: String },
}

enum InboundSide {
    /// Not started yet.
    Idle,
    Polling {
        stop: watch::Sender<bool>,
        task: tokio::task::JoinHandle<()>,
    },
    Webhook,
    Stopped,
}

/// The Telegram channel: see the module docs for its life cycle.
pub struct TelegramChannel {
    api: Api,
    me: Identity,
    mode: TelegramMode,
    tuning: TelegramTuning,
    store: Arc<dyn Store>,
    outbound: TelegramOutbound,
    webhook: Option<Arc<WebhookState>>,
    inbound: InboundSide,
    /// Whether this replica leads (polling runs only on the leader); `None`: always.
    leadership: Option<watch::Receiver<bool>>,
}

/// Checks a webhook secret as Telegram wants it: 1-256 of `A-Z a-z 0-9 _ -`.
fn check_webhook_secret(secret: &Secret) -> anyhow::Result<()> {
    let s = secret.expose();
    if s.is_empty()
        || s.len() > 256
        || !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        anyhow::bail!(
            "TELEGRAM_WEBHOOK_SECRET must be 1 to 256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)"
        );
    }
    Ok(())
}

/// `getMe`, with errors an operator can act on (never the token).
async fn get_me(api: &Api, api_url: &str) -> anyhow::Result<Me> {
    match api.call(api.bot().get_me(), CALL_TIMEOUT).await {
        Ok(me) => Ok(me),
        Err(TelegramError::Unauthorized) => anyhow::bail!(
            "Telegram refused TELEGRAM_BOT_TOKEN (401 Unauthorized): the token is wrong or was revoked; get it from @BotFather"
        ),
        Err(e) => anyhow::bail!("cannot reach the Telegram Bot API at {api_url}: {e}"),
    }
}

impl TelegramChannel {
    /// Checks the token with `getMe`; returns the bot's `@username`. For `redsol status --check`.
    pub async fn check(settings: &TelegramSettings) -> anyhow::Result<String> {
        let api = Api::new(&settings.token, &settings.api_url)?;
        let me = get_me(&api, &settings.api_url).await?;
        Ok(format!("@{}", me.user.username.unwrap_or_default()))
    }

    /// The first step: checks the configuration and the token (`getMe`), sets the bot's
    /// commands (a failure there is only logged) and starts the sender. Nothing is received
    /// until [`start_inbound`](Self::start_inbound).
    pub async fn prepare(
        settings: &TelegramSettings,
        tuning: &TelegramTuning,
        store: Arc<dyn Store>,
    ) -> anyhow::Result<TelegramChannel> {
        Self::prepare_shared(settings, tuning, store, None).await
    }

    /// [`prepare`](Self::prepare), the bot's rate shared by replicas as `sharing` says.
    pub async fn prepare_shared(
        settings: &TelegramSettings,
        tuning: &TelegramTuning,
        store: Arc<dyn Store>,
        sharing: Option<&Sharing>,
    ) -> anyhow::Result<TelegramChannel> {
        // The rule `redsol status` reports with, in one place.
        if let Some(missing) = settings.missing().first() {
            anyhow::bail!(
                "{missing} is required with TELEGRAM_WEBHOOK_URL (it proves that webhook requests come from Telegram)"
            );
        }
        let webhook = match &settings.webhook_url {
            Some(url) => {
                let secret = settings.webhook_secret.clone().ok_or_else(|| {
                    anyhow::anyhow!("TELEGRAM_WEBHOOK_SECRET is required with TELEGRAM_WEBHOOK_URL")
                })?;
                check_webhook_secret(&secret)?;
                reqwest::Url::parse(url).context("TELEGRAM_WEBHOOK_URL is not a valid URL")?;
                Some((url.clone(), Arc::new(WebhookState::new(secret))))
            }
            None => None,
        };
        let api = Api::new(&settings.token, &settings.api_url)?;
        let me = get_me(&api, &settings.api_url).await?;
        let username = me.user.username.clone().unwrap_or_default();
        if username.is_empty() {
            tracing::warn!("getMe gave no username; commands addressed to the bot in groups will not be recognised");
        }
        let identity = Identity {
            id: me.user.id.0,
            username,
        };
        let commands = COMMANDS
            .iter()
            .map(|(c, d)| BotCommand::new(*c, *d))
            .collect::<Vec<_>>();
        match api
            .call(api.bot().set_my_commands(commands), CALL_TIMEOUT)
            .await
        {
            Ok(_) => tracing::debug!("Telegram bot commands set"),
            Err(e) => {
                tracing::warn!(error = %e, "could not set the bot's commands in Telegram; they still work when typed")
            }
        }
        // The bot's id names its bucket: the token never leaves the process.
        let pacing =
            outbound::pacing(tuning).shared_through(sharing, &format!("telegram:{}", identity.id));
        let outbound = outbound::spawn_paced(api.clone(), pacing, store.clone()).await?;
        let (mode, webhook) = match webhook {
            Some((url, state)) => (TelegramMode::Webhook { url }, Some(state)),
            None => (TelegramMode::Polling, None),
        };
        tracing::info!(
            bot = %format!("@{}", identity.username),
            mode = match mode { TelegramMode::Polling => "polling", TelegramMode::Webhook { .. } => "webhook" },
            "Telegram channel ready"
        );
        Ok(TelegramChannel {
            api,
            me: identity,
            mode,
            tuning: tuning.clone(),
            store,
            outbound,
            webhook,
            inbound: InboundSide::Idle,
            leadership: None,
        })
    }

    /// Where the conversations deliver Telegram replies.
    pub fn sink(&self) -> Arc<dyn ReplySink> {
        self.outbound.sink()
    }

    /// The bot's username (without `@`), from `getMe`.
    pub fn username(&self) -> &str {
        &self.me.username
    }

    pub fn mode(&self) -> &TelegramMode {
        &self.mode
    }

    /// The second step, once the conversations run: in webhook mode `setWebhook` (with the
    /// secret and the update kinds we take) and the webhook route starts taking updates; in
    /// polling mode `deleteWebhook` (coming back from webhook mode) and the poller starts.
    pub async fn start_inbound(&mut self, router: Router) -> anyhow::Result<()> {
        if !matches!(self.inbound, InboundSide::Idle) {
            anyhow::bail!("the Telegram inbound side was started already");
        }
        let receiver = Receiver {
            api: self.api.clone(),
            store: self.store.clone(),
            router,
            me: self.me.clone(),
            groups: self.tuning.groups,
        };
        match (&self.mode, &self.webhook) {
            (TelegramMode::Webhook { url }, Some(state)) => {
                let parsed =
                    reqwest::Url::parse(url).context("TELEGRAM_WEBHOOK_URL is not a valid URL")?;
                let secret = state.secret().clone();
                state.open(receiver);
                let request = self
                    .api
                    .bot()
                    .set_webhook(parsed)
                    .secret_token(secret.expose())
                    .allowed_updates(ALLOWED_UPDATES);
                if let Err(e) = self.api.call(request, CALL_TIMEOUT).await {
                    state.close();
                    anyhow::bail!("Telegram refused the webhook {url}: {e}");
                }
                tracing::info!(channel = "telegram", url = %url, "Telegram webhook set");
                self.inbound = InboundSide::Webhook;
            }
            _ => {
                match self
                    .api
                    .call(self.api.bot().delete_webhook(), CALL_TIMEOUT)
                    .await
                {
                    Ok(_) => tracing::debug!("Telegram webhook deleted (polling mode)"),
                    Err(e) => tracing::warn!(
                        error = %e,
                        "could not delete the Telegram webhook; if one is set, polling gets 409 Conflict until it is removed"
                    ),
                }
                let (stop, stop_rx) = watch::channel(false);
                let poller = Poller {
                    receiver,
                    retries: outbound::pacing(&self.tuning).retries,
                    timeout_secs: self.tuning.poll_timeout_secs,
                    leadership: self.leadership.clone(),
                };
                let task = tokio::spawn(poller.run(stop_rx));
                self.inbound = InboundSide::Polling { stop, task };
            }
        }
        Ok(())
    }

    /// Polls only while `leadership` says this replica leads (replicas share the bot, and
    /// Telegram gives its updates to one poller); call before [`Self::start_inbound`].
    pub fn lead_with(&mut self, leadership: watch::Receiver<bool>) {
        self.leadership = Some(leadership);
    }

    /// The HTTP routes of the channel: `POST /telegram/webhook` in webhook mode (503 until the
    /// inbound side starts), nothing in polling mode.
    pub fn routes(&self) -> axum::Router {
        match &self.webhook {
            Some(state) => webhook::routes(state.clone()),
            None => axum::Router::new(),
        }
    }

    /// Queues the replies of the last run that were never sent. Returns how many.
    pub async fn resend_pending(&self) -> usize {
        self.outbound.resend_pending().await
    }

    /// The channel's sender (for the outbox sweep, `/ready` and the root supervisor).
    pub fn sender(&self) -> &TelegramOutbound {
        &self.outbound
    }

    /// Replies queued, in flight or waiting a retry.
    pub fn pending(&self) -> usize {
        self.outbound.pending()
    }

    /// Waits until every queued reply was sent or given up, or `grace` passed.
    pub async fn drain(&self, grace: Duration) -> bool {
        self.outbound.drain(grace).await
    }

    /// Stops taking updates: the poller stops and commits its offset; the webhook answers 503
    /// (Telegram delivers again later). Replies still go out.
    pub async fn stop_inbound(&mut self) {
        match std::mem::replace(&mut self.inbound, InboundSide::Stopped) {
            InboundSide::Polling { stop, task } => {
                let _ = stop.send(true);
                if let Err(e) = task.await {
                    tracing::error!(error = %e, "the Telegram poller ended badly");
                }
            }
            InboundSide::Webhook => {
                if let Some(state) = &self.webhook {
                    state.close();
                }
            }
            InboundSide::Idle | InboundSide::Stopped => {}
        }
    }

    /// Stops the channel: inbound first (if still running), then the sender, after its queued
    /// replies went out or `grace` passed (unsent durable replies go out at the next start).
    pub async fn shutdown(mut self, grace: Duration) {
        self.stop_inbound().await;
        if !self.outbound.drain(grace).await {
            tracing::warn!(
                pending = self.outbound.pending(),
                "Telegram replies still pending at shutdown; durable ones are sent at the next start"
            );
        }
        self.outbound.stop();
    }
}
