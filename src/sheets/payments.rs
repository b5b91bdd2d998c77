//! The `Pagos` tab: staff's record of what each client owes per period. Each read that finds
//! the tab changed is imported into SQLite (staff edits win; see
//! [`SqliteStore::import_sheet_payments`](crate::store::sqlite::SqliteStore::import_sheet_payments)),
//! which answers customers; what redsol changes on a payment is queued for the row's cells and
//! written by the writer.

#[cfg(test)]
use super::table::PAYMENT_HEADERS;
use super::table::{plain, Columns};
use super::{Shared, SheetsStore, TabData};
use crate::store::sqlite::PaymentChange;
use redsol_actors::model::ConversationKey;
use redsol_actors::store::payments::{Payment, PaymentStatus, Payments, Verdict};
use redsol_actors::store::{BoxFuture, StoreResult};

/// A date as staff type it (`2026-12-10`, `10/12/2026`, `10-12-2026`), as `YYYY-MM-DD`.
fn date(cell: &str) -> Option<String> {
    let cell = cell.trim();
    let parts: Vec<&str> = cell.split(['-', '/']).map(str::trim).collect();
    let [a, b, c] = parts.as_slice() else {
        return None;
    };
    let (y, m, d) = if a.len() == 4 { (a, b, c) } else { (c, b, a) };
    let (y, m, d): (u32, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    ((1900..=9999).contains(&y) && (1..=12).contains(&m) && (1..=31).contains(&d))
        .then(|| format!("{y:04}-{m:02}-{d:02}"))
}

/// A period (`2026-12`, `12/2026`), as `YYYY-MM`.
fn period(cell: &str) -> Option<String> {
    let parts: Vec<&str> = cell.trim().split(['-', '/']).map(str::trim).collect();
    let [a, b] = parts.as_slice() else {
        return None;
    };
    let (y, m) = if a.len() == 4 { (a, b) } else { (b, a) };
    let (y, m): (u32, u32) = (y.parse().ok()?, m.parse().ok()?);
    ((1900..=9999).contains(&y) && (1..=12).contains(&m)).then(|| format!("{y:04}-{m:02}"))
}

/// A `Pagos` row: `None` for a row without an ID (blank, a note), an error naming what cannot
/// be read otherwise.
pub fn payment(cols: &Columns, row: &[String]) -> Option<Result<Payment, String>> {
    let cell = |h| plain(cols.get(row, h)).trim();
    let id = cell("ID Pago");
    if id.is_empty() {
        return None;
    }
    let read = || {
        let client_id = cell("ID Cliente");
        if client_id.is_empty() {
            return Err("no ID Cliente".to_string());
        }
        let due = date(cell("Vence")).ok_or_else(|| format!("Vence {:?}", cell("Vence")))?;
        let period = match cell("Periodo") {
            "" => due[..7].to_string(),
            p => period(p).ok_or_else(|| format!("Periodo {p:?}"))?,
        };
        let status = match cell("Estado") {
            "" => PaymentStatus::Pendiente,
            s => PaymentStatus::parse(s).ok_or_else(|| format!("Estado {s:?}"))?,
        };
        let amount = super::table::number(cell("Monto"))
            .ok_or_else(|| format!("Monto {:?}", cell("Monto")))?;
        let paid_on = match cell("Fecha Pago") {
            "" => None,
            d => Some(date(d).ok_or_else(|| format!("Fecha Pago {d:?}"))?),
        };
        let some = |s: &str| (!s.is_empty()).then(|| s.to_string());
        Ok(Payment {
            id: id.to_string(),
            client_id: client_id.to_string(),
            period,
            amount,
            due,
            status,
            reference: cell("Referencia").to_string(),
            paid_on,
            receipt: some(cell("Comprobante")),
            reporter: None,
        })
    };
    Some(read())
}

/// The cells of a payment's row that redsol sets.
pub fn change_cells(change: &PaymentChange) -> Vec<(&'static str, String)> {
    let mut cells = vec![("Estado", change.status.clone())];
    if let Some(on) = &change.paid_on {
        cells.push(("Fecha Pago", on.clone()));
    }
    if let Some(receipt) = &change.receipt {
        cells.push(("Comprobante", receipt.clone()));
    }
    cells
}

impl Shared {
    /// Imports the tab as read; whether that worked (if not, the next read tries again).
    pub(super) async fn import_payments(&self, name: &str, data: &TabData) -> bool {
        let mut rows = Vec::with_capacity(data.rows.len());
        for (at, row) in data.rows.iter().enumerate() {
            match payment(&data.columns, row) {
                Some(Ok(p)) => rows.push(p),
                Some(Err(problem)) => {
                    // Data rows start under the header, on the sheet's row 2.
                    tracing::warn!(event = "sheets_payment_row", tab = %name, row = at + 2, problem = %problem, "a payment row cannot be read; left out");
                }
                None => {}
            }
        }
        match self.local.import_sheet_payments(rows).await {
            Ok(done) => {
                if done.duplicates > 0 {
                    tracing::warn!(event = "sheets_payment_row", tab = %name, rows = done.duplicates, "rows repeat a client and period; the first counts");
                }
                tracing::info!(
                    tab = %name,
                    added = done.added,
                    changed = done.changed,
                    removed = done.removed,
                    "payments read from the sheet"
                );
                true
            }
            Err(e) => {
                tracing::warn!(tab = %name, error = %e, "cannot import the payments of the sheet");
                false
            }
        }
    }
}

/// SQLite's, which queues each change for the row's cells; the writer is woken for it.
impl Payments for SheetsStore {
    fn payments_of(&self, client_id: &str) -> BoxFuture<'_, StoreResult<Vec<Payment>>> {
        self.local().payments_of(client_id)
    }

    fn report_payment(
        &self,
        client_id: &str,
        receipt: &str,
        reporter: &ConversationKey,
    ) -> BoxFuture<'_, StoreResult<Option<Payment>>> {
        let (client_id, receipt, reporter) =
            (client_id.to_string(), receipt.to_string(), reporter.clone());
        Box::pin(async move {
            let reported = self
                .local()
                .report_payment(&client_id, &receipt, &reporter)
                .await;
            self.shared.wake.notify_one();
            reported
        })
    }

    fn period_and_overdue(&self, period: &str) -> BoxFuture<'_, StoreResult<Vec<Payment>>> {
        self.local().period_and_overdue(period)
    }

    fn pending_due(&self, dues: Vec<String>) -> BoxFuture<'_, StoreResult<Vec<Payment>>> {
        self.local().pending_due(dues)
    }

    fn settle_payment(
        &self,
        id: &str,
        verdict: Verdict,
        on: &str,
    ) -> BoxFuture<'_, StoreResult<Option<Payment>>> {
        let (id, on) = (id.to_string(), on.to_string());
        Box::pin(async move {
            let settled = self.local().settle_payment(&id, verdict, &on).await;
            self.shared.wake.notify_one();
            settled
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|s| s.to_string()).collect()
    }

    fn columns() -> Columns {
        Columns::find("Pagos", &row(PAYMENT_HEADERS), PAYMENT_HEADERS).expect("all there")
    }

    #[test]
    fn staff_rows_are_read_in_their_own_formats() {
        let cols = columns();
        let p = payment(
            &cols,
            &row(&[
                "PAG-7",
                "CLI-0001",
                "",
                "$1,350.00",
                "10/12/2026",
                "pagado",
                "",
                "2026-12-09",
                "",
            ]),
        )
        .expect("a row")
        .expect("readable");
        assert_eq!(p.period, "2026-12");
        assert_eq!(p.amount, 1350);
        assert_eq!(p.due, "2026-12-10");
        assert_eq!(p.status, PaymentStatus::Pagado);
        assert_eq!(p.paid_on.as_deref(), Some("2026-12-09"));
        assert_eq!(p.receipt, None);
        assert!(
            payment(&cols, &row(&["", "CLI-1"])).is_none(),
            "a blank row"
        );
    }

    #[test]
    fn a_row_that_cannot_be_read_names_its_problem() {
        let cols = columns();
        for (cells, problem) in [
            (
                ["PAG-1", "", "2026-12", "450", "2026-12-10", "Pendiente"],
                "ID Cliente",
            ),
            (
                ["PAG-1", "CLI-1", "2026-12", "450", "mañana", "Pendiente"],
                "Vence",
            ),
            (
                ["PAG-1", "CLI-1", "2026-12", "450", "2026-12-10", "Debe"],
                "Estado",
            ),
            (
                [
                    "PAG-1",
                    "CLI-1",
                    "2026-12",
                    "n/a",
                    "2026-12-10",
                    "Pendiente",
                ],
                "Monto",
            ),
            (
                [
                    "PAG-1",
                    "CLI-1",
                    "13/2026",
                    "450",
                    "2026-12-10",
                    "Pendiente",
                ],
                "Periodo",
            ),
        ] {
            let err = payment(&cols, &row(&cells))
                .expect("a row")
                .expect_err("unreadable");
            assert!(err.contains(problem), "{err} should name {problem}");
        }
    }

    #[test]
    fn a_change_sets_only_the_cells_it_knows() {
        let change = PaymentChange {
            payment: "PAG-1".into(),
            status: "Por confirmar".into(),
            paid_on: None,
            receipt: Some("MEDIA-1".into()),
        };
        assert_eq!(
            change_cells(&change),
            vec![
                ("Estado", "Por confirmar".to_string()),
                ("Comprobante", "MEDIA-1".to_string())
            ]
        );
    }
}
