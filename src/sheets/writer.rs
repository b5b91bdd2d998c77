//! The single writer of the sheet: drains the SQLite outbox of rows into batched appends,
//! within the write budget, without ever writing a row twice; and writes what redsol changes
//! on a row (a ticket's Estado, a payment's state) into its cells.

use super::table::Columns;
use super::{Shared, Tab};
use crate::pacing::{backoff, TokenBucket};
use crate::store::sqlite::{
    PaymentChange, SheetRow, StatusChange, SurveyRecord, INCIDENT_STATUS, PAYMENT_CHANGE,
};
use redsol_actors::model::{Incident, Prospect};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// How often the writer looks at the outbox when nothing woke it.
const POLL: Duration = Duration::from_secs(30);

/// What one pass over the outbox did.
enum Pass {
    /// Nothing queued.
    Idle,
    /// Rows written (or found already there).
    Wrote,
    /// A failure: wait `attempt` backoffs before the next pass.
    Failed,
}

/// When a queued row was created (its `created_at`), as the writer puts it in a cell.
fn created_at(row: &SheetRow, max_cell_chars: usize) -> String {
    let at = serde_json::from_str::<serde_json::Value>(&row.record)
        .ok()
        .and_then(|v| v["created_at"].as_str().map(str::to_string))
        .unwrap_or_default();
    super::table::safe_cell(&at, max_cell_chars)
        .trim()
        .to_string()
}

