//! Payments when the sheet's `Pagos` tab is the system of record: staff's rows imported into
//! the payments table (staff edits win), and what redsol changes on a payment (a receipt, staff's
//! answer through `/pago`) queued for the row's cells, in the transaction that changes it.

use super::records::queue_sheet_row;
use super::*;
use redsol_actors::store::payments::Payment;
use std::collections::HashSet;

/// The `tab` of payment changes for the `Pagos` tab in [`SheetRow`].
pub const PAYMENT_CHANGE: &str = "payment_change";

/// What redsol changed on a payment, for the cells of its row.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PaymentChange {
    pub payment: String,
    pub status: String,
    pub paid_on: Option<String>,
    pub receipt: Option<String>,
}

impl PaymentChange {
    pub fn of(p: &Payment) -> PaymentChange {
        PaymentChange {
            payment: p.id.clone(),
            status: p.status.as_str().to_string(),
            paid_on: p.paid_on.clone(),
            receipt: p.receipt.clone(),
        }
    }
}

/// What an import did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Imported {
    /// Rows new to redsol.
    pub added: usize,
    /// Rows staff changed since redsol last saw them.
    pub changed: usize,
    /// Payments no longer in the tab.
    pub removed: usize,
    /// Rows left out: another row has the same client and period.
    pub duplicates: usize,
}

/// The cells of a row as staff see them: when they differ from what redsol last saw, staff
/// changed the row.
fn seen(p: &Payment) -> String {
    serde_json::json!([
        p.client_id,
        p.period,
        p.amount,
        p.due,
        p.status.as_str(),
        p.reference,
        p.paid_on,
        p.receipt
    ])
    .to_string()
}

/// Queues a payment's new state for its row in the sheet. The id is unique for as long as
/// the change waits (the outbox's next sequence number is in it).
pub(super) fn queue_change(tx: &Connection, p: &Payment) -> StoreResult<()> {
    let next: i64 = tx
        .query_row(
            "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'sheet_outbox'), 0) + 1",
            [],
            |r| r.get(0),
        )
        .map_err(db_err)?;
    queue_sheet_row(
        tx,
        &format!("{}:{}", p.id, next),
        PAYMENT_CHANGE,
        &PaymentChange::of(p),
    )
}

/// The payments whose change still waits for the sheet: their rows there are older than
/// redsol's, so they are not imported until it is written.
fn waiting(tx: &Connection) -> StoreResult<HashSet<String>> {
    let mut stmt = tx
        .prepare_cached("SELECT record FROM sheet_outbox WHERE tab = ?1")
        .map_err(db_err)?;
    let records = stmt
        .query_map(params![PAYMENT_CHANGE], |r| r.get::<_, String>(0))
        .map_err(db_err)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(db_err)?;
    Ok(records
        .iter()
        .filter_map(|r| serde_json::from_str::<PaymentChange>(r).ok())
        .map(|c| c.payment)
        .collect())
}

fn import(conn: &mut Connection, rows: &[Payment]) -> StoreResult<Imported> {
    let tx = savepoint(conn).map_err(db_err)?;
    let waiting = waiting(&tx)?;
    let in_sheet: HashSet<&str> = rows.iter().map(|p| p.id.as_str()).collect();
    let mut done = Imported::default();

    let local: Vec<String> = {
        let mut stmt = tx
            .prepare_cached("SELECT id FROM payments WHERE id IS NOT NULL")
            .map_err(db_err)?;
        let ids = stmt
            .query_map([], |r| r.get(0))
            .map_err(db_err)?
            .collect::<rusqlite::Result<Vec<String>>>()
            .map_err(db_err)?;
        ids
    };
    for id in local
        .iter()
        .filter(|id| !in_sheet.contains(id.as_str()) && !waiting.contains(*id))
    {
        done.removed += tx
            .execute("DELETE FROM payments WHERE id = ?1", params![id])
            .map_err(db_err)?;
    }

    for p in rows.iter().filter(|p| !waiting.contains(&p.id)) {
        let now = seen(p);
        let before: Option<Option<String>> = tx
            .prepare_cached("SELECT sheet_seen FROM payments WHERE id = ?1")
            .and_then(|mut st| st.query_row(params![p.id], |r| r.get(0)).optional())
            .map_err(db_err)?;
        if before.as_ref().is_some_and(|b| b.as_deref() == Some(&now)) {
            continue;
        }
        let clash: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM payments \
                 WHERE client_id = ?1 AND period = ?2 AND id != ?3)",
                params![p.client_id, p.period, p.id],
                |r| r.get(0),
            )
            .map_err(db_err)?;
        if clash {
            done.duplicates += 1;
            continue;
        }
        let values = params![
            p.id,
            p.client_id,
            p.period,
            p.amount,
            p.due,
            p.status.as_str(),
            p.reference,
            p.paid_on,
            p.receipt,
            now
        ];
        if before.is_some() {
            tx.execute(
                "UPDATE payments SET client_id = ?2, period = ?3, amount = ?4, due = ?5, \
                 status = ?6, reference = ?7, paid_on = ?8, receipt = ?9, sheet_seen = ?10 \
                 WHERE id = ?1",
                values,
            )
            .map_err(db_err)?;
            done.changed += 1;
        } else {
            tx.execute(
                "INSERT INTO payments (id, client_id, period, amount, due, status, reference, \
                 paid_on, receipt, sheet_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                values,
            )
            .map_err(db_err)?;
            done.added += 1;
        }
    }
    tx.commit().map_err(db_err)?;
    Ok(done)
}

impl SqliteStore {
    /// Makes the payments those of the `Pagos` tab (`rows`, as read): new rows added, rows
    /// staff changed since the last import taken as they are, payments gone from the tab
    /// removed. A payment whose change redsol queued for the sheet keeps redsol's state until
    /// the change is written.
    pub async fn import_sheet_payments(&self, rows: Vec<Payment>) -> StoreResult<Imported> {
        self.run("import_sheet_payments", move |conn| import(conn, &rows))
            .await
    }
}
