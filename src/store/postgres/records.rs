//! The records staff read: clients, prospects, incidents and requests. A record made by a
//! message is keyed by it (`source`), so a replayed message, on any replica, finds its record
//! instead of writing a second one: the unique key decides, not a check before the insert.

use super::{db_err, name_row, out_of_range, parse_channel, PgStore};
use deadpool_postgres::GenericClient;
use redsol_actors::model::{
    Client, ConversationKey, Incident, IncidentKind, NewIncident, NewProspect, PendingRequest,
    Priority, Prospect,
};
use redsol_actors::store::{incident_id, now_utc, prospect_id, StoreError, StoreResult};
use tokio_postgres::Row;

/// The status of a new prospect or incident, and the technician of a new incident.
const NEW_STATUS: &str = "Nuevo";
const UNASSIGNED: &str = "Sin asignar";

fn to_u32(v: i32, what: &str) -> StoreResult<u32> {
    u32::try_from(v).map_err(|_| out_of_range(what))
}

fn to_i32(v: u32, what: &str) -> StoreResult<i32> {
    i32::try_from(v).map_err(|_| out_of_range(what))
}

pub(super) async fn seed_clients(
    client: &mut deadpool_postgres::Client,
    seed: impl FnOnce() -> Vec<Client>,
) -> anyhow::Result<()> {
    let count: i64 = client
        .query_one("SELECT COUNT(*) FROM clients", &[])
        .await?
        .get(0);
    if count > 0 {
        return Ok(());
    }
    let clients = seed();
    let tx = client.transaction().await?;
    let insert = tx
        .prepare(
            "INSERT INTO clients (id, name, email, zone, phone, plan_mbps, price, status, \
             signup_date) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
        )
        .await?;
    for c in &clients {
        let (mbps, price) = (to_i32(c.plan_mbps, "plan")?, to_i32(c.price, "price")?);
        tx.execute(
            &insert,
            &[
                &c.id,
                &c.name,
                &c.email,
                &c.zone,
                &c.phone,
                &mbps,
                &price,
                &c.status,
                &c.signup_date,
            ],
        )
        .await?;
    }
    tx.commit().await?;
    if !clients.is_empty() {
        tracing::info!(clients = clients.len(), "clients seeded");
    }
    Ok(())
}

pub(super) async fn load_clients(client: &impl GenericClient) -> anyhow::Result<Vec<Client>> {
    let rows = client
        .query(
            "SELECT id, name, email, zone, phone, plan_mbps, price, status, signup_date \
             FROM clients ORDER BY seq",
            &[],
        )
        .await?;
    let mut clients = Vec::with_capacity(rows.len());
    for row in rows {
        clients.push(Client {
            id: row.get(0),
            name: row.get(1),
            email: row.get(2),
            zone: row.get(3),
            phone: row.get(4),
            plan_mbps: to_u32(row.get(5), "a client's plan")?,
            price: to_u32(row.get(6), "a client's price")?,
            status: row.get(7),
            signup_date: row.get(8),
        });
    }
    Ok(clients)
}

/// The columns [`incident`] reads, in its order.
pub(super) const INCIDENT_COLUMNS: &str =
    "id, status, created_at, technician, client_id, client_name, \
     kind, description, priority, zone, phone, channel, user_id, source";

pub(super) fn incident(row: &Row) -> StoreResult<Incident> {
    let kind: String = row.get(6);
    let priority: String = row.get(8);
    let channel: String = row.get(11);
    Ok(Incident {
        id: row.get::<_, Option<String>>(0).unwrap_or_default(),
        status: row.get(1),
        created_at: row.get(2),
        technician: row.get(3),
        data: NewIncident {
            client_id: row.get(4),
            client_name: row.get(5),
            kind: IncidentKind::parse(&kind)
                .ok_or_else(|| StoreError::Invalid("unknown incident kind in the store".into()))?,
            description: row.get(7),
            priority: Priority::parse(&priority)
                .ok_or_else(|| StoreError::Invalid("unknown priority in the store".into()))?,
            zone: row.get(9),
            phone: row.get(10),
            key: ConversationKey::new(parse_channel(&channel)?, row.get::<_, String>(12)),
            source: row.get(13),
        },
    })
}

