//! Google Sheets as the system of record: the [`Store`] staff see in the sheet they already use.
//!
//! - **Reads**: each tab is read whole and kept in a moka cache, re-read in the background
//!   every `sheets.cache_ttl_secs`. A tab not in the cache (at start, or when it could not be
//!   read at all) is read once for all concurrent readers (moka's `try_get_with` runs one
//!   loader per key). When Sheets cannot be read, the last good copy answers (kept in memory
//!   and in SQLite, so a restart survives), flagged by `redsol_sheets_stale{tab}` and a
//!   warning; nothing is ever made up.
//! - **Writes**: a new prospect or incident is saved in SQLite and queued in its outbox in one
//!   transaction. Then the single writer appends queued rows in batches (many rows per
//!   `values.append`, placed under the header row read just before) within
//!   `sheets.writes_per_minute`. Every row carries its own ID: before retrying an append whose
//!   outcome is unknown, the writer reads the tab's IDs and skips the rows already there, so a
//!   retry never duplicates a row.
//! - Conversation snapshots, the inbound journal and the reply outbox stay in SQLite: they are
//!   redsol's own state, not staff's.

pub mod api;
mod payments;
mod seam;
mod tab;
pub mod table;
mod writer;

use crate::settings::{SheetsSettings, SheetsTuning};
use crate::store::sqlite::{SqliteStore, INCIDENTS, PROSPECTS};
use anyhow::Context as _;
use api::{whole, SheetsApi};
use redsol_actors::model::{
    Channel, Client, ConversationKey, Incident, NewIncident, NewProspect, PendingRequest, Priority,
    Prospect,
};
use redsol_actors::store::tickets::{ClosedElsewhere, Survey, Tickets};
use redsol_actors::store::{
    BoxFuture, JournalEntry, OutboxEntry, OutboxPage, Store, StoreError, StoreResult, TurnCommit,
};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;
pub use tab::{Tab, TabData};
use table::Columns;
use tokio::sync::Notify;

/// What the store and its writer share.
pub(crate) struct Shared {
    api: SheetsApi,
    local: SqliteStore,
    tuning: SheetsTuning,
    cache: moka::future::Cache<&'static str, Arc<TabData>>,
    /// The last good read of each tab, for when Sheets cannot be read.
    last_good: Mutex<HashMap<Tab, Arc<TabData>>>,
    /// A hash of each tab as last saved in SQLite: an unchanged tab is not saved again.
    saved: Mutex<HashMap<Tab, u64>>,
    /// Rung when rows are queued.
    wake: Notify,
    /// Tickets staff just closed in the sheet (`(id, status)`), for their customers to be told.
    closed: tokio::sync::mpsc::UnboundedSender<(String, String)>,
}

/// Why a tab could not be read.
enum ReadError {
    /// Google could not be reached or did not answer usefully: a saved copy may stand in.
    Unreachable(String),
    /// The tab is missing, lacks a column, or access is refused: staff must fix something.
    Broken(String),
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReadError::Unreachable(e) | ReadError::Broken(e) => f.write_str(e),
        }
    }
}

impl Shared {
    /// A tab from the cache, read once for all concurrent callers when it is not there.
    async fn tab(&self, tab: Tab) -> StoreResult<Arc<TabData>> {
        self.cache
            .try_get_with(tab.cache_key(), self.load(tab))
            .await
            .map_err(|e: Arc<StoreError>| (*e).clone())
    }

    /// Reads a tab from Sheets. A good read is remembered (in memory and in SQLite) and moves
    /// the next IDs past the largest in the tab; it is not put in the cache.
    async fn read(&self, tab: Tab) -> Result<Arc<TabData>, ReadError> {
        let name = tab.name(&self.tuning).to_string();
        let all = self.api.get(&whole(&name)).await.map_err(|e| {
            let message = format!("the tab \"{name}\": {e}");
            if e.unreachable() {
                ReadError::Unreachable(message)
            } else {
                ReadError::Broken(message)
            }
        })?;
        let data = Arc::new(TabData::parse(tab, &name, all.clone()).map_err(ReadError::Broken)?);
        if let Ok(mut last) = self.last_good.lock() {
            last.insert(tab, data.clone());
        }
        metrics::gauge!("redsol_sheets_stale", "tab" => tab.cache_key()).set(0.0);
        // Most refreshes find the tab as it was: nothing to save, no ID to move.
        let hash = {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            std::hash::Hash::hash(&all, &mut h);
            std::hash::Hasher::finish(&h)
        };
        let unchanged = self
            .saved
            .lock()
            .is_ok_and(|saved| saved.get(&tab) == Some(&hash));
        if !unchanged {
            self.reserve_ids(tab, &data).await;
            let noted = match tab {
                Tab::Incidents => {
                    self.note_statuses(&data).await;
                    true
                }
                Tab::Payments => self.import_payments(&name, &data).await,
                _ => true,
            };
            match serde_json::to_string(&all) {
                Ok(json) => match self.local.save_sheet_cache(name.clone(), json).await {
                    // A tab whose rows could not be taken is taken again at the next read.
                    Ok(()) if noted => {
                        if let Ok(mut saved) = self.saved.lock() {
                            saved.insert(tab, hash);
                        }
                    }
                    Ok(()) => {}
                    Err(e) => {
                        tracing::warn!(tab = %name, error = %e, "cannot keep a copy of the tab in SQLite")
                    }
                },
                Err(e) => tracing::warn!(tab = %name, error = %e, "cannot serialize the tab"),
            }
        }
        Ok(data)
    }

