//! Clients' payments in SQLite: one row per client and period; a receipt reported once (by its
//! media id) and settled once. With the Sheets backend, each change is queued for the row's
//! cells in the `Pagos` tab, in the same transaction.

use super::payment_sheet::queue_change;
use super::*;
use redsol_actors::store::payments::{payment_id, Payment, PaymentStatus, Payments, Verdict};

const COLUMNS: &str = "id, client_id, period, amount, due, status, reference, paid_on, receipt, \
                       reporter_channel, reporter_user";

fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<(Payment, Option<String>, Option<String>)> {
    let status: String = row.get(5)?;
    Ok((
        Payment {
            id: row.get(0)?,
            client_id: row.get(1)?,
            period: row.get(2)?,
            amount: row.get(3)?,
            due: row.get(4)?,
            status: PaymentStatus::parse(&status).unwrap_or(PaymentStatus::Pendiente),
            reference: row.get(6)?,
            paid_on: row.get(7)?,
            receipt: row.get(8)?,
            reporter: None,
        },
        row.get(9)?,
        row.get(10)?,
    ))
}

fn select(
    conn: &Connection,
    filter: &str,
    args: impl rusqlite::Params,
) -> StoreResult<Vec<Payment>> {
    let sql = format!("SELECT {COLUMNS} FROM payments WHERE {filter} ORDER BY period, seq");
    let mut stmt = conn.prepare_cached(&sql).map_err(db_err)?;
    let rows = stmt
        .query_map(args, read)
        .map_err(db_err)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(db_err)?;
    rows.into_iter()
        .map(|(mut p, channel, user)| {
            if let (Some(channel), Some(user)) = (channel, user) {
                p.reporter = Some(ConversationKey::new(parse_channel(&channel)?, user));
            }
            Ok(p)
        })
        .collect()
}

fn report(
    conn: &mut Connection,
    client_id: &str,
    receipt: &str,
    reporter: &ConversationKey,
    queue: bool,
) -> StoreResult<(Option<Payment>, bool)> {
    let tx = savepoint(conn).map_err(db_err)?;
    if let Some(p) = select(
        &tx,
        "client_id = ?1 AND receipt = ?2",
        params![client_id, receipt],
    )?
    .pop()
    {
        return Ok((Some(p), false));
    }
    let owed = select(
        &tx,
        "client_id = ?1 AND status IN ('Pendiente', 'Vencido')",
        params![client_id],
    )?;
    let Some(p) = owed.into_iter().next() else {
        return Ok((None, false));
    };
    tx.execute(
        "UPDATE payments SET status = 'Por confirmar', receipt = ?2, reporter_channel = ?3, \
         reporter_user = ?4 WHERE id = ?1",
        params![p.id, receipt, reporter.channel.as_str(), reporter.user],
    )
    .map_err(db_err)?;
    let made = select(&tx, "id = ?1", params![p.id])?.pop();
    let queued = changed(&tx, made.as_ref(), queue)?;
    tx.commit().map_err(db_err)?;
    Ok((made, queued))
}

/// Queues a changed payment for the sheet when `queue`; whether it was.
fn changed(tx: &Connection, p: Option<&Payment>, queue: bool) -> StoreResult<bool> {
    match p {
        Some(p) if queue => queue_change(tx, p).map(|()| true),
        _ => Ok(false),
    }
}

fn settle(
    conn: &mut Connection,
    id: &str,
    verdict: &Verdict,
    on: &str,
    queue: bool,
) -> StoreResult<(Option<Payment>, bool)> {
    let tx = savepoint(conn).map_err(db_err)?;
    let Some(p) = select(&tx, "id = ?1 AND status = 'Por confirmar'", params![id])?.pop() else {
        return Ok((None, false));
    };
    match verdict {
        Verdict::Confirmed => tx.execute(
            "UPDATE payments SET status = 'Pagado', paid_on = ?2 WHERE id = ?1",
            params![p.id, on],
        ),
        Verdict::Rejected => {
            let back = if p.due.as_str() < on {
                "Vencido"
            } else {
                "Pendiente"
            };
            tx.execute(
                "UPDATE payments SET status = ?2 WHERE id = ?1",
                params![p.id, back],
            )
        }
    }
    .map_err(db_err)?;
    let settled = select(&tx, "id = ?1", params![p.id])?.pop();
    let queued = changed(&tx, settled.as_ref(), queue)?;
    tx.commit().map_err(db_err)?;
    Ok((settled, queued))
}

