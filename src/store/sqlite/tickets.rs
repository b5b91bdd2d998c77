//! Tickets' follow-up in SQLite: closing (once), the rating awaited and recorded, reopening.
//! With the Sheets backend, a rating is queued for the `Encuestas` tab and a status redsol sets
//! for the ticket's Estado cell, in the same transaction.

use super::records::{queue_sheet_row, IncidentRow, INCIDENT_COLUMNS};
use super::*;
use redsol_actors::store::tickets::{Survey, Tickets, REOPENED};

/// The `tab` of rating rows in [`SheetRow`].
pub const SURVEYS: &str = "surveys";
/// The `tab` of Estado changes for the Incidents tab in [`SheetRow`].
pub const INCIDENT_STATUS: &str = "incident_status";

/// A rating, as its `Encuestas` row is made from it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SurveyRecord {
    pub id: String,
    pub ticket: String,
    pub client: String,
    pub rating: u8,
    pub comment: String,
    pub created_at: String,
}

/// A status redsol set, for the Estado cell of the ticket's row.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StatusChange {
    pub ticket: String,
    pub status: String,
}

fn incident_where(conn: &Connection, filter: &str, id: &str) -> StoreResult<Option<Incident>> {
    conn.query_row(
        &format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = ?1 AND {filter}"),
        params![id],
        IncidentRow::read,
    )
    .optional()
    .map_err(db_err)?
    .map(IncidentRow::into_incident)
    .transpose()
}

/// The filter of closed tickets (the statuses `Incident::is_open` says are not open).
const CLOSED: &str = "status IN ('Resuelto', 'Cerrado', 'Cancelado')";

/// A change of a ticket's status.
struct Change {
    /// The tickets it applies to (a SQL filter: [`OPEN`] or [`CLOSED`]).
    from: &'static str,
    status: String,
    /// Whether its rating is awaited after it.
    pending: bool,
    at: u64,
    /// The message that makes it (a replay of it finds the ticket as it left it).
    source: Option<String>,
}

/// Applies a status change to a ticket that matches its filter; with `queue`, the change is
/// queued for the sheet too (unless the sheet shows it already). The ticket, and whether a
/// row was queued.
fn set_status(
    conn: &mut Connection,
    id: &str,
    change: &Change,
    queue: bool,
) -> StoreResult<(Option<Incident>, bool)> {
    let Change {
        from,
        status,
        pending,
        at,
        source,
    } = change;
    let (status, at, source) = (status.as_str(), *at, source.as_deref());
    let tx = savepoint(conn).map_err(db_err)?;
    let Some(mut incident) = incident_where(&tx, from, id)? else {
        // A replay of the message that made this change finds the ticket as it left it.
        let replayed = match source {
            Some(source) => tx
                .query_row(
                    &format!(
                        "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE id = ?1 AND close_source = ?2"
                    ),
                    params![id, source],
                    IncidentRow::read,
                )
                .optional()
                .map_err(db_err)?
                .map(IncidentRow::into_incident)
                .transpose()?,
            None => None,
        };
        return Ok((replayed, false));
    };
    tx.execute(
        "UPDATE incidents SET status = ?2, closed_at = ?3, survey_pending = ?4, \
         close_source = ?5 WHERE id = ?1",
        params![id, status, at as i64, pending, source],
    )
    .map_err(db_err)?;
    incident.status = status.to_string();
    let shown: Option<String> = tx
        .query_row(
            "SELECT sheet_status FROM incidents WHERE id = ?1",
            params![id],
            |r| r.get(0),
        )
        .map_err(db_err)?;
    let queued = queue && shown.as_deref() != Some(status);
    if queued {
        let change = StatusChange {
            ticket: id.to_string(),
            status: status.to_string(),
        };
        queue_sheet_row(
            &tx,
            &format!("{id}:{status}:{at}"),
            INCIDENT_STATUS,
            &change,
        )?;
    }
    tx.commit().map_err(db_err)?;
    Ok((Some(incident), queued))
}

/// Records a rating; with `queue`, for the `Encuestas` tab too. `(recorded, queued)`.
fn answer_survey(conn: &mut Connection, survey: &Survey, queue: bool) -> StoreResult<(bool, bool)> {
    let tx = savepoint(conn).map_err(db_err)?;
    if let Some(source) = &survey.source {
        let replayed: bool = tx
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM surveys WHERE source = ?1)",
                params![source],
                |r| r.get(0),
            )
            .map_err(db_err)?;
        if replayed {
            return Ok((true, false));
        }
    }
    let taken = tx
        .execute(
            "UPDATE incidents SET survey_pending = 0 WHERE id = ?1 AND survey_pending = 1",
            params![survey.ticket],
        )
        .map_err(db_err)?;
    if taken == 0 {
        return Ok((false, false));
    }
    let created_at = format_utc(survey.at);
    tx.execute(
        "INSERT INTO surveys (ticket, client, rating, comment, created_at, source) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            survey.ticket,
            survey.client,
            survey.rating,
            survey.comment,
            created_at,
            survey.source
        ],
    )
    .map_err(db_err)?;
    if queue {
        let id = format!("ENC-{:06}", tx.last_insert_rowid());
        let record = SurveyRecord {
            id: id.clone(),
            ticket: survey.ticket.clone(),
            client: survey.client.clone(),
            rating: survey.rating,
            comment: survey.comment.clone(),
            created_at,
        };
        queue_sheet_row(&tx, &id, SURVEYS, &record)?;
    }
    tx.commit().map_err(db_err)?;
    Ok((true, queue))
}

