//! Clients' payments in PostgreSQL: one row per client and period (a unique key); a receipt
//! reported once (by its media id) and settled once. A report locks the client's rows first,
//! so two replicas reporting for one client at once take turns; a settlement locks its row,
//! so staff's answer is applied once. Periods and dates compare byte-wise (`COLLATE "C"`), as
//! in SQLite.

use super::{db_err, out_of_range, parse_channel, PgStore};
use deadpool_postgres::GenericClient;
use redsol_actors::model::ConversationKey;
use redsol_actors::store::payments::{payment_id, Payment, PaymentStatus, Verdict};
use redsol_actors::store::StoreResult;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

const COLUMNS: &str = "id, client_id, period, amount, due, status, reference, paid_on, receipt, \
                       reporter_channel, reporter_user";

/// Any number, the same for every replica: the advisory lock held while seeding payments.
const SEED_LOCK: i64 = 0x7265_6473_6f6c_0002;

fn payment(row: &Row) -> StoreResult<Payment> {
    let status: String = row.get(5);
    let amount: i64 = row.get(3);
    let channel: Option<String> = row.get(9);
    let user: Option<String> = row.get(10);
    let reporter = match (channel, user) {
        (Some(channel), Some(user)) => Some(ConversationKey::new(parse_channel(&channel)?, user)),
        _ => None,
    };
    Ok(Payment {
        id: row.get::<_, Option<String>>(0).unwrap_or_default(),
        client_id: row.get(1),
        period: row.get(2),
        amount: u32::try_from(amount).map_err(|_| out_of_range("payment amount"))?,
        due: row.get(4),
        status: PaymentStatus::parse(&status).unwrap_or(PaymentStatus::Pendiente),
        reference: row.get(6),
        paid_on: row.get(7),
        receipt: row.get(8),
        reporter,
    })
}

/// The payments matching `filter`, oldest period first.
async fn select(
    conn: &impl GenericClient,
    filter: &str,
    args: &[&(dyn ToSql + Sync)],
) -> StoreResult<Vec<Payment>> {
    query(conn, filter, args, "").await
}

/// [`select`], the rows locked until the transaction ends.
async fn select_for_update(
    conn: &impl GenericClient,
    filter: &str,
    args: &[&(dyn ToSql + Sync)],
) -> StoreResult<Vec<Payment>> {
    query(conn, filter, args, " FOR UPDATE").await
}

async fn query(
    conn: &impl GenericClient,
    filter: &str,
    args: &[&(dyn ToSql + Sync)],
    lock: &str,
) -> StoreResult<Vec<Payment>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM payments WHERE {filter} ORDER BY period COLLATE \"C\", seq{lock}"
    );
    let rows = conn.query(&sql, args).await.map_err(db_err)?;
    rows.iter().map(payment).collect()
}