    /// Notes the Estado of redsol's tickets as the sheet shows it; those staff just closed are
    /// handed on, for their customers to be told.
    async fn note_statuses(&self, data: &TabData) {
        let seen: Vec<(String, String)> = data
            .rows
            .iter()
            .filter_map(|r| table::incident_row(&data.columns, r))
            .map(|row| (row.id, row.status))
            .collect();
        match self.local.note_sheet_statuses(seen).await {
            Ok(closed) => {
                for c in closed {
                    tracing::info!(event = "ticket_closed_in_sheet", ticket = %c.0, "staff closed a ticket in the sheet");
                    let _ = self.closed.send(c);
                }
            }
            Err(e) => tracing::warn!(error = %e, "cannot note the tickets' statuses in the sheet"),
        }
    }

    /// Moves redsol's next ID of a tab past the largest staff can see in it, so staff adding
    /// rows by hand (`INC-000043` after redsol's `INC-000042`) do not make redsol repeat one.
    async fn reserve_ids(&self, tab: Tab, data: &TabData) {
        let (table, prefix) = match tab {
            Tab::Incidents => (INCIDENTS, "INC-"),
            Tab::Prospects => (PROSPECTS, "PRO-"),
            Tab::Clients | Tab::Surveys | Tab::Payments => return,
        };
        let largest = table::largest_id(data.ids(tab), prefix);
        if let Err(e) = self.local.reserve_ids(table, largest).await {
            tracing::warn!(table, error = %e, "cannot move the next ID past the sheet's");
        }
    }

    /// Reads a tab; when that fails, the last good copy (flagged stale) or an error.
    async fn load(&self, tab: Tab) -> StoreResult<Arc<TabData>> {
        match self.read(tab).await {
            Ok(data) => Ok(data),
            Err(e) => {
                if let ReadError::Broken(problem) = &e {
                    tracing::error!(problem = %problem, "the sheet needs fixing");
                }
                self.stale(tab, &e.to_string()).await
            }
        }
    }

    /// The last good copy of a tab (this run's, else an earlier run's), flagged stale.
    async fn stale(&self, tab: Tab, error: &str) -> StoreResult<Arc<TabData>> {
        let name = tab.name(&self.tuning).to_string();
        let last = self
            .last_good
            .lock()
            .ok()
            .and_then(|l| l.get(&tab).cloned());
        let data = match last {
            Some(data) => data,
            None => match self.saved_copy(tab, &name).await {
                Some(data) => data,
                None => {
                    return Err(StoreError::Unavailable(format!(
                        "{error}; no earlier copy of the tab exists"
                    )))
                }
            },
        };
        metrics::gauge!("redsol_sheets_stale", "tab" => tab.cache_key()).set(1.0);
        tracing::warn!(event = "sheets_stale", tab = %name, error = %error, "answering from the last good copy of the tab");
        Ok(data)
    }

    /// The copy kept in SQLite by an earlier run.
    async fn saved_copy(&self, tab: Tab, name: &str) -> Option<Arc<TabData>> {
        let (json, fetched_at) = self.local.load_sheet_cache(name.to_string()).await.ok()??;
        let all: Vec<Vec<String>> = serde_json::from_str(&json).ok()?;
        let data = Arc::new(TabData::parse(tab, name, all).ok()?);
        tracing::warn!(tab = %name, fetched_at = %fetched_at, "using the copy of the tab saved by an earlier run");
        if let Ok(mut last) = self.last_good.lock() {
            last.insert(tab, data.clone());
        }
        self.reserve_ids(tab, &data).await;
        Some(data)
    }

    /// Reads a tab now, bypassing the cache (the writer checking what landed).
    async fn fresh(&self, tab: Tab) -> Result<Arc<TabData>, String> {
        let data = self.read(tab).await.map_err(|e| e.to_string())?;
        self.cache.insert(tab.cache_key(), data.clone()).await;
        Ok(data)
    }

    /// At start: a missing tab or column, or a refused key, is an error (someone must fix it);
    /// an unreachable Sheets falls back to the copy saved by an earlier run.
    async fn check(&self, tab: Tab) -> anyhow::Result<()> {
        let data = match self.read(tab).await {
            Ok(data) => data,
            Err(ReadError::Unreachable(e)) => {
                tracing::warn!(error = %e, "Google Sheets unreachable at start");
                self.stale(tab, &e).await?
            }
            Err(ReadError::Broken(problem)) => anyhow::bail!(problem),
        };
        self.cache.insert(tab.cache_key(), data).await;
        Ok(())
    }
}

