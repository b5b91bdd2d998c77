//! Assembling and running redsol: the store, the engine, the actor tree, the channels and the
//! HTTP server, and a graceful stop on Ctrl-C or SIGTERM (stop taking input, let in-flight
//! turns finish and snapshot, exit).
//! - this file: the channels a mode starts, `redsol run` and `redsol chat`;
//! - [`core`]: the store, the engine and the actor tree, and their stop;
//! - [`tasks`]: the console on stdio, the hourly retention, tickets closed in the sheet, the
//!   stop signal.

use crate::admin::{self, AdminState};
use crate::console::{self, ConsoleOptions, ConsoleSink};
use crate::gemini::GeminiModel;
use crate::http::{self, HttpState};
use crate::settings::{BrainTuning, Settings};
use crate::sheets::SheetsStore;
use crate::store::postgres::{PgSettings, PgStore};
use crate::store::sqlite::SqliteStore;
use crate::telemetry;
use crate::whatsapp::webhook::{self, WebhookState};
use anyhow::Context as _;
use redsol_actors::brain::{Brain, HybridBrain, HybridTuning, OfflineBrain};
use redsol_actors::engine::Engine;
use redsol_actors::model::{Channel, Outbound};
use redsol_actors::notify::Notifier;
use redsol_actors::store::Store;
use redsol_actors::supervisor::{self, RootMsg, Router, Sinks, Supervised, SupervisorArgs};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

mod channels;
mod core;
mod in_flight;
mod tasks;

use self::core::left;
pub use self::core::{hybrid_tuning, open_store, start_core, Core};
pub use channels::{channel_hints, plan_channels, ChannelPlan, Mode};
pub use tasks::shutdown_signal;
use tasks::{
    prune_hourly, remind_hourly, run_console_stdio, tell_closed, watch_store, while_leading,
};

/// `redsol chat`: an interactive console conversation, no HTTP.
pub async fn chat(settings: Settings, opts: ConsoleOptions) -> anyhow::Result<()> {
    let (sink, replies) = ConsoleSink::new();
    let store = open_store(&settings).await?;
    let core = start_core(&settings, store, console_sinks(sink)).await?;
    let stdin = tokio::io::BufReader::new(tokio::io::stdin());
    let result = tokio::select! {
        r = console::run(core.router.clone(), replies, stdin, tokio::io::stdout(), opts) => r.map_err(anyhow::Error::from),
        _ = shutdown_signal() => Ok(()),
    };
    let grace = Duration::from_secs(settings.server.shutdown_grace_secs);
    let deadline = tokio::time::Instant::now() + grace;
    let store = core.store.clone();
    core.finish_turns(grace).await;
    core.stop().await;
    store.flush(left(deadline)).await;
    result
}

fn console_sinks(sink: ConsoleSink) -> Sinks {
    let mut sinks: Sinks = HashMap::new();
    sinks.insert(Channel::Console, Arc::new(sink));
    sinks
}