impl PgStore {
    /// Seeds the payments `make` gives into an empty payments table (the demo's; made only
    /// when the table is empty); returns how many. Replicas starting together seed once (an
    /// advisory lock, then the unique key of client and period).
    pub async fn seed_payments(
        &self,
        make: impl FnOnce() -> Vec<Payment> + Send + 'static,
    ) -> StoreResult<usize> {
        self.timed("seed_payments", async {
            let mut conn = self.conn().await?;
            let tx = conn.transaction().await.map_err(db_err)?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SEED_LOCK])
                .await
                .map_err(db_err)?;
            let count: i64 = tx
                .query_one("SELECT COUNT(*) FROM payments", &[])
                .await
                .map_err(db_err)?
                .get(0);
            if count > 0 {
                return Ok(0);
            }
            let payments = make();
            // Two statements for the whole seed, not two a row: the demo is 1,608 rows.
            let column = |f: fn(&Payment) -> String| payments.iter().map(f).collect::<Vec<_>>();
            let amounts: Vec<i64> = payments.iter().map(|p| i64::from(p.amount)).collect();
            let paid_on: Vec<Option<String>> = payments.iter().map(|p| p.paid_on.clone()).collect();
            let rows = tx
                .query(
                    "INSERT INTO payments (client_id, period, amount, due, status, reference, \
                     paid_on) SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], \
                     $4::text[], $5::text[], $6::text[], $7::text[]) \
                     ON CONFLICT (client_id, period) DO NOTHING RETURNING seq",
                    &[
                        &column(|p| p.client_id.clone()),
                        &column(|p| p.period.clone()),
                        &amounts,
                        &column(|p| p.due.clone()),
                        &column(|p| p.status.as_str().to_string()),
                        &column(|p| p.reference.clone()),
                        &paid_on,
                    ],
                )
                .await
                .map_err(db_err)?;
            let seqs: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
            let ids: Vec<String> = seqs
                .iter()
                .map(|s| payment_id((*s).max(0) as u64))
                .collect();
            tx.execute(
                "UPDATE payments SET id = n.id FROM UNNEST($1::text[], $2::bigint[]) AS n(id, seq) \
                 WHERE payments.seq = n.seq",
                &[&ids, &seqs],
            )
            .await
            .map_err(db_err)?;
            let seeded = seqs.len();
            tx.commit().await.map_err(db_err)?;
            Ok(seeded)
        })
        .await
    }

    /// A client's payments, oldest period first.
    pub async fn payments_of(&self, client_id: &str) -> StoreResult<Vec<Payment>> {
        self.timed("payments_of", async {
            let conn = self.conn().await?;
            select(&conn, "client_id = $1", &[&client_id]).await
        })
        .await
    }

    /// A customer's receipt for what the client owes: the oldest owed period becomes "Por
    /// confirmar" with the receipt; `None` when nothing is owed. Reported again (the same
    /// receipt), it is the same payment.
    pub async fn report_payment(
        &self,
        client_id: &str,
        receipt: &str,
        reporter: &ConversationKey,
    ) -> StoreResult<Option<Payment>> {
        self.timed("report_payment", async {
            let mut conn = self.conn().await?;
            let tx = conn.transaction().await.map_err(db_err)?;
            // The client's rows, locked: a report at the same time waits, then reads ours.
            tx.execute(
                "SELECT seq FROM payments WHERE client_id = $1 ORDER BY seq FOR UPDATE",
                &[&client_id],
            )
            .await
            .map_err(db_err)?;
            if let Some(p) = select(
                &tx,
                "client_id = $1 AND receipt = $2",
                &[&client_id, &receipt],
            )
            .await?
            .pop()
            {
                return Ok(Some(p));
            }
            let owed = select(
                &tx,
                "client_id = $1 AND status IN ('Pendiente', 'Vencido')",
                &[&client_id],
            )
            .await?;
            let Some(p) = owed.into_iter().next() else {
                return Ok(None);
            };
            tx.execute(
                "UPDATE payments SET status = 'Por confirmar', receipt = $2, \
                 reporter_channel = $3, reporter_user = $4 WHERE id = $1",
                &[&p.id, &receipt, &reporter.channel.as_str(), &reporter.user],
            )
            .await
            .map_err(db_err)?;
            let made = select(&tx, "id = $1", &[&p.id]).await?.pop();
            tx.commit().await.map_err(db_err)?;
            Ok(made)
        })
        .await
    }

    /// Staff's figures: every payment of `period` (`YYYY-MM`), and every overdue one.
    pub async fn period_and_overdue(&self, period: &str) -> StoreResult<Vec<Payment>> {
        self.timed("period_and_overdue", async {
            let conn = self.conn().await?;
            select(&conn, "period = $1 OR status = 'Vencido'", &[&period]).await
        })
        .await
    }

    /// The payments still pending (not overdue, not paid, not reported) due on one of `dues`
    /// (`YYYY-MM-DD`).
    pub async fn pending_due(&self, dues: Vec<String>) -> StoreResult<Vec<Payment>> {
        self.timed("pending_due", async {
            if dues.is_empty() {
                return Ok(Vec::new());
            }
            let conn = self.conn().await?;
            select(&conn, "status = 'Pendiente' AND due = ANY($1)", &[&dues]).await
        })
        .await
    }

    /// Staff's answer to a payment "Por confirmar": paid on `on`, or owed again (Pendiente, or
    /// Vencido past its due date). `None` when no such payment waits for an answer.
    pub async fn settle_payment(
        &self,
        id: &str,
        verdict: Verdict,
        on: &str,
    ) -> StoreResult<Option<Payment>> {
        self.timed("settle_payment", async {
            let mut conn = self.conn().await?;
            let tx = conn.transaction().await.map_err(db_err)?;
            // Locked: an answer at the same time waits, then finds it no longer waiting.
            let Some(p) = select_for_update(&tx, "id = $1 AND status = 'Por confirmar'", &[&id])
                .await?
                .pop()
            else {
                return Ok(None);
            };
            match verdict {
                Verdict::Confirmed => {
                    tx.execute(
                        "UPDATE payments SET status = 'Pagado', paid_on = $2 WHERE id = $1",
                        &[&p.id, &on],
                    )
                    .await
                }
                Verdict::Rejected => {
                    let back = if p.due.as_str() < on {
                        PaymentStatus::Vencido
                    } else {
                        PaymentStatus::Pendiente
                    };
                    tx.execute(
                        "UPDATE payments SET status = $2 WHERE id = $1",
                        &[&p.id, &back.as_str()],
                    )
                    .await
                }
            }
            .map_err(db_err)?;
            let settled = select(&tx, "id = $1", &[&p.id]).await?.pop();
            tx.commit().await.map_err(db_err)?;
            Ok(settled)
        })
        .await
    }
}
