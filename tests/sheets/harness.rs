//! What the Sheets tests share: a store opened over the fake, and a bounded wait for the
//! writer.

use crate::fake::{FakeGoogle, SPREADSHEET_ID};
use crate::seed::seed;
use redsol::settings::Settings;
use redsol::sheets::SheetsStore;
use redsol::store::sqlite::SqliteStore;
use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, Instant};

/// The settings of a redsol pointed at the fake, with its key written in `dir`.
pub fn settings(fake: &FakeGoogle, dir: &Path) -> Settings {
    let key = fake.write_service_account(dir);
    let env: HashMap<String, String> = [
        ("GOOGLE_SHEETS_ID", SPREADSHEET_ID.to_string()),
        ("GOOGLE_APPLICATION_CREDENTIALS", key.display().to_string()),
        ("SHEETS_API_URL", fake.base_url()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Settings::load_from(&env).expect("settings")
}

pub async fn open(fake: &FakeGoogle, dir: &Path, tune: impl FnOnce(&mut Settings)) -> SheetsStore {
    let mut settings = settings(fake, dir);
    settings.sheets_tuning.backoff_base_ms = 20;
    settings.sheets_tuning.backoff_max_secs = 1;
    settings.sheets_tuning.request_timeout_secs = 2;
    tune(&mut settings);
    let local = SqliteStore::open(&dir.join("data"), Vec::new).expect("sqlite");
    SheetsStore::open(
        settings.sheets.as_ref().expect("sheets configured"),
        &settings.sheets_tuning,
        local,
    )
    .await
    .expect("the Sheets store opens")
}

/// Waits (bounded) until every queued row is in the sheet.
pub async fn drained(store: &SheetsStore, within: Duration) {
    let start = Instant::now();
    loop {
        let pending = store.rows_pending().await.expect("outbox");
        if pending == 0 {
            return;
        }
        assert!(
            start.elapsed() < within,
            "{pending} rows still queued after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A seeded fake and a Sheets store over it, in a fresh data dir.
pub async fn started(
    tune: impl FnOnce(&mut Settings),
) -> (FakeGoogle, tempfile::TempDir, SheetsStore) {
    let fake = FakeGoogle::start().await;
    seed(&fake);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = open(&fake, dir.path(), tune).await;
    (fake, dir, store)
}
