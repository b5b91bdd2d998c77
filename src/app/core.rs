//! The core of a running redsol: the store opened, the engine and its brain, the actor tree
//! started over the channels' sinks, and its stop.

use super::*;

/// Opens the store: PostgreSQL when `REDSOL_DATABASE_URL` is set; Google Sheets (over the
/// embedded store for redsol's own state) when `GOOGLE_SHEETS_ID` and credentials are set; else
/// the embedded store alone. A new database is seeded with demo clients on first start.
pub async fn open_store(settings: &Settings) -> anyhow::Result<Arc<dyn Store>> {
    if let Some(url) = &settings.database_url {
        return open_postgres(settings, url.expose()).await;
    }
    match &settings.sheets {
        Some(sheets) => {
            let local = open_sqlite(settings, false)?;
            let store = SheetsStore::open(sheets, &settings.sheets_tuning, local)
                .await
                .context("cannot open the Google Sheets store")?;
            Ok(Arc::new(store))
        }
        None => {
            let store = open_sqlite(settings, true)?;
            seed_demo_payments(settings, &store).await?;
            Ok(Arc::new(store))
        }
    }
}

/// The PostgreSQL store (`REDSOL_DATABASE_URL`), seeded like the embedded one when empty.
async fn open_postgres(settings: &Settings, url: &str) -> anyhow::Result<Arc<dyn Store>> {
    if settings.sheets.is_some() {
        anyhow::bail!(
            "REDSOL_DATABASE_URL and GOOGLE_SHEETS_ID are both set: Google Sheets as the system \
             of record on top of PostgreSQL is not built yet; set one of them"
        );
    }
    let key = set_opaque_id_key(settings)?;
    // Named after the host and the data directory's key: the same name across restarts (a
    // restarted process takes its own outbox replies back at once), another per host even
    // when replicas share one volume.
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_default();
    let name = <sha2::Sha256 as sha2::Digest>::digest(
        [b"redsol replica ".as_slice(), host.trim().as_bytes(), &key].concat(),
    );
    let pg = PgSettings {
        replica: Some(hex::encode(&name[..8])),
        conversation_lease: std::time::Duration::from_millis(settings.cluster.lease_ms),
        ..PgSettings::default()
    };
    let count = settings.store.demo_clients;
    let store = PgStore::connect(url, &pg, || {
        if count > 0 {
            tracing::info!(count, "seeding the PostgreSQL store with demo clients");
        }
        settings.demo_clients(count)
    })
    .await
    .context("cannot open the PostgreSQL store (REDSOL_DATABASE_URL)")?;
    if count > 0 {
        let payments = demo_payments(settings, store.clients());
        let seeded = store.seed_payments(payments).await?;
        if seeded > 0 {
            tracing::info!(
                payments = seeded,
                "seeding the PostgreSQL store with demo payments"
            );
        }
    }
    Ok(Arc::new(store))
}

/// What makes the demo clients' payments: the last three periods as of today.
fn demo_payments(
    settings: &Settings,
    clients: Arc<Vec<redsol_actors::model::Client>>,
) -> impl FnOnce() -> Vec<redsol_actors::store::payments::Payment> + Send + 'static {
    let billing = settings.rules.billing.clone();
    let today =
        redsol_actors::store::civil_from_days((redsol_actors::store::unix_now() / 86_400) as i64);
    move || redsol_actors::demo::payments::demo_payments(&clients, &billing, today)
}

/// The demo clients' payments (the last three periods as of today), into an empty payments
/// table of the embedded store.
async fn seed_demo_payments(settings: &Settings, store: &SqliteStore) -> anyhow::Result<()> {
    if settings.store.demo_clients == 0 {
        return Ok(());
    }
    let clients = store.clients().await?;
    let seeded = store
        .seed_payments(demo_payments(settings, clients))
        .await?;
    if seeded > 0 {
        tracing::info!(
            payments = seeded,
            "seeding the embedded store with demo payments"
        );
    }
    Ok(())
}

/// The secret of opaque conversation ids in logs, kept in the data directory; returned too.
fn set_opaque_id_key(settings: &Settings) -> anyhow::Result<[u8; 32]> {
    let key = crate::store::opaque_id_key(&settings.store.data_dir).with_context(|| {
        format!(
            "cannot keep the log id key in {} (set REDSOL_DATA_DIR to a writable directory)",
            settings.store.data_dir.display()
        )
    })?;
    redsol_actors::model::set_opaque_id_key(key);
    Ok(key)
}