/// The filter of open tickets.
const OPEN: &str = "status NOT IN ('Resuelto', 'Cerrado', 'Cancelado')";

/// Whether a status closes a ticket (and asks for its rating).
fn closes(status: &str) -> bool {
    matches!(status, "Resuelto" | "Cerrado")
}

fn note_sheet_statuses(
    conn: &mut Connection,
    seen: &[(String, String)],
) -> StoreResult<Vec<(String, String)>> {
    let tx = savepoint(conn).map_err(db_err)?;
    let mut closed = Vec::new();
    for (id, status) in seen {
        let known: Option<(Option<String>, String)> = tx
            .prepare_cached("SELECT sheet_status, status FROM incidents WHERE id = ?1")
            .and_then(|mut st| {
                st.query_row(params![id], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(db_err)?;
        let Some((before, local)) = known else {
            continue; // staff's own row: not a ticket redsol follows
        };
        if before.as_deref() == Some(status.as_str()) {
            continue;
        }
        tx.prepare_cached("UPDATE incidents SET sheet_status = ?2 WHERE id = ?1")
            .and_then(|mut st| st.execute(params![id, status]))
            .map_err(db_err)?;
        // Only a change seen happening: the first sight of a row (a ticket closed long ago,
        // before this was followed) is remembered, not announced.
        let was_open = before.as_deref().is_some_and(|b| !closes(b));
        if was_open && closes(status) && !closes(&local) {
            closed.push((id.clone(), status.clone()));
        }
    }
    tx.commit().map_err(db_err)?;
    Ok(closed)
}

impl SqliteStore {
    /// Notes each ticket's Estado as the sheet shows it (`(id, status)`), and returns those
    /// staff just closed there: to be told to their customers.
    pub async fn note_sheet_statuses(
        &self,
        seen: Vec<(String, String)>,
    ) -> StoreResult<Vec<(String, String)>> {
        self.run("note_sheet_statuses", move |conn| {
            note_sheet_statuses(conn, &seen)
        })
        .await
    }
}

impl SqliteStore {
    /// [`set_status`], counting a change queued for the sheet.
    async fn change_status(
        &self,
        op: &'static str,
        id: &str,
        change: Change,
    ) -> StoreResult<Option<Incident>> {
        let (id, queue) = (id.to_string(), self.sheet_rows);
        let (incident, queued) = self
            .run(op, move |conn| set_status(conn, &id, &change, queue))
            .await?;
        if queued {
            publish_unsent(&self.unsent, 1);
        }
        Ok(incident)
    }
}

impl Tickets for SqliteStore {
    fn close_incident(
        &self,
        id: &str,
        status: &str,
        at: u64,
        source: Option<String>,
    ) -> BoxFuture<'_, StoreResult<Option<Incident>>> {
        let (id, status) = (id.to_string(), status.to_string());
        let change = Change {
            from: OPEN,
            status,
            pending: true,
            at,
            source,
        };
        Box::pin(async move { self.change_status("close_incident", &id, change).await })
    }

    fn survey_pending(
        &self,
        customer: &ConversationKey,
        since: u64,
    ) -> BoxFuture<'_, StoreResult<Option<Incident>>> {
        let customer = customer.clone();
        Box::pin(self.run("survey_pending", move |conn| {
            conn.query_row(
                &format!(
                    "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE channel = ?1 AND user = ?2 \
                     AND survey_pending = 1 AND {CLOSED} AND closed_at >= ?3 \
                     ORDER BY closed_at DESC LIMIT 1"
                ),
                params![customer.channel.as_str(), customer.user, since as i64],
                IncidentRow::read,
            )
            .optional()
            .map_err(db_err)?
            .map(IncidentRow::into_incident)
            .transpose()
        }))
    }

    fn answer_survey(&self, survey: Survey) -> BoxFuture<'_, StoreResult<bool>> {
        let queue = self.sheet_rows;
        Box::pin(async move {
            let (recorded, queued) = self
                .run("answer_survey", move |conn| {
                    answer_survey(conn, &survey, queue)
                })
                .await?;
            if queued {
                publish_unsent(&self.unsent, 1);
            }
            Ok(recorded)
        })
    }

    fn reopen_incident(&self, id: &str, at: u64) -> BoxFuture<'_, StoreResult<Option<Incident>>> {
        let id = id.to_string();
        let change = Change {
            from: CLOSED,
            status: REOPENED.to_string(),
            pending: false,
            at,
            source: None,
        };
        Box::pin(async move { self.change_status("reopen_incident", &id, change).await })
    }
}
