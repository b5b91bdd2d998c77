//! Tickets' follow-up in PostgreSQL: closing (once), the rating awaited and recorded,
//! reopening. Each change is one conditional `UPDATE`: of two replicas closing a ticket
//! together, one closes it.

use super::records::{incident, INCIDENT_COLUMNS};
use super::{db_err, PgStore};
use redsol_actors::model::{ConversationKey, Incident};
use redsol_actors::store::tickets::{Survey, REOPENED};
use redsol_actors::store::{format_utc, StoreResult};

/// The filter of closed tickets (the statuses `Incident::is_open` says are not open).
const CLOSED: &str = "status IN ('Resuelto', 'Cerrado', 'Cancelado')";
/// The filter of open tickets.
const OPEN: &str = "status NOT IN ('Resuelto', 'Cerrado', 'Cancelado')";

fn at(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// A change of a ticket's status.
struct Change<'a> {
    /// The tickets it applies to (a SQL filter: [`OPEN`] or [`CLOSED`]).
    from: &'static str,
    status: &'a str,
    /// Whether its rating is awaited after it.
    pending: bool,
    when: u64,
    /// The message that makes it (a replay of it finds the ticket as it left it).
    source: Option<String>,
}

impl PgStore {
    /// Applies `change` to the ticket if it matches; the ticket as it is now, or, when it did
    /// not match, the ticket as the change's source left it (a replay) or `None`.
    async fn set_status(
        &self,
        op: &'static str,
        id: &str,
        change: Change<'_>,
    ) -> StoreResult<Option<Incident>> {
        let Change {
            from,
            status,
            pending,
            when,
            source,
        } = change;
        self.timed(op, async {
            let conn = self.conn().await?;
            let changed = conn
                .query_opt(
                    &format!(
                        "UPDATE incidents SET status = $2, closed_at = $3, survey_pending = $4, \
                         close_source = $5 WHERE id = $1 AND {from} RETURNING {INCIDENT_COLUMNS}"
                    ),
                    &[&id, &status, &at(when), &pending, &source],
                )
                .await
                .map_err(db_err)?;
            let row = match (changed, &source) {
                (Some(row), _) => Some(row),
                (None, Some(source)) => conn
                    .query_opt(
                        &format!(
                            "SELECT {INCIDENT_COLUMNS} FROM incidents \
                             WHERE id = $1 AND close_source = $2"
                        ),
                        &[&id, source],
                    )
                    .await
                    .map_err(db_err)?,
                (None, None) => None,
            };
            row.as_ref().map(incident).transpose()
        })
        .await
    }

    /// Closes an open ticket with `status` and awaits its rating (see
    /// `Tickets::close_incident`).
    pub async fn close_incident(
        &self,
        id: &str,
        status: &str,
        when: u64,
        source: Option<String>,
    ) -> StoreResult<Option<Incident>> {
        let change = Change {
            from: OPEN,
            status,
            pending: true,
            when,
            source,
        };
        self.set_status("close_incident", id, change).await
    }

    /// Reopens a closed ticket; the ticket, or `None` when it was not closed.
    pub async fn reopen_incident(&self, id: &str, when: u64) -> StoreResult<Option<Incident>> {
        let change = Change {
            from: CLOSED,
            status: REOPENED,
            pending: false,
            when,
            source: None,
        };
        self.set_status("reopen_incident", id, change).await
    }

    /// The customer's ticket closed since `since` and still waiting for a rating, the latest.
    pub async fn survey_pending(
        &self,
        customer: &ConversationKey,
        since: u64,
    ) -> StoreResult<Option<Incident>> {
        self.timed("survey_pending", async {
            let conn = self.conn().await?;
            let row = conn
                .query_opt(
                    &format!(
                        "SELECT {INCIDENT_COLUMNS} FROM incidents WHERE channel = $1 \
                         AND user_id = $2 AND survey_pending AND {CLOSED} AND closed_at >= $3 \
                         ORDER BY closed_at DESC LIMIT 1"
                    ),
                    &[&customer.channel.as_str(), &customer.user, &at(since)],
                )
                .await
                .map_err(db_err)?;
            row.as_ref().map(incident).transpose()
        })
        .await
    }

    /// Records a rating of a ticket waiting for one; `false` when it was not, unless this
    /// rating's `source` recorded it (a replay).
    pub async fn answer_survey(&self, survey: Survey) -> StoreResult<bool> {
        self.timed("answer_survey", async {
            let mut conn = self.conn().await?;
            let tx = conn.transaction().await.map_err(db_err)?;
            if let Some(source) = &survey.source {
                let replayed: bool = tx
                    .query_one(
                        "SELECT EXISTS (SELECT 1 FROM surveys WHERE source = $1)",
                        &[source],
                    )
                    .await
                    .map_err(db_err)?
                    .get(0);
                if replayed {
                    return Ok(true);
                }
            }
            let taken = tx
                .execute(
                    "UPDATE incidents SET survey_pending = FALSE \
                     WHERE id = $1 AND survey_pending",
                    &[&survey.ticket],
                )
                .await
                .map_err(db_err)?;
            if taken == 0 {
                return Ok(false);
            }
            tx.execute(
                "INSERT INTO surveys (ticket, client, rating, comment, created_at, source) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (source) DO NOTHING",
                &[
                    &survey.ticket,
                    &survey.client,
                    &i32::from(survey.rating),
                    &survey.comment,
                    &format_utc(survey.at),
                    &survey.source,
                ],
            )
            .await
            .map_err(db_err)?;
            tx.commit().await.map_err(db_err)?;
            Ok(true)
        })
        .await
    }
}
