//! The background tasks of `redsol run`: the console on stdio, the hourly retention, the
//! hourly payment reminders, telling the customers of tickets closed in the sheet, and the
//! stop signal.

use super::*;

pub(super) async fn run_console_stdio(
    router: Router,
    replies: mpsc::UnboundedReceiver<Outbound>,
    opts: ConsoleOptions,
) {
    let stdin = tokio::io::BufReader::new(tokio::io::stdin());
    if let Err(e) = console::run(router, replies, stdin, tokio::io::stdout(), opts).await {
        tracing::error!(error = %e, "console channel stopped");
    } else {
        tracing::info!("console input ended; still serving HTTP until stopped");
    }
}

/// Applies the store's retention at start and then every hour (a failure is logged by the
/// store and tried again the next hour).
pub(super) async fn prune_hourly(
    store: Arc<dyn Store>,
    retention: redsol_actors::store::Retention,
) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let _ = store
            .prune(redsol_actors::store::unix_now(), retention)
            .await;
    }
}

/// Queues the payment reminders due, at start and then every hour (each is keyed, so a
/// reminder is queued once however often this runs); the campaign runner sends them.
pub(super) async fn remind_hourly(engine: Engine) {
    let mut every = tokio::time::interval(Duration::from_secs(3600));
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        engine.queue_payment_reminders().await;
    }
}

/// Completes on Ctrl-C or SIGTERM. The handlers are installed when this is called, not when
/// it is first awaited: a SIGTERM that arrives right after start-up is a stop, not a kill.
pub fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
    let ctrl_c = tokio::signal::ctrl_c();
    async move {
        let ctrl_c = async {
            if ctrl_c.await.is_err() {
                std::future::pending::<()>().await;
            }
        };
        #[cfg(unix)]
        let terminate = async {
            match terminate {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            _ = ctrl_c => {},
            _ = terminate => {},
        }
    }
}

/// Tells the customers of tickets staff closed outside redsol (in the sheet), and asks them to
/// rate it.
pub(super) async fn tell_closed(
    engine: Engine,
    notifier: Notifier,
    mut closed: redsol_actors::store::tickets::ClosedElsewhere,
) {
    while let Some((id, status)) = closed.recv().await {
        match engine.close_ticket(&id, &status, "", None).await {
            Ok(Some((incident, notices))) => {
                let event = format!("close:{}:{}", incident.id, engine.now());
                if let Err(e) = notifier.send(&event, notices).await {
                    tracing::error!(error = %e, ticket = %incident.id, "a ticket closed in the sheet could not be told to its customer");
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, ticket = %id, "a ticket closed in the sheet could not be closed here")
            }
        }
    }
}

/// How often a remote store is asked whether it answers.
const PING_EVERY: Duration = Duration::from_secs(5);

/// Asks the store every few seconds whether it answers, and keeps the answer in `up` (for
/// `/ready`); says so in the log when it changes.
pub(super) async fn watch_store(store: Arc<dyn Store>, up: Arc<AtomicBool>) {
    loop {
        let answers = store.ping().await.is_ok();
        let before = up.swap(answers, Ordering::AcqRel);
        if before && !answers {
            tracing::error!(
                backend = store.backend(),
                "the store does not answer; /ready is 503 until it does"
            );
        } else if !before && answers {
            tracing::info!(backend = store.backend(), "the store answers again");
        }
        tokio::time::sleep(PING_EVERY).await;
    }
}

/// Tasks aborted when dropped (with the task that holds them).
struct AbortOnDrop(Vec<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.iter().for_each(tokio::task::JoinHandle::abort);
    }
}

/// Runs what `start` starts while this replica leads: started when it becomes the leader,
/// aborted when it stops leading (or when the returned task is aborted).
pub(super) fn while_leading(
    mut leadership: crate::store::postgres::leader::Leadership,
    start: impl Fn() -> Vec<tokio::task::JoinHandle<()>> + Send + 'static,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut running = AbortOnDrop(Vec::new());
        loop {
            let leading = *leadership.borrow_and_update();
            if leading && running.0.is_empty() {
                running.0 = start();
            } else if !leading {
                running.0.drain(..).for_each(|t| t.abort());
            }
            if leadership.changed().await.is_err() {
                // The election ended (it never should): this replica no longer knows it leads.
                tracing::error!(
                    "the leader election stopped; what runs only on the leader stops here"
                );
                return;
            }
        }
    })
}