/// The embedded SQLite store; `demo` seeds demo clients into an empty one.
fn open_sqlite(settings: &Settings, demo: bool) -> anyhow::Result<SqliteStore> {
    let count = if demo { settings.store.demo_clients } else { 0 };
    set_opaque_id_key(settings)?;
    SqliteStore::open(&settings.store.data_dir, || {
        if count > 0 {
            tracing::info!(count, "seeding the embedded store with demo clients");
        }
        settings.demo_clients(count)
    })
    .with_context(|| {
        format!(
            "cannot open the embedded store in {} (set REDSOL_DATA_DIR to a writable directory)",
            settings.store.data_dir.display()
        )
    })
}

/// The running core: the actor tree and what it needs.
pub struct Core {
    pub router: Router,
    pub root: ractor::ActorRef<RootMsg>,
    pub root_handle: tokio::task::JoinHandle<()>,
    pub store: Arc<dyn Store>,
    pub engine: Engine,
    /// Gemini, when configured.
    pub llm: Option<GeminiModel>,
}

/// Starts the actor tree over the store with the given reply sinks, and replays unanswered
/// journaled messages.
pub async fn start_core(
    settings: &Settings,
    store: Arc<dyn Store>,
    sinks: Sinks,
) -> anyhow::Result<Core> {
    let rules = Arc::new(settings.rules.clone());
    let (brain, llm): (Arc<dyn Brain>, _) = match &settings.gemini {
        Some(g) => {
            let model = GeminiModel::start(g, &settings.brain, &settings.rules).await?;
            telemetry::register_llm();
            tracing::info!(model = %g.model, "language model: Gemini when the offline NLU is unsure");
            let brain = HybridBrain::new(
                rules.clone(),
                Arc::new(model.clone()),
                hybrid_tuning(&settings.brain),
            );
            (Arc::new(brain), Some(model))
        }
        None => (Arc::new(OfflineBrain::new(rules.clone())), None),
    };
    let engine = Engine::new(rules, brain, store.clone()).with_running(sinks.keys().copied());
    engine
        .load_outages()
        .await
        .context("cannot read the open outages")?;
    engine
        .load_handoffs()
        .await
        .context("cannot read the open handoffs")?;
    let (router, root, root_handle) = supervisor::start(SupervisorArgs {
        engine: engine.clone(),
        sinks,
    })
    .await
    .map_err(|e| anyhow::anyhow!("cannot start the actor tree: {e}"))?;
    // Replicas sharing the conversations take what waits for them as it comes.
    tokio::spawn(supervisor::follow(store.clone(), router.clone()));
    let replayed = supervisor::replay_journal(store.as_ref(), &router)
        .await
        .context("cannot replay the inbound journal")?;
    if replayed > 0 {
        tracing::info!(
            replayed,
            "unanswered messages from the last run handed to their conversations"
        );
    }
    Ok(Core {
        router,
        root,
        root_handle,
        store,
        engine,
        llm,
    })
}

/// What is left of the stop's grace period (at least a moment, to flush what is ready).
pub(super) fn left(deadline: tokio::time::Instant) -> Duration {
    deadline
        .saturating_duration_since(tokio::time::Instant::now())
        .max(Duration::from_millis(200))
}

/// The hybrid brain's knobs from `[brain]`.
pub fn hybrid_tuning(brain: &BrainTuning) -> HybridTuning {
    HybridTuning {
        ask_below: brain.ask_below,
        always_ask: false,
        turn_budget: brain.turn_budget(),
        wording: brain.wording,
        wording_max_chars: brain.wording_max_chars,
        facts: brain.facts.clone(),
    }
}

impl Core {
    /// Lets in-flight turns finish, within the grace period.
    pub async fn finish_turns(&self, grace: Duration) {
        if self.router.drain(grace).await.is_err() {
            tracing::warn!(
                grace_secs = grace.as_secs(),
                "conversations did not finish within the grace period"
            );
        }
    }

    /// Stops the tree (with the senders it supervises: flush them first) and the language
    /// model.
    pub async fn stop(self) {
        self.root.stop(Some(redsol_actors::root::SHUTDOWN.into()));
        if !self.root_handle.is_finished() {
            let _ = self.root_handle.await;
        }
        if let Some(llm) = self.llm {
            llm.stop();
        }
    }
}