/// Runs a background task of the store, and runs it again if it panics (counted in
/// `redsol_actor_restarts_total{actor}`), after a pause so a task that always fails does not spin.
async fn supervise<T: Clone + Send + 'static>(
    actor: &'static str,
    arg: T,
    task: fn(T) -> BoxFuture<'static, ()>,
) {
    loop {
        match tokio::spawn(task(arg.clone())).await {
            Err(e) if e.is_panic() => {
                metrics::counter!("redsol_actor_restarts_total", "actor" => actor).increment(1);
                tracing::error!(
                    actor,
                    "a Google Sheets background task panicked; restarting it"
                );
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            // Cancelled (the runtime is stopping) or returned: nothing to restart.
            _ => return,
        }
    }
}

/// Re-reads every tab each `cache_ttl_secs`, so readers find a fresh copy without waiting.
async fn refresh(shared: Arc<Shared>) {
    let every = Duration::from_secs(shared.tuning.cache_ttl_secs.max(1));
    loop {
        tokio::time::sleep(every).await;
        for tab in Tab::ALL {
            if let Ok(data) = shared.load(tab).await {
                shared.cache.insert(tab.cache_key(), data).await;
            }
        }
    }
}

/// The Google Sheets store (see the module docs). Cheap to clone.
#[derive(Clone)]
pub struct SheetsStore {
    shared: Arc<Shared>,
    /// Tickets staff closed in the sheet, until the application takes them.
    closed: Arc<Mutex<Option<ClosedElsewhere>>>,
}

impl SheetsStore {
    /// Connects, checks the tabs and their headers (the error names a missing one),
    /// moves new IDs past any in the sheet, and starts the writer and the refresher.
    pub async fn open(
        settings: &SheetsSettings,
        tuning: &SheetsTuning,
        local: SqliteStore,
    ) -> anyhow::Result<SheetsStore> {
        let api = connect(settings, tuning).await?;
        let (closed, closed_rx) = tokio::sync::mpsc::unbounded_channel();
        let shared = Arc::new(Shared {
            api,
            local: local.with_sheet_rows(),
            tuning: tuning.clone(),
            // The refresher replaces each tab every TTL; an entry it could not replace
            // expires after three, and the next reader loads it.
            cache: moka::future::Cache::builder()
                .time_to_live(Duration::from_secs(tuning.cache_ttl_secs.max(1) * 3))
                .build(),
            last_good: Mutex::new(HashMap::new()),
            saved: Mutex::new(HashMap::new()),
            wake: Notify::new(),
            closed,
        });
        for tab in Tab::ALL {
            shared.check(tab).await.context("Google Sheets")?;
        }
        tokio::spawn(supervise("sheets_writer", shared.clone(), |s| {
            Box::pin(writer::run(s))
        }));
        tokio::spawn(supervise("sheets_refresher", shared.clone(), |s| {
            Box::pin(refresh(s))
        }));
        tracing::info!(sheet = %settings.sheet_id, "Google Sheets store open");
        Ok(SheetsStore {
            shared,
            closed: Arc::new(Mutex::new(Some(closed_rx))),
        })
    }

    /// For `redsol status --check`: whether the key is accepted and every tab has its columns.
    /// Reads the header rows only; starts nothing and falls back on nothing.
    pub async fn probe(settings: &SheetsSettings, tuning: &SheetsTuning) -> anyhow::Result<()> {
        let api = connect(settings, tuning).await?;
        for tab in Tab::ALL {
            let name = tab.name(tuning);
            let headers = api
                .headers(name)
                .await
                .with_context(|| format!("the tab \"{name}\""))?;
            Columns::find(name, &headers, tab.headers()).map_err(anyhow::Error::msg)?;
        }
        Ok(())
    }

    /// Forgets the cached tabs, as if their TTL had passed.
    pub fn expire_cache(&self) {
        self.shared.cache.invalidate_all();
    }

    /// Rows not yet in the sheet.
    pub async fn rows_pending(&self) -> StoreResult<usize> {
        self.shared.local.sheet_rows_queued().await
    }

    fn local(&self) -> &SqliteStore {
        &self.shared.local
    }
}

async fn connect(settings: &SheetsSettings, tuning: &SheetsTuning) -> anyhow::Result<SheetsApi> {
    SheetsApi::connect(
        &settings.credentials_file,
        &settings.api_url,
        &settings.sheet_id,
        Duration::from_secs(tuning.request_timeout_secs),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(start_paused = true)]
    async fn a_panicking_background_task_is_run_again() {
        let runs = Arc::new(AtomicUsize::new(0));
        supervise("test", runs.clone(), |runs| {
            Box::pin(async move {
                if runs.fetch_add(1, Ordering::SeqCst) < 2 {
                    panic!("scripted failure");
                }
            })
        })
        .await;
        assert_eq!(runs.load(Ordering::SeqCst), 3);
    }
}