/// The columns [`prospect`] reads, selected.
const PROSPECT_SELECT: &str = "SELECT id, created_at, status, name, phone, zone, plan_mbps, \
     price, channel, user_id, source FROM prospects";

fn prospect(row: &Row) -> StoreResult<Prospect> {
    let status: String = row.get(2);
    let channel: String = row.get(8);
    Ok(Prospect {
        id: row.get::<_, Option<String>>(0).unwrap_or_default(),
        created_at: row.get(1),
        data: NewProspect {
            name: row.get(3),
            phone: row.get(4),
            zone: row.get(5),
            plan_mbps: to_u32(row.get(6), "a prospect's plan")?,
            price: to_u32(row.get(7), "a prospect's price")?,
            key: ConversationKey::new(parse_channel(&channel)?, row.get::<_, String>(9)),
            outside_coverage: status == "Sin cobertura",
            source: row.get(10),
        },
        status,
    })
}

/// The `seq` of the row an `INSERT … ON CONFLICT (source) DO NOTHING RETURNING seq` into
/// `table` made (named after its place by `make`), or, when the same source made one before,
/// of that one.
async fn made_or_kept(
    conn: &impl GenericClient,
    inserted: Option<Row>,
    table: &str,
    make: fn(u64) -> String,
    source: &Option<String>,
) -> StoreResult<i64> {
    match inserted {
        Some(row) => {
            let seq: i64 = row.get(0);
            name_row(conn, table, seq, make).await?;
            Ok(seq)
        }
        None => conn
            .query_one(
                &format!("SELECT seq FROM {table} WHERE source = $1"),
                &[source],
            )
            .await
            .map(|row| row.get(0))
            .map_err(db_err),
    }
}

impl PgStore {
    /// Saves a prospect, unless the message it comes from made one already (then that one is
    /// returned).
    pub async fn save_prospect(&self, data: NewProspect) -> StoreResult<Prospect> {
        self.timed("save_prospect", async {
            let mut conn = self.conn().await?;
            let tx = conn.transaction().await.map_err(db_err)?;
            // A replay finds its prospect (the unique source still decides a race).
            if let Some(source) = &data.source {
                let found = tx
                    .query_opt(&format!("{PROSPECT_SELECT} WHERE source = $1"), &[source])
                    .await
                    .map_err(db_err)?;
                if let Some(row) = found {
                    return prospect(&row);
                }
            }
            let (mbps, price) = (
                to_i32(data.plan_mbps, "plan")?,
                to_i32(data.price, "price")?,
            );
            let inserted = tx
                .query_opt(
                    "INSERT INTO prospects (created_at, status, name, phone, zone, plan_mbps, \
                     price, channel, user_id, source) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                     ON CONFLICT (source) DO NOTHING RETURNING seq",
                    &[
                        &now_utc(),
                        &data.initial_status(),
                        &data.name,
                        &data.phone,
                        &data.zone,
                        &mbps,
                        &price,
                        &data.key.channel.as_str(),
                        &data.key.user,
                        &data.source,
                    ],
                )
                .await
                .map_err(db_err)?;
            let seq = made_or_kept(&tx, inserted, "prospects", prospect_id, &data.source).await?;
            let row = tx
                .query_one(&format!("{PROSPECT_SELECT} WHERE seq = $1"), &[&seq])
                .await
                .map_err(db_err)?;
            let saved = prospect(&row)?;
            tx.commit().await.map_err(db_err)?;
            Ok(saved)
        })
        .await
    }