fn seed(conn: &mut Connection, make: impl FnOnce() -> Vec<Payment>) -> StoreResult<usize> {
    let tx = savepoint(conn).map_err(db_err)?;
    let count: i64 = tx
        .query_row("SELECT COUNT(*) FROM payments", [], |row| row.get(0))
        .map_err(db_err)?;
    if count > 0 {
        return Ok(0);
    }
    let payments = make();
    for p in &payments {
        tx.prepare_cached(
            "INSERT INTO payments (client_id, period, amount, due, status, reference, paid_on) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )
        .and_then(|mut st| {
            st.execute(params![
                p.client_id,
                p.period,
                p.amount,
                p.due,
                p.status.as_str(),
                p.reference,
                p.paid_on
            ])
        })
        .map_err(db_err)?;
        let seq = tx.last_insert_rowid();
        tx.execute(
            "UPDATE payments SET id = ?1 WHERE seq = ?2",
            params![payment_id(seq.max(0) as u64), seq],
        )
        .map_err(db_err)?;
    }
    tx.commit().map_err(db_err)?;
    Ok(payments.len())
}

impl SqliteStore {
    /// Runs a change that may queue a row for the sheet, and counts it as unsent if it did.
    async fn queued(
        &self,
        op: &'static str,
        f: impl FnOnce(&mut Connection) -> StoreResult<(Option<Payment>, bool)> + Send + 'static,
    ) -> StoreResult<Option<Payment>> {
        let (payment, queued) = self.run(op, f).await?;
        if queued {
            publish_unsent(&self.unsent, 1);
        }
        Ok(payment)
    }

    /// Seeds the payments `make` gives into an empty payments table (the demo's; made only
    /// when the table is empty); returns how many.
    pub async fn seed_payments(
        &self,
        make: impl FnOnce() -> Vec<Payment> + Send + 'static,
    ) -> StoreResult<usize> {
        self.run("seed_payments", move |conn| seed(conn, make))
            .await
    }
}

impl Payments for SqliteStore {
    fn payments_of(&self, client_id: &str) -> BoxFuture<'_, StoreResult<Vec<Payment>>> {
        let client_id = client_id.to_string();
        Box::pin(self.run("payments_of", move |conn| {
            select(conn, "client_id = ?1", params![client_id])
        }))
    }

    fn report_payment(
        &self,
        client_id: &str,
        receipt: &str,
        reporter: &ConversationKey,
    ) -> BoxFuture<'_, StoreResult<Option<Payment>>> {
        let (client_id, receipt, reporter) =
            (client_id.to_string(), receipt.to_string(), reporter.clone());
        let queue = self.sheet_rows;
        Box::pin(self.queued("report_payment", move |conn| {
            report(conn, &client_id, &receipt, &reporter, queue)
        }))
    }

    fn period_and_overdue(&self, period: &str) -> BoxFuture<'_, StoreResult<Vec<Payment>>> {
        let period = period.to_string();
        Box::pin(self.run("period_and_overdue", move |conn| {
            select(conn, "period = ?1 OR status = 'Vencido'", params![period])
        }))
    }

    fn pending_due(&self, dues: Vec<String>) -> BoxFuture<'_, StoreResult<Vec<Payment>>> {
        Box::pin(self.run("pending_due", move |conn| {
            if dues.is_empty() {
                return Ok(Vec::new());
            }
            let marks = vec!["?"; dues.len()].join(", ");
            select(
                conn,
                &format!("status = 'Pendiente' AND due IN ({marks})"),
                rusqlite::params_from_iter(dues.iter()),
            )
        }))
    }

    fn settle_payment(
        &self,
        id: &str,
        verdict: Verdict,
        on: &str,
    ) -> BoxFuture<'_, StoreResult<Option<Payment>>> {
        let (id, on) = (id.to_string(), on.to_string());
        let queue = self.sheet_rows;
        Box::pin(self.queued("settle_payment", move |conn| {
            settle(conn, &id, &verdict, &on, queue)
        }))
    }
}
