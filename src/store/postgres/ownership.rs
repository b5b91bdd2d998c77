//! Conversations shared by replicas: each has a lease row (`conversation_leases`) naming the
//! process that owns it, a fencing token and until when. The functions of migration 3 settle
//! a message's fate in one round trip; here are the calls, the renewal of this process's leases,
//! the fence a turn's commit passes, and the listener that wakes this process when another
//! replica hands it a message (`LISTEN redsol_wake`, the payload naming the owner).
//!
//! A process is an incarnation (`<replica>.<random>`), not its replica's name: after a restart
//! its old conversations go through a new token, and a stale actor's turn is fenced.

use super::{config, db_err, key_at, out_of_range, parse_channel, PgSettings, PgStore};
use deadpool_postgres::GenericClient;
use redsol_actors::model::ConversationKey;
use redsol_actors::store::ownership::{Admission, Ownership, Taken};
use redsol_actors::store::{BoxFuture, JournalEntry, StoreError, StoreResult};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// The notification channel replicas wake each other on (the payload: `<owner> <channel>
/// <user>`).
const WAKE: &str = "redsol_wake";
/// A lease no message touched for this long is no longer renewed; it lapses, and whichever
/// replica the conversation's next message reaches takes it.
const KEEP_IDLE_SECS: i64 = 600;
/// How long the listener waits before it connects again.
const RELISTEN: Duration = Duration::from_secs(2);

/// The conversations other replicas handed this process messages for, until it takes them.
#[derive(Default)]
pub(super) struct Handed {
    keys: std::sync::Mutex<Vec<ConversationKey>>,
    wake: Notify,
}

impl Handed {
    /// A wake-up's payload: the conversation, when it names this process (`me`).
    fn note(&self, me: &str, payload: &str) {
        let mut parts = payload.splitn(3, ' ');
        let (Some(owner), Some(channel), Some(user)) = (parts.next(), parts.next(), parts.next())
        else {
            return;
        };
        if owner != me {
            return;
        }
        let Ok(channel) = parse_channel(channel) else {
            return;
        };
        if let Ok(mut keys) = self.keys.lock() {
            keys.push(ConversationKey::new(channel, user));
        }
        self.wake.notify_one();
    }
}

impl PgStore {
    /// The lease in milliseconds, for the database.
    fn lease_ms(&self) -> i64 {
        i64::try_from(self.conversation_lease.as_millis()).unwrap_or(i64::MAX)
    }

    /// Whether `lease` is still the token under which this process owns `key` (locking the
    /// lease against a takeover until the transaction ends).
    pub(super) async fn fence(
        &self,
        conn: &impl GenericClient,
        key: &ConversationKey,
        lease: u64,
    ) -> StoreResult<()> {
        let token = i64::try_from(lease).map_err(|_| out_of_range("lease token"))?;
        let held = conn
            .query_opt(
                "SELECT 1 FROM conversation_leases WHERE channel = $1 AND user_id = $2 \
                 AND owner = $3 AND token = $4 FOR SHARE",
                &[&key.channel.as_str(), &key.user, &&*self.me, &token],
            )
            .await
            .map_err(db_err)?;
        match held {
            Some(_) => Ok(()),
            None => Err(StoreError::Fenced(
                "another replica took the conversation over".into(),
            )),
        }
    }

