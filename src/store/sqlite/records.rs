//! The records staff read: prospects, incidents and requests, each queued for the sheet in
//! the same transaction when the Sheets backend runs.

use super::*;

pub(super) fn parse_channel(s: &str) -> StoreResult<Channel> {
    Channel::parse(s).ok_or_else(|| StoreError::Invalid("unknown channel in the store".into()))
}

pub(super) fn parse_kind(s: &str) -> StoreResult<IncidentKind> {
    IncidentKind::parse(s)
        .ok_or_else(|| StoreError::Invalid("unknown incident kind in the store".into()))
}

pub(super) fn parse_priority(s: &str) -> StoreResult<Priority> {
    Priority::parse(s).ok_or_else(|| StoreError::Invalid("unknown priority in the store".into()))
}

/// The raw incident columns, converted to an [`Incident`] outside the row callback so that bad
/// enum values become `StoreError::Invalid`.
pub(super) struct IncidentRow {
    id: String,
    status: String,
    created_at: String,
    technician: String,
    client_id: Option<String>,
    client_name: String,
    kind: String,
    description: String,
    priority: String,
    zone: Option<String>,
    phone: Option<String>,
    channel: String,
    user: String,
    source: Option<String>,
}

/// The columns [`IncidentRow::read`] reads, in its order.
pub(super) const INCIDENT_COLUMNS: &str =
    "id, status, created_at, technician, client_id, client_name, \
     kind, description, priority, zone, phone, channel, user, source";

impl IncidentRow {
    /// Reads a row selected with [`INCIDENT_COLUMNS`].
    pub(super) fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<IncidentRow> {
        Ok(IncidentRow {
            // A row inserted by hand without an id still shows (as an empty id).
            id: row.get::<_, Option<String>>(0)?.unwrap_or_default(),
            status: row.get(1)?,
            created_at: row.get(2)?,
            technician: row.get(3)?,
            client_id: row.get(4)?,
            client_name: row.get(5)?,
            kind: row.get(6)?,
            description: row.get(7)?,
            priority: row.get(8)?,
            zone: row.get(9)?,
            phone: row.get(10)?,
            channel: row.get(11)?,
            user: row.get(12)?,
            source: row.get(13)?,
        })
    }

    pub(super) fn into_incident(self) -> StoreResult<Incident> {
        Ok(Incident {
            id: self.id,
            status: self.status,
            created_at: self.created_at,
            technician: self.technician,
            data: NewIncident {
                client_id: self.client_id,
                client_name: self.client_name,
                kind: parse_kind(&self.kind)?,
                description: self.description,
                priority: parse_priority(&self.priority)?,
                zone: self.zone,
                phone: self.phone,
                key: ConversationKey::new(parse_channel(&self.channel)?, self.user),
                source: self.source,
            },
        })
    }
}

/// The prospect a message already made, if any.
fn prospect_by_source(tx: &Connection, source: &str) -> StoreResult<Option<Prospect>> {
    tx.query_row(
        "SELECT id, created_at, status, name, phone, zone, plan_mbps, price, channel, user \
         FROM prospects WHERE source = ?1",
        params![source],
        |row| {
            Ok((
                row.get::<_, Option<String>>(0)?.unwrap_or_default(),
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, String>(3)?,
                row.get::<_, Option<String>>(4)?,
                row.get::<_, String>(5)?,
                row.get::<_, u32>(6)?,
                row.get::<_, u32>(7)?,
                row.get::<_, String>(8)?,
                row.get::<_, String>(9)?,
            ))
        },
    )
    .optional()
    .map_err(db_err)?
    .map(
        |(id, created_at, status, name, phone, zone, plan_mbps, price, channel, user)| {
            let outside_coverage = status == "Sin cobertura";
            Ok(Prospect {
                id,
                created_at,
                status,
                data: NewProspect {
                    name,
                    phone,
                    zone,
                    plan_mbps,
                    price,
                    key: ConversationKey::new(parse_channel(&channel)?, user),
                    outside_coverage,
                    source: Some(source.to_string()),
                },
            })
        },
    )
    .transpose()
}

/// Saves a prospect, unless the message it comes from made one already: the saved prospect,
/// and whether it is new.
pub(super) fn save_prospect(
    conn: &mut Connection,
    data: NewProspect,
    queue: bool,
) -> StoreResult<(Prospect, bool)> {
    let created_at = now_utc();
    let tx = savepoint(conn).map_err(db_err)?;
    if let Some(found) = data
        .source
        .as_deref()
        .map(|s| prospect_by_source(&tx, s))
        .transpose()?
        .flatten()
    {
        return Ok((found, false));
    }
    tx.execute(
        "INSERT INTO prospects (created_at, status, name, phone, zone, plan_mbps, price, \
         channel, user, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            created_at,
            data.initial_status(),
            data.name,
            data.phone,
            data.zone,
            data.plan_mbps,
            data.price,
            data.key.channel.as_str(),
            data.key.user,
            data.source
        ],
    )
    .map_err(db_err)?;
    let seq = tx.last_insert_rowid();
    let id = prospect_id(seq.max(0) as u64);
    tx.execute(
        "UPDATE prospects SET id = ?1 WHERE seq = ?2",
        params![id, seq],
    )
    .map_err(db_err)?;
    let prospect = Prospect {
        id,
        created_at,
        status: data.initial_status().to_string(),
        data,
    };
    if queue {
        queue_sheet_row(&tx, &prospect.id, PROSPECTS, &prospect)?;
    }
    tx.commit().map_err(db_err)?;
    Ok((prospect, true))
}