    /// Creates an incident, unless the message it comes from made one already (then that one
    /// is returned).
    pub async fn create_incident(&self, data: NewIncident) -> StoreResult<Incident> {
        self.timed("create_incident", async {
            let mut conn = self.conn().await?;
            let tx = conn.transaction().await.map_err(db_err)?;
            // A replay finds its incident (the unique source still decides a race).
            if let Some(source) = &data.source {
                let found = tx
                    .query_opt(
                        &format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE source = $1"),
                        &[source],
                    )
                    .await
                    .map_err(db_err)?;
                if let Some(row) = found {
                    return incident(&row);
                }
            }
            let inserted = tx
                .query_opt(
                    "INSERT INTO incidents (status, created_at, technician, client_id, \
                     client_name, kind, description, priority, zone, phone, channel, user_id, \
                     source) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
                     ON CONFLICT (source) DO NOTHING RETURNING seq",
                    &[
                        &NEW_STATUS,
                        &now_utc(),
                        &UNASSIGNED,
                        &data.client_id,
                        &data.client_name,
                        &data.kind.as_str(),
                        &data.description,
                        &data.priority.as_str(),
                        &data.zone,
                        &data.phone,
                        &data.key.channel.as_str(),
                        &data.key.user,
                        &data.source,
                    ],
                )
                .await
                .map_err(db_err)?;
            let seq = made_or_kept(&tx, inserted, "incidents", incident_id, &data.source).await?;
            let row = tx
                .query_one(
                    &format!("SELECT {INCIDENT_COLUMNS} FROM incidents WHERE seq = $1"),
                    &[&seq],
                )
                .await
                .map_err(db_err)?;
            let saved = incident(&row)?;
            tx.commit().await.map_err(db_err)?;
            Ok(saved)
        })
        .await
    }

    /// The incidents reported from one conversation, newest first.
    pub async fn incidents_for(&self, key: &ConversationKey) -> StoreResult<Vec<Incident>> {
        self.timed("incidents_for", async {
            let conn = self.conn().await?;
            let rows = conn
                .query(
                    &format!(
                        "SELECT {INCIDENT_COLUMNS} FROM incidents \
                         WHERE channel = $1 AND user_id = $2 ORDER BY seq DESC"
                    ),
                    &[&key.channel.as_str(), &key.user],
                )
                .await
                .map_err(db_err)?;
            rows.iter().map(incident).collect()
        })
        .await
    }

    /// Open incidents counted by priority (every priority, zero when none).
    pub async fn open_incidents_by_priority(&self) -> StoreResult<Vec<(Priority, u64)>> {
        self.timed("open_incidents_by_priority", async {
            let conn = self.conn().await?;
            let rows = conn
                .query(
                    "SELECT priority, COUNT(*) FROM incidents \
                     WHERE status NOT IN ('Resuelto', 'Cerrado', 'Cancelado') GROUP BY priority",
                    &[],
                )
                .await
                .map_err(db_err)?;
            let mut counts: Vec<(Priority, u64)> =
                Priority::ALL.into_iter().map(|p| (p, 0)).collect();
            for row in rows {
                let priority: String = row.get(0);
                let n: i64 = row.get(1);
                match Priority::parse(&priority) {
                    Some(p) => {
                        if let Some(slot) = counts.iter_mut().find(|(q, _)| *q == p) {
                            slot.1 += n.max(0) as u64;
                        }
                    }
                    None => tracing::warn!(
                        backend = "postgres",
                        "open incidents with an unknown priority"
                    ),
                }
            }
            Ok(counts)
        })
        .await
    }

    /// Records a request for staff; a replayed message's request of the same kind once.
    pub async fn record_request(&self, request: PendingRequest) -> StoreResult<()> {
        self.timed("record_request", async {
            let conn = self.conn().await?;
            conn.execute(
                "INSERT INTO requests (kind, text, channel, user_id, created_at, source) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                &[
                    &request.kind,
                    &request.text,
                    &request.key.channel.as_str(),
                    &request.key.user,
                    &now_utc(),
                    &request.source,
                ],
            )
            .await
            .map_err(db_err)?;
            Ok(())
        })
        .await
    }
}