/// Runs until the process stops. Rows stay in the outbox until they are in the sheet.
pub(super) async fn run(shared: Arc<Shared>) {
    let t = &shared.tuning;
    let per_second = f64::from(t.writes_per_minute) / 60.0;
    let mut budget = TokenBucket::full(1.0, per_second, Instant::now());
    let base = Duration::from_millis(t.backoff_base_ms.max(1));
    let cap = Duration::from_secs(t.backoff_max_secs).max(base);
    let mut failures = 0u32;
    loop {
        match pass(&shared, &mut budget).await {
            Pass::Wrote => failures = 0,
            Pass::Idle => {
                failures = 0;
                let _ = tokio::time::timeout(POLL, shared.wake.notified()).await;
            }
            Pass::Failed => {
                let wait = backoff(base, cap, failures);
                failures = failures.saturating_add(1);
                tracing::info!(
                    wait_ms = wait.as_millis() as u64,
                    "sheet writes wait before retrying"
                );
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// One batch: the oldest queued rows of one tab, in one append.
async fn pass(shared: &Shared, budget: &mut TokenBucket) -> Pass {
    let t = &shared.tuning;
    let queued = match shared.local.sheet_rows_pending(t.batch_max_rows).await {
        Ok(rows) => rows,
        Err(e) => {
            tracing::error!(error = %e, "cannot read the sheet outbox");
            return Pass::Failed;
        }
    };
    let Some((first_tab, first_id)) = queued.first().map(|r| (r.tab.clone(), r.id.clone())) else {
        return Pass::Idle;
    };
    if first_tab == INCIDENT_STATUS || first_tab == PAYMENT_CHANGE {
        return write_cells(shared, budget, &queued[0]).await;
    }
    let Some(tab) = Tab::of_outbox(&first_tab) else {
        tracing::error!(tab = %first_tab, id = %first_id, "a queued row names no known tab; dropped");
        let _ = shared.local.sheet_rows_done(vec![first_id]).await;
        return Pass::Wrote;
    };
    let mut batch: Vec<SheetRow> = queued
        .into_iter()
        .take_while(|r| r.tab == first_tab)
        .collect();
    let name = tab.name(t).to_string();

    // An earlier append of some of these may have landed: look before writing again.
    if batch.iter().any(|r| r.uncertain) {
        let data = match shared.fresh(tab).await {
            Ok(data) => data,
            Err(e) => {
                tracing::warn!(tab = %name, error = %e, "cannot check which rows landed");
                return Pass::Failed;
            }
        };
        // A row is ours when both its ID and its creation time match: staff may have typed
        // the same ID by hand, and then ours is still to be written.
        let present: HashSet<(String, String)> = data
            .rows
            .iter()
            .map(|r| {
                let cell = |h| super::table::plain(data.columns.get(r, h)).to_string();
                (cell(tab.id_header()), cell(tab.date_header()))
            })
            .collect();
        let ids: HashSet<&String> = present.iter().map(|(id, _)| id).collect();
        let written = |r: &SheetRow| (r.id.clone(), created_at(r, t.max_cell_chars));
        for r in batch.iter().filter(|r| ids.contains(&r.id)) {
            if !present.contains(&written(r)) {
                tracing::warn!(event = "sheets_id_conflict", tab = %name, id = %r.id, "the sheet has a row with this ID that redsol did not write; writing redsol's too");
            }
        }
        let (landed, missing): (Vec<SheetRow>, Vec<SheetRow>) = batch
            .into_iter()
            .partition(|r| present.contains(&written(r)));
        if !landed.is_empty() {
            tracing::info!(tab = %name, rows = landed.len(), "rows of an interrupted append are in the sheet; not written again");
            let ids = landed.into_iter().map(|r| r.id).collect();
            if shared.local.sheet_rows_done(ids).await.is_err() {
                return Pass::Failed;
            }
        }
        if missing.is_empty() {
            return Pass::Wrote;
        }
        batch = missing;
    }

    // The columns as they are now: staff may have moved them since the last read.
    let columns = match shared
        .api
        .headers(&name)
        .await
        .map_err(|e| e.to_string())
        .and_then(|headers| Columns::find(&name, &headers, tab.headers()))
    {
        Ok(columns) => columns,
        Err(e) => {
            tracing::warn!(tab = %name, error = %e, "cannot read the tab's columns");
            return Pass::Failed;
        }
    };

    let mut rows = Vec::with_capacity(batch.len());
    for r in &batch {
        let cells = match tab {
            Tab::Prospects => serde_json::from_str::<Prospect>(&r.record)
                .map(|p| super::table::prospect_cells(&p)),
            Tab::Surveys => serde_json::from_str::<SurveyRecord>(&r.record)
                .map(|s| super::table::survey_cells(&s)),
            _ => serde_json::from_str::<Incident>(&r.record)
                .map(|i| super::table::incident_cells(&i)),
        };
        match cells {
            Ok(cells) => rows.push(columns.row(&cells, t.max_cell_chars)),
            Err(e) => {
                tracing::error!(tab = %name, id = %r.id, error = %e, "a queued row cannot be read back; dropped");
                let _ = shared.local.sheet_rows_done(vec![r.id.clone()]).await;
                return Pass::Wrote;
            }
        }
    }

    let wait = budget.take(Instant::now());
    if !wait.is_zero() {
        tokio::time::sleep(wait).await;
    }
    // From here until the rows are marked done, whether they landed is unknown: if redsol
    // stops (or the connection drops) mid-append, the next pass looks before writing again.
    let ids: Vec<String> = batch.iter().map(|r| r.id.clone()).collect();
    if let Err(e) = shared.local.sheet_rows_uncertain(ids.clone()).await {
        tracing::error!(error = %e, "cannot mark the rows before appending them");
        return Pass::Failed;
    }
    match shared.api.append(&super::api::whole(&name), rows).await {
        Ok(()) => {
            tracing::debug!(tab = %name, rows = ids.len(), "rows appended");
            if let Err(e) = shared.local.sheet_rows_done(ids).await {
                tracing::error!(tab = %name, error = %e, "rows appended but still queued; the next pass finds them in the sheet");
                return Pass::Failed;
            }
            Pass::Wrote
        }
        Err(e) => {
            if !e.outcome_unknown() {
                let _ = shared.local.sheet_rows_certain(ids.clone()).await;
            }
            if e.retryable() {
                tracing::warn!(tab = %name, rows = ids.len(), error = %e, "append failed; the rows stay queued");
            } else {
                tracing::error!(tab = %name, rows = ids.len(), error = %e, "Sheets refused the append; the rows stay queued until it is fixed");
            }
            Pass::Failed
        }
    }
}

/// What a queued change writes: the tab, the row's ID, and the cells under their headers.
type CellChange = (Tab, String, Vec<(&'static str, String)>);

/// Reads back a queued change of cells: a ticket's Estado or a payment's state.
fn cell_change(row: &SheetRow) -> Result<CellChange, serde_json::Error> {
    if row.tab == PAYMENT_CHANGE {
        let change: PaymentChange = serde_json::from_str(&row.record)?;
        let cells = super::payments::change_cells(&change);
        Ok((Tab::Payments, change.payment, cells))
    } else {
        let change: StatusChange = serde_json::from_str(&row.record)?;
        Ok((
            Tab::Incidents,
            change.ticket,
            vec![("Estado", change.status)],
        ))
    }
}

/// Writes the cells redsol changed into a row (found by ID in a fresh read of the tab), one
/// update per cell, so a column staff put between them is left alone. Writing the same value
/// twice is harmless, so an interrupted write is simply done again. A row gone from the sheet
/// is skipped, with a warning.
async fn write_cells(shared: &Shared, budget: &mut TokenBucket, row: &SheetRow) -> Pass {
    let done = |id: String| async move {
        if shared.local.sheet_rows_done(vec![id]).await.is_err() {
            Pass::Failed
        } else {
            Pass::Wrote
        }
    };
    let (tab, key, cells) = match cell_change(row) {
        Ok(change) => change,
        Err(e) => {
            tracing::error!(id = %row.id, error = %e, "a queued change cannot be read back; dropped");
            return done(row.id.clone()).await;
        }
    };
    let name = tab.name(&shared.tuning).to_string();
    let data = match shared.fresh(tab).await {
        Ok(data) => data,
        Err(e) => {
            tracing::warn!(tab = %name, error = %e, "cannot read the tab to write a row's cells");
            return Pass::Failed;
        }
    };
    let Some(at) = data
        .rows
        .iter()
        .position(|r| super::table::plain(data.columns.get(r, tab.id_header())) == key)
    else {
        tracing::warn!(tab = %name, id = %key, "the row is not in the sheet; redsol's change is not written there");
        return done(row.id.clone()).await;
    };
    for (header, value) in cells {
        let Some(column) = data.columns.position(header) else {
            continue;
        };
        let wait = budget.take(Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        // Data rows start under the header, on the sheet's row 2.
        let cell = super::table::a1_cell(&name, column, at + 2);
        let value = super::table::safe_cell(&value, shared.tuning.max_cell_chars);
        if let Err(e) = shared.api.update(&cell, vec![vec![value]]).await {
            tracing::warn!(tab = %name, id = %key, error = %e, "cannot write a row's cell; the change stays queued");
            return Pass::Failed;
        }
    }
    tracing::info!(tab = %name, id = %key, "redsol's change written to the sheet");
    done(row.id.clone()).await
}