    /// At start: hands back the leases of this replica's earlier incarnations (a process on
    /// this host and data directory that is gone), so they are taken over at once; then,
    /// every quarter lease, renews this process's leases and publishes how many it holds.
    pub(super) fn tend_leases(&self) {
        let (pool, replica) = (self.pool.clone(), self.replica.clone());
        let lease_ms = self.lease_ms();
        let every = (self.conversation_lease / 4).max(Duration::from_millis(100));
        let timeout = self.op_timeout;
        let weak = Arc::downgrade(&self.me);
        tokio::spawn(async move {
            let released = async {
                let conn = pool.get().await.ok()?;
                conn.execute(
                    "UPDATE conversation_leases SET expires_at = 'epoch' \
                     WHERE owner LIKE $1 || '.%' AND owner <> $2",
                    &[&&*replica, &&*weak.upgrade()?],
                )
                .await
                .ok()
            };
            if let Ok(Some(n)) = tokio::time::timeout(timeout, released).await {
                if n > 0 {
                    tracing::info!(
                        leases = n,
                        "conversations of this replica's last run handed over at once"
                    );
                }
            }
            let mut failing = false;
            loop {
                let Some(me) = weak.upgrade() else {
                    return;
                };
                let renew = async {
                    let conn = pool.get().await.ok()?;
                    conn.execute(
                        "UPDATE conversation_leases \
                         SET expires_at = now() + $2::bigint * interval '1 millisecond' \
                         WHERE owner = $1 AND touched_at > now() - $3::bigint * interval '1 second'",
                        &[&&*me, &lease_ms, &KEEP_IDLE_SECS],
                    )
                    .await
                    .ok()
                };
                let renewed = tokio::time::timeout(timeout, renew).await;
                drop(me);
                // Logged once per outage, and again when renewing works again.
                match renewed {
                    Ok(Some(held)) => {
                        metrics::gauge!("redsol_conversation_leases").set(held as f64);
                        if std::mem::take(&mut failing) {
                            tracing::info!("this replica's conversation leases are renewed again");
                        }
                    }
                    _ if !failing => {
                        failing = true;
                        tracing::warn!(
                            "could not renew this replica's conversation leases; they lapse \
                             (and other replicas take the conversations over) unless the \
                             database answers again"
                        );
                    }
                    _ => {}
                }
                tokio::time::sleep(every).await;
            }
        });
    }

    /// Listens on [`WAKE`] on a connection of its own, noting the conversations handed to this
    /// process (after each connect, [`Ownership::waiting`] finds what was sent meanwhile).
    /// Returns once it listens (or could not, within the connect timeout: it keeps trying).
    pub(super) async fn listen(
        &self,
        url: &str,
        settings: &PgSettings,
        options: &str,
    ) -> anyhow::Result<()> {
        let config = config(url, settings, options)?;
        let (weak, handed) = (Arc::downgrade(&self.me), self.handed.clone());
        let connect_timeout = settings.connect_timeout;
        let (listening, first) = tokio::sync::oneshot::channel();
        let mut listening = Some(listening);
        tokio::spawn(async move {
            while weak.strong_count() > 0 {
                let connected =
                    tokio::time::timeout(connect_timeout, config.connect(tokio_postgres::NoTls))
                        .await;
                if let Ok(Ok((client, connection))) = connected {
                    listen_on(client, connection, &weak, &handed, &mut listening).await;
                }
                tokio::time::sleep(RELISTEN).await;
            }
        });
        if tokio::time::timeout(connect_timeout, first).await.is_err() {
            tracing::warn!(
                "not listening for hand-overs from other replicas yet; they are found every second meanwhile"
            );
        }
        Ok(())
    }
}

/// One listening session, until its connection ends.
async fn listen_on(
    client: tokio_postgres::Client,
    mut connection: tokio_postgres::Connection<
        tokio_postgres::Socket,
        tokio_postgres::tls::NoTlsStream,
    >,
    me: &std::sync::Weak<str>,
    handed: &Handed,
    listening: &mut Option<tokio::sync::oneshot::Sender<()>>,
) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let driver = tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(tokio_postgres::AsyncMessage::Notification(n))) => {
                    if tx.send(n.payload().to_string()).is_err() {
                        return;
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => return,
            }
        }
    });
    if client
        .batch_execute(&format!("LISTEN {WAKE}"))
        .await
        .is_ok()
    {
        if let Some(listening) = listening.take() {
            let _ = listening.send(());
        }
        while let Some(payload) = rx.recv().await {
            match me.upgrade() {
                Some(me) => handed.note(&me, &payload),
                None => break,
            }
        }
        tracing::warn!("the wake-up connection to PostgreSQL ended; connecting again");
    }
    driver.abort();
}