/// `redsol run`: the channels of the mode, the HTTP server, until Ctrl-C or SIGTERM.
pub async fn run(settings: Settings, mode: Mode, opts: ConsoleOptions) -> anyhow::Result<()> {
    let plan = plan_channels(&settings, mode)?;
    let metrics = telemetry::metrics_handle()?;
    telemetry::register_common();
    let store = open_store(&settings).await?;
    let grace = Duration::from_secs(settings.server.shutdown_grace_secs);
    let started = channels::start(&settings, &plan, store.clone()).await?;
    let channels::Started {
        sinks,
        names,
        console_replies,
        whatsapp,
        mut telegram,
    } = started;

    let notices = Arc::new(sinks.clone());
    let mut core = start_core(&settings, store.clone(), sinks).await?;
    // The root supervisor restarts a failed sender; it resumes from the outbox.
    let senders: Vec<(ractor::ActorCell, Arc<dyn Supervised>)> = whatsapp
        .iter()
        .map(|w| (w.cell(), w.supervised()))
        .chain(
            telegram
                .iter()
                .map(|t| (t.sender().cell(), t.sender().supervised())),
        )
        .collect();
    for (cell, child) in senders {
        core.root
            .cast(RootMsg::Adopt(cell, child))
            .context("the actor tree stopped while starting")?;
    }
    let notifier = Notifier::new(store.clone(), notices.clone());

    let sweep_every = Duration::from_secs(settings.store.outbox_sweep_secs.max(1));
    // What must run once among replicas runs on the leader: retention, and (with a platform)
    // outage notices and payment reminders at [notices] per_second, after the replies.
    let leadership = match &settings.database_url {
        Some(url) => crate::store::postgres::leader::elect(url.expose(), &PgSettings::default())?,
        None => crate::store::postgres::leader::alone(),
    };
    let singletons = {
        let (store, engine) = (store.clone(), core.engine.clone());
        let (retention, rules) = (settings.store.retention(), settings.rules.notices.clone());
        let platforms = whatsapp.is_some() || telegram.is_some();
        move || {
            let mut tasks = vec![tokio::spawn(prune_hourly(store.clone(), retention))];
            if platforms {
                tasks.push(tokio::spawn(redsol_actors::campaign::run(
                    store.clone(),
                    notices.clone(),
                    rules.clone(),
                )));
                tasks.push(tokio::spawn(remind_hourly(engine.clone())));
            }
            tasks
        }
    };
    let mut sweeps = vec![while_leading(leadership.clone(), singletons)];
    if let Some(channel) = telegram.as_mut() {
        // Telegram gives a bot's updates to one poller: the leader's.
        channel.lead_with(leadership);
    }
    let mut routes = axum::Router::new();
    if let (Some(outbound), Some(w)) = (&whatsapp, &settings.whatsapp) {
        let resent = outbound.resend_pending().await;
        if resent > 0 {
            tracing::info!(
                resent,
                "unsent WhatsApp replies from the last run queued again"
            );
        }
        sweeps.push(outbound.sweep_outbox(sweep_every));
        let marker = outbound.clone();
        routes = routes.merge(webhook::routes(
            WebhookState {
                verify_token: w.verify_token.clone(),
                app_secret: w
                    .app_secret
                    .clone()
                    .ok_or_else(|| anyhow::anyhow!("WHATSAPP_APP_SECRET is required"))?,
                phone_number_id: w.phone_number_id.trim().to_string(),
                store: store.clone(),
                conversations: core.router.clone(),
                mark_read: Arc::new(move |id| marker.mark_read(id)),
            },
            settings.whatsapp_tuning.max_body_bytes,
        ));
    }

    if let Some(channel) = telegram.as_mut() {
        channel.start_inbound(core.router.clone()).await?;
        let resent = channel.sender().resend_pending().await;
        if resent > 0 {
            tracing::info!(
                resent,
                "unsent Telegram replies from the last run queued again"
            );
        }
        sweeps.push(channel.sender().sweep_outbox(sweep_every));
        routes = routes.merge(channel.routes());
    }

    if let Some(closed) = store.closed_elsewhere() {
        tokio::spawn(tell_closed(core.engine.clone(), notifier.clone(), closed));
    }
    if let Some(token) = &settings.admin_token {
        routes = routes.merge(admin::routes(AdminState::new(
            core.engine.clone(),
            notifier.clone(),
            token,
        )));
        tracing::info!("admin API on (/admin/*, bearer REDSOL_ADMIN_TOKEN)");
    }

    // `/ready` turns 503 while a sender is down: its replies wait in the outbox.
    let mut checks: Vec<http::Check> = Vec::new();
    if let Some(outbound) = &whatsapp {
        let outbound = outbound.clone();
        checks.push(Box::new(move || {
            outbound.stopped().then_some("the WhatsApp sender")
        }));
    }
    if let Some(channel) = &telegram {
        let sender = channel.sender().clone();
        checks.push(Box::new(move || {
            sender.stopped().then_some("the Telegram sender")
        }));
    }
    // A remote store that stops answering makes the replica not ready (its turns would fail).
    if settings.database_url.is_some() {
        let up = Arc::new(AtomicBool::new(true));
        sweeps.push(tokio::spawn(watch_store(store.clone(), up.clone())));
        checks.push(Box::new(move || {
            (!up.load(Ordering::Acquire)).then_some("the database")
        }));
    }
    let addr = format!("{}:{}", settings.server.host, settings.server.port);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| {
            format!("cannot listen on {addr} (set MESSAGING_HOST / MESSAGING_PORT)")
        })?;
    let local = listener.local_addr()?;
    let ready = Arc::new(AtomicBool::new(false));
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let state = HttpState {
        metrics,
        ready: ready.clone(),
        checks: Arc::new(checks),
    };
    let limits = http::Limits {
        max_concurrent: settings.server.max_concurrent_requests,
        request_timeout: Duration::from_secs(settings.server.request_timeout_secs.max(1)),
        header_timeout: Duration::from_secs(settings.server.header_timeout_secs.max(1)),
    };
    let stopped = |mut stop: tokio::sync::watch::Receiver<bool>| async move {
        let _ = stop.wait_for(|s| *s).await;
    };
    // `/metrics` on a listener of its own when `server.metrics_addr` says so.
    let mut metrics_server = None;
    let app = match &settings.server.metrics_addr {
        Some(metrics_addr) => {
            let listener = tokio::net::TcpListener::bind(metrics_addr)
                .await
                .with_context(|| {
                    format!("cannot listen on {metrics_addr} (server.metrics_addr)")
                })?;
            let metrics_listener = listener.local_addr()?;
            metrics_server = Some(tokio::spawn(http::serve(
                listener,
                http::metrics_router(state.clone()),
                limits,
                stopped(stop_rx.clone()),
            )));
            tracing::info!(%metrics_listener, "metrics listening (not on the public listener)");
            http::public_router(state, routes)
        }
        None => http::router(state, routes),
    };
    let server = tokio::spawn(http::serve(listener, app, limits, stopped(stop_rx.clone())));
    tracing::info!(%local, "HTTP server listening");

    let console_task = console_replies.map(|replies| {
        let router = core.router.clone();
        tokio::spawn(run_console_stdio(router, replies, opts))
    });
    let stop_requested = shutdown_signal();
    ready.store(true, Ordering::Release);
    tracing::info!(channels = %names.join(","), "redsol is running; Ctrl-C or SIGTERM stops it");

    let mut root_done = false;
    tokio::select! {
        _ = stop_requested => tracing::info!("shutdown requested"),
        _ = &mut core.root_handle => {
            root_done = true;
            tracing::error!("the actor tree stopped on its own");
        }
    }
    // Stop taking input, let the conversations finish, then let the senders flush; one
    // deadline for the whole stop (an orchestrator kills the process after its own).
    let deadline = tokio::time::Instant::now() + grace;
    ready.store(false, Ordering::Release);
    // What is still unsent stays in the outbox for the next start.
    sweeps.iter().for_each(tokio::task::JoinHandle::abort);
    if let Some(task) = console_task {
        task.abort();
    }
    if let Some(channel) = telegram.as_mut() {
        if tokio::time::timeout_at(deadline, channel.stop_inbound())
            .await
            .is_err()
        {
            tracing::warn!("Telegram polling did not stop within the grace period");
        }
    }
    let _ = stop_tx.send(true);
    if tokio::time::timeout_at(deadline, server).await.is_err() {
        tracing::warn!("the HTTP server did not stop within the grace period");
    }
    if let Some(metrics_server) = metrics_server {
        let _ = tokio::time::timeout_at(deadline, metrics_server).await;
    }
    let store = core.store.clone();
    core.finish_turns(left(deadline)).await;
    let telegram_flushed = async {
        if let Some(channel) = telegram {
            channel.shutdown(left(deadline)).await;
        }
    };
    let whatsapp_flushed = async {
        if let Some(outbound) = whatsapp {
            outbound.drain(left(deadline)).await;
            outbound.stop();
        }
    };
    tokio::join!(
        telegram_flushed,
        whatsapp_flushed,
        store.flush(left(deadline))
    );
    core.stop().await;
    tracing::info!("stopped");
    if root_done {
        anyhow::bail!("the actor tree failed");
    }
    Ok(())
}