/// Creates an incident, unless the message it comes from made one already: the incident, and
/// whether it is new.
pub(super) fn create_incident(
    conn: &mut Connection,
    data: NewIncident,
    queue: bool,
) -> StoreResult<(Incident, bool)> {
    let created_at = now_utc();
    let tx = savepoint(conn).map_err(db_err)?;
    if let Some(source) = data.source.as_deref() {
        let found = tx
            .query_row(
                &format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE source = ?1"),
                params![source],
                IncidentRow::read,
            )
            .optional()
            .map_err(db_err)?;
        if let Some(row) = found {
            return Ok((row.into_incident()?, false));
        }
    }
    tx.execute(
        "INSERT INTO incidents (status, created_at, technician, client_id, client_name, kind, \
         description, priority, zone, phone, channel, user, source, sheet_status) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        params![
            NEW_STATUS,
            created_at,
            UNASSIGNED,
            data.client_id,
            data.client_name,
            data.kind.as_str(),
            data.description,
            data.priority.as_str(),
            data.zone,
            data.phone,
            data.key.channel.as_str(),
            data.key.user,
            data.source,
            // The Estado the sheet's row starts with: a change staff make there is a change.
            queue.then_some(NEW_STATUS)
        ],
    )
    .map_err(db_err)?;
    let seq = tx.last_insert_rowid();
    let id = incident_id(seq.max(0) as u64);
    tx.execute(
        "UPDATE incidents SET id = ?1 WHERE seq = ?2",
        params![id, seq],
    )
    .map_err(db_err)?;
    let incident = Incident {
        id,
        status: NEW_STATUS.to_string(),
        created_at,
        technician: UNASSIGNED.to_string(),
        data,
    };
    if queue {
        queue_sheet_row(&tx, &incident.id, INCIDENTS, &incident)?;
    }
    tx.commit().map_err(db_err)?;
    Ok((incident, true))
}

/// Queues a record for its sheet tab, in the transaction that saves it.
pub(super) fn queue_sheet_row(
    tx: &Connection,
    id: &str,
    tab: &str,
    record: &impl serde::Serialize,
) -> StoreResult<()> {
    let json = serde_json::to_string(record)
        .map_err(|e| StoreError::Invalid(format!("cannot serialize a {tab} row: {e}")))?;
    tx.execute(
        "INSERT INTO sheet_outbox (id, tab, record, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![id, tab, json, now_utc()],
    )
    .map_err(db_err)?;
    Ok(())
}

pub(super) fn incidents_for(
    conn: &mut Connection,
    key: &ConversationKey,
) -> StoreResult<Vec<Incident>> {
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {INCIDENT_COLUMNS} FROM incidents \
             WHERE channel = ?1 AND user = ?2 ORDER BY seq DESC"
        ))
        .map_err(db_err)?;
    let rows = stmt
        .query_map(params![key.channel.as_str(), key.user], IncidentRow::read)
        .map_err(db_err)?;
    let mut incidents = Vec::new();
    for row in rows {
        incidents.push(row.map_err(db_err)?.into_incident()?);
    }
    Ok(incidents)
}

pub(super) fn open_incidents_by_priority(
    conn: &mut Connection,
) -> StoreResult<Vec<(Priority, u64)>> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT priority, COUNT(*) FROM incidents \
             WHERE status NOT IN ('Resuelto', 'Cerrado', 'Cancelado') GROUP BY priority",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map([], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, i64>(1)?))
        })
        .map_err(db_err)?;
    let mut counts: Vec<(Priority, u64)> = Priority::ALL.into_iter().map(|p| (p, 0)).collect();
    for row in rows {
        let (priority, n) = row.map_err(db_err)?;
        match Priority::parse(&priority) {
            Some(p) => {
                if let Some(slot) = counts.iter_mut().find(|(q, _)| *q == p) {
                    slot.1 += n.max(0) as u64;
                }
            }
            // A priority typed by hand that we do not know: left out of the counts.
            None => tracing::warn!(
                backend = "sqlite",
                "open incidents with an unknown priority"
            ),
        }
    }
    Ok(counts)
}

/// Records a request; a replayed message's request of the same kind is recorded once.
pub(super) fn record_request(conn: &mut Connection, request: PendingRequest) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT OR IGNORE INTO requests (kind, text, channel, user, created_at, source) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            request.kind,
            request.text,
            request.key.channel.as_str(),
            request.key.user,
            now_utc(),
            request.source
        ])
    })
    .map(|_| ())
    .map_err(db_err)
}