fn admission(outcome: &str, token: Option<i64>) -> StoreResult<Admission> {
    let lease = || {
        token
            .and_then(|t| u64::try_from(t).ok())
            .ok_or_else(|| out_of_range("lease token"))
    };
    Ok(match outcome {
        "duplicate" => Admission::Duplicate,
        "here" => Admission::Here { lease: lease()? },
        "pull" => Admission::Pull,
        "elsewhere" => Admission::Elsewhere,
        other => {
            return Err(StoreError::Invalid(format!(
                "postgres: unknown admission {other:?}"
            )))
        }
    })
}

impl Ownership for PgStore {
    fn admit_all(&self, entries: Vec<JournalEntry>) -> BoxFuture<'_, StoreResult<Vec<Admission>>> {
        Box::pin(self.timed("admit", async move {
            let mut conn = self.conn().await?;
            let tx = conn.transaction().await.map_err(db_err)?;
            let received = redsol_actors::store::now_utc();
            let mut admitted = Vec::with_capacity(entries.len());
            for entry in &entries {
                let row = tx
                    .query_one(
                        "SELECT outcome, lease_token FROM redsol_admit($1, $2, $3, $4, $5, $6, $7)",
                        &[
                            &entry.key.channel.as_str(),
                            &entry.key.user,
                            &entry.message_id,
                            &entry.payload,
                            &received,
                            &&*self.me,
                            &self.lease_ms(),
                        ],
                    )
                    .await
                    .map_err(db_err)?;
                admitted.push(admission(row.get(0), row.get(1))?);
            }
            tx.commit().await.map_err(db_err)?;
            Ok(admitted)
        }))
    }

    fn take(&self, key: ConversationKey) -> BoxFuture<'_, StoreResult<Vec<Taken>>> {
        Box::pin(self.timed("take", async move {
            let mut conn = self.conn().await?;
            let tx = conn.transaction().await.map_err(db_err)?;
            let channel = key.channel.as_str();
            let lease = tx
                .query_one(
                    "SELECT lease_owner, lease_token FROM redsol_lease($1, $2, $3, $4)",
                    &[&channel, &key.user, &&*self.me, &self.lease_ms()],
                )
                .await
                .map_err(db_err)?;
            if lease.get::<_, String>(0) != *self.me {
                tx.commit().await.map_err(db_err)?;
                return Ok(Vec::new());
            }
            let token =
                u64::try_from(lease.get::<_, i64>(1)).map_err(|_| out_of_range("lease token"))?;
            let mut rows = tx
                .query(
                    "UPDATE journal SET routed_to = $3 WHERE channel = $1 AND user_id = $2 \
                     AND NOT done AND routed_to IS DISTINCT FROM $3 \
                     RETURNING message_id, payload, COALESCE(conv_seq, 0), seq",
                    &[&channel, &key.user, &&*self.me],
                )
                .await
                .map_err(db_err)?;
            tx.commit().await.map_err(db_err)?;
            rows.sort_by_key(|row| (row.get::<_, i64>(2), row.get::<_, i64>(3)));
            Ok(rows
                .iter()
                .map(|row| Taken {
                    entry: JournalEntry {
                        key: key.clone(),
                        message_id: row.get(0),
                        payload: row.get(1),
                    },
                    lease: token,
                })
                .collect())
        }))
    }

    fn waiting(&self) -> BoxFuture<'_, StoreResult<Vec<ConversationKey>>> {
        Box::pin(self.timed("waiting", async move {
            let conn = self.conn().await?;
            let rows = conn
                .query(
                    "SELECT DISTINCT j.channel, j.user_id FROM journal j \
                     JOIN conversation_leases l ON l.channel = j.channel AND l.user_id = j.user_id \
                     WHERE NOT j.done AND j.routed_to IS DISTINCT FROM $1 \
                     AND (l.owner = $1 OR l.expires_at <= now()) LIMIT 1000",
                    &[&&*self.me],
                )
                .await
                .map_err(db_err)?;
            rows.iter().map(|row| key_at(row, 0, 1)).collect()
        }))
    }

    fn handed(&self, within: Duration) -> BoxFuture<'_, Vec<ConversationKey>> {
        Box::pin(async move {
            let _ = tokio::time::timeout(within, self.handed.wake.notified()).await;
            self.handed
                .keys
                .lock()
                .map(|mut keys| std::mem::take(&mut *keys))
                .unwrap_or_default()
        })
    }
}
