//! The channels of a run: which ones the mode and the configuration allow (and what enables
//! the others), then, before the conversations, the console, the WhatsApp and Telegram senders
//! (their rates shared by replicas when `REDSOL_REDIS_URL` says so), and the sinks the
//! conversations answer through.

use super::in_flight;
use crate::console::ConsoleSink;
use crate::settings::Settings;
use crate::shared_rate::Sharing;
use crate::telegram::TelegramChannel;
use crate::telemetry;
use crate::whatsapp::graph::GraphClient;
use crate::whatsapp::outbound::WhatsAppOutbound;
use redsol_actors::model::{Channel, Outbound};
use redsol_actors::store::Store;
use redsol_actors::supervisor::Sinks;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Which channels `redsol run` starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    Auto,
    Telegram,
    Whatsapp,
    Console,
}

/// The variables that enable each channel, for the operator.
pub fn channel_hints(settings: &Settings) -> Vec<String> {
    let mut hints = Vec::new();
    if settings.telegram.is_none() {
        hints.push(
            "Telegram: set TELEGRAM_BOT_TOKEN (and TELEGRAM_WEBHOOK_URL for webhook mode)"
                .to_string(),
        );
    }
    if settings.whatsapp.is_none() {
        hints.push(
            "WhatsApp: set WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_ACCESS_TOKEN, WHATSAPP_VERIFY_TOKEN and WHATSAPP_APP_SECRET"
                .to_string(),
        );
    }
    hints
}

/// The channels `run` starts, decided from the mode and what is configured.
#[derive(Debug, PartialEq, Eq)]
pub struct ChannelPlan {
    pub console: bool,
    pub whatsapp: bool,
    pub telegram: bool,
}

/// Decides which channels to start; a mode whose channel is not configured is an error that
/// names the variables to set.
pub fn plan_channels(settings: &Settings, mode: Mode) -> anyhow::Result<ChannelPlan> {
    let whatsapp_ready = || -> anyhow::Result<()> {
        let Some(w) = &settings.whatsapp else {
            anyhow::bail!("WhatsApp is not configured: set WHATSAPP_PHONE_NUMBER_ID and WHATSAPP_ACCESS_TOKEN");
        };
        // The rule `redsol status` reports with, in one place.
        let missing = w.missing();
        if !missing.is_empty() {
            anyhow::bail!(
                "WhatsApp needs {} (the app secret verifies webhook signatures, the verify token the subscription)",
                missing.join(" and ")
            );
        }
        Ok(())
    };
    let telegram_ready = || -> anyhow::Result<()> {
        match &settings.telegram {
            Some(_) => Ok(()),
            None => anyhow::bail!("Telegram is not configured: set TELEGRAM_BOT_TOKEN"),
        }
    };
    let none = ChannelPlan {
        console: false,
        whatsapp: false,
        telegram: false,
    };
    match mode {
        Mode::Console => Ok(ChannelPlan {
            console: true,
            ..none
        }),
        Mode::Whatsapp => {
            whatsapp_ready()?;
            Ok(ChannelPlan {
                whatsapp: true,
                ..none
            })
        }
        Mode::Telegram => {
            telegram_ready()?;
            Ok(ChannelPlan {
                telegram: true,
                ..none
            })
        }
        Mode::Auto => {
            let plan = ChannelPlan {
                whatsapp: settings.whatsapp.is_some(),
                telegram: settings.telegram.is_some(),
                ..none
            };
            if plan.whatsapp {
                whatsapp_ready()?;
            }
            if plan.whatsapp || plan.telegram {
                return Ok(plan);
            }
            tracing::info!("no messaging platform configured: starting the console channel");
            for hint in channel_hints(settings) {
                tracing::info!("to enable {hint}");
            }
            Ok(ChannelPlan {
                console: true,
                ..none
            })
        }
    }
}

/// The channels started, and where their replies go.
pub(super) struct Started {
    pub sinks: Sinks,
    /// The channels' names, for the log line that says redsol runs.
    pub names: Vec<&'static str>,
    /// The console's replies, when the console runs.
    pub console_replies: Option<mpsc::UnboundedReceiver<Outbound>>,
    pub whatsapp: Option<WhatsAppOutbound>,
    pub telegram: Option<TelegramChannel>,
}

/// Starts the channels of `plan`. Notices left in flight by the last run are settled first,
/// before any sender reads the outbox back.
pub(super) async fn start(
    settings: &Settings,
    plan: &ChannelPlan,
    store: Arc<dyn Store>,
) -> anyhow::Result<Started> {
    let sharing = Sharing::from_settings(settings)?;
    if sharing.is_some() {
        tracing::info!("platform rates shared with the other replicas (REDSOL_REDIS_URL)");
    }

    let mut sinks: Sinks = HashMap::new();
    let mut names = Vec::new();
    let mut console_replies = None;
    if plan.console {
        let (sink, replies) = ConsoleSink::new();
        sinks.insert(Channel::Console, Arc::new(sink));
        console_replies = Some(replies);
        telemetry::register_channel(Channel::Console);
        names.push("console");
    }
    // Before any sender starts reading the outbox back.
    let whatsapp_runs = plan.whatsapp && settings.whatsapp.is_some();
    in_flight::settle_notices(store.as_ref(), &settings.rules.notices, whatsapp_runs).await;
    let mut whatsapp = None;
    if let (true, Some(w)) = (plan.whatsapp, &settings.whatsapp) {
        let t = &settings.whatsapp_tuning;
        let client = GraphClient::new(
            &w.api_url,
            &t.api_version,
            &w.phone_number_id,
            w.access_token.clone(),
            Duration::from_secs(t.request_timeout_secs),
        )?;
        // Staff answer on Telegram: their photos and documents are fetched from there.
        let staff_files = match (&settings.telegram, plan.telegram) {
            (Some(tg), true) => {
                let api = crate::telegram::api::Api::new(&tg.token, &tg.api_url)?;
                let files = crate::telegram::media::TelegramFiles::new(api, &tg.token);
                Some(Arc::new(files) as Arc<dyn crate::channels::media::MediaSource>)
            }
            _ => None,
        };
        let pacing = crate::whatsapp::outbound::pacing(t)
            .shared_through(sharing.as_ref(), &format!("whatsapp:{}", w.phone_number_id));
        let outbound =
            crate::whatsapp::outbound::spawn_paced(client, pacing, store.clone(), staff_files)
                .await?;
        sinks.insert(Channel::WhatsApp, outbound.sink());
        telemetry::register_channel(Channel::WhatsApp);
        telemetry::register_whatsapp();
        names.push("whatsapp");
        whatsapp = Some(outbound);
    }

    let mut telegram = None;
    if let (true, Some(t)) = (plan.telegram, &settings.telegram) {
        let channel = TelegramChannel::prepare_shared(
            t,
            &settings.telegram_tuning,
            store.clone(),
            sharing.as_ref(),
        )
        .await?;
        sinks.insert(Channel::Telegram, channel.sink());
        telemetry::register_channel(Channel::Telegram);
        names.push("telegram");
        telegram = Some(channel);
    }
    Ok(Started {
        sinks,
        names,
        console_replies,
        whatsapp,
        telegram,
    })
}
