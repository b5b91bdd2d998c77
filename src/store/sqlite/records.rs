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
}

impl IncidentRow {
    fn into_incident(self) -> StoreResult<Incident> {
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
            },
        })
    }
}

pub(super) fn save_prospect(
    conn: &mut Connection,
    data: NewProspect,
    queue: bool,
) -> StoreResult<Prospect> {
    let created_at = now_utc();
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    tx.execute(
        "INSERT INTO prospects (created_at, status, name, phone, zone, plan_mbps, price, \
         channel, user) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            created_at,
            data.initial_status(),
            data.name,
            data.phone,
            data.zone,
            data.plan_mbps,
            data.price,
            data.key.channel.as_str(),
            data.key.user
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
    Ok(prospect)
}

pub(super) fn create_incident(
    conn: &mut Connection,
    data: NewIncident,
    queue: bool,
) -> StoreResult<Incident> {
    let created_at = now_utc();
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(db_err)?;
    tx.execute(
        "INSERT INTO incidents (status, created_at, technician, client_id, client_name, kind, \
         description, priority, zone, phone, channel, user) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
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
            data.key.user
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
    Ok(incident)
}

/// Queues a record for its sheet tab, in the transaction that saves it.
pub(super) fn queue_sheet_row(
    tx: &rusqlite::Transaction<'_>,
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
        .prepare_cached(
            "SELECT id, status, created_at, technician, client_id, client_name, kind, \
             description, priority, zone, phone, channel, user \
             FROM incidents WHERE channel = ?1 AND user = ?2 ORDER BY seq DESC",
        )
        .map_err(db_err)?;
    let rows = stmt
        .query_map(params![key.channel.as_str(), key.user], |row| {
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
            })
        })
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

pub(super) fn record_request(conn: &mut Connection, request: PendingRequest) -> StoreResult<()> {
    conn.prepare_cached(
        "INSERT INTO requests (kind, text, channel, user, created_at) \
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut stmt| {
        stmt.execute(params![
            request.kind,
            request.text,
            request.key.channel.as_str(),
            request.key.user,
            now_utc()
        ])
    })
    .map(|_| ())
    .map_err(db_err)
}
