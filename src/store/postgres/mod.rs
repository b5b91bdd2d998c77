//! The PostgreSQL store (`REDSOL_DATABASE_URL=postgres://…`), for replicas that share one
//! system of record.
//!
//! A small pool of `tokio-postgres` connections (deadpool), each with a statement timeout;
//! every operation also has a deadline of its own, so a slow database degrades an answer and
//! never hangs a conversation. The schema is versioned ([`schema`]) and migrated at start under
//! an advisory lock. Records keep SQLite's shapes (ids, text dates), so both backends read
//! back the same values.
//!
//! Replicas share the outbox: each claims the replies it makes (`claimed_by`, renewed at every
//! sweep), reads back only its own, nobody's or those whose claim lapsed, and takes them with
//! `FOR UPDATE SKIP LOCKED`; a replica that stops leaves its replies to the others once its
//! claim runs out.

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Runtime};
use redsol_actors::model::{Channel, Client};
use redsol_actors::store::{StoreError, StoreResult};
use std::future::Future;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

mod claims;
mod handoffs;
pub mod leader;
mod notices;
#[cfg(test)]
mod notices_tests;
mod outages;
mod ownership;
#[cfg(test)]
mod ownership_tests;
mod payments;
#[cfg(test)]
mod payments_tests;
mod records;
#[cfg(test)]
mod replica_tests;
mod retention;
mod schema;
mod seam;
#[cfg(test)]
mod tests;
mod tickets;
mod turns;

/// How the store reaches the database.
#[derive(Clone, Debug)]
pub struct PgSettings {
    /// Connections kept at most.
    pub pool_size: usize,
    /// Connecting, and waiting for a free connection, each at most this long.
    pub connect_timeout: Duration,
    /// One operation (its statements and the wait for a connection) at most this long.
    pub op_timeout: Duration,
    /// How long a replica's claim on the outbox replies it made holds without being renewed
    /// (its sender renews it at every sweep); past it another replica takes them over.
    pub outbox_lease: Duration,
    /// How long this process's lease on a conversation holds without being renewed (it renews
    /// them every quarter of it); past it, another replica takes the conversation over.
    pub conversation_lease: Duration,
    /// This process's name among the replicas, the same across its restarts (so a restarted
    /// process finds its replies its own at once); `None`: a random one.
    pub replica: Option<String>,
}

impl Default for PgSettings {
    fn default() -> Self {
        PgSettings {
            pool_size: 8,
            connect_timeout: Duration::from_secs(5),
            op_timeout: Duration::from_secs(5),
            outbox_lease: Duration::from_secs(60),
            conversation_lease: Duration::from_secs(5),
            replica: None,
        }
    }
}

/// The PostgreSQL store. Cheap to clone (the pool is shared).
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    clients: Arc<Vec<Client>>,
    version: i64,
    op_timeout: Duration,
    /// This process among the replicas (random at start): its claims on outbox replies.
    replica: Arc<str>,
    outbox_lease: Duration,
    /// This process among the owners of conversations: `<replica>.<random>` (ownership.rs).
    me: Arc<str>,
    conversation_lease: Duration,
    /// The conversations other replicas handed this process messages for, and their wake-up.
    handed: Arc<ownership::Handed>,
}

impl std::fmt::Debug for PgStore {
    // The URL may hold a password: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore")
            .field("schema_version", &self.version)
            .field("clients", &self.clients.len())
            .finish()
    }
}

/// The pool for `url`; `options` are the server settings of each connection (`-c name=value`).
fn pool(url: &str, settings: &PgSettings, options: &str) -> anyhow::Result<Pool> {
    let manager = Manager::from_config(
        config(url, settings, options)?,
        tokio_postgres::NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(settings.pool_size.max(1))
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(settings.connect_timeout))
        .create_timeout(Some(settings.connect_timeout))
        .recycle_timeout(Some(settings.connect_timeout))
        .build()
        .map_err(|e| anyhow::anyhow!("cannot build the PostgreSQL pool: {e}"))
}

/// How a connection to `url` is made: its timeouts, and `options` (server settings, `-c
/// name=value`) after the URL's own.
fn config(
    url: &str,
    settings: &PgSettings,
    options: &str,
) -> anyhow::Result<tokio_postgres::Config> {
    // The parser's error may quote the URL, password included: not passed on.
    let mut config = tokio_postgres::Config::from_str(url).map_err(|_| {
        anyhow::anyhow!(
            "REDSOL_DATABASE_URL is not a PostgreSQL URL (postgres://user[:password]@host[:port]/database)"
        )
    })?;
    config.connect_timeout(settings.connect_timeout);
    config.application_name("redsol");
    let statement_ms = settings.op_timeout.as_millis();
    // The URL's own `options` (say, a search_path) are kept.
    let given = config.get_options().unwrap_or_default().to_string();
    config.options(format!("-c statement_timeout={statement_ms} {given} {options}").trim());
    Ok(config)
}

impl PgStore {
    /// Connects to `url`, migrates the schema and loads the clients; when there are none,
    /// `seed()` is called and its clients inserted in one transaction (the first start).
    pub async fn connect(
        url: &str,
        settings: &PgSettings,
        seed: impl FnOnce() -> Vec<Client>,
    ) -> anyhow::Result<PgStore> {
        Self::connect_with(url, settings, "", seed).await
    }

    /// [`Self::connect`] with extra server settings for every connection (the tests give each
    /// a schema of its own with `-c search_path=…`).
    pub async fn connect_with(
        url: &str,
        settings: &PgSettings,
        options: &str,
        seed: impl FnOnce() -> Vec<Client>,
    ) -> anyhow::Result<PgStore> {
        let pool = pool(url, settings, options)?;
        let mut client = pool
            .get()
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to PostgreSQL: {e}"))?;
        let version = schema::migrate(&mut client).await?;
        records::seed_clients(&mut client, seed).await?;
        let clients = records::load_clients(&client).await?;
        drop(client);
        tracing::info!(
            schema_version = version,
            clients = clients.len(),
            "PostgreSQL store open"
        );
        let replica: Arc<str> = settings
            .replica
            .clone()
            .filter(|r| !r.is_empty() && r.chars().all(|c| c.is_ascii_hexdigit()))
            .unwrap_or_else(|| format!("{:016x}", fastrand::u64(..)))
            .into();
        let store = PgStore {
            pool,
            clients: Arc::new(clients),
            version,
            op_timeout: settings.op_timeout,
            me: format!("{replica}.{:08x}", fastrand::u32(..)).into(),
            replica,
            outbox_lease: settings.outbox_lease,
            conversation_lease: settings.conversation_lease,
            handed: Arc::default(),
        };
        store.tend_outbox();
        store.tend_leases();
        store.listen(url, settings, options).await?;
        Ok(store)
    }

    /// The schema version of `url`'s database, and the version this build brings it to: for
    /// `redsol status --check` (nothing is changed).
    pub async fn check(url: &str, settings: &PgSettings) -> anyhow::Result<(i64, i64)> {
        let pool = pool(url, settings, "")?;
        let client = pool
            .get()
            .await
            .map_err(|e| anyhow::anyhow!("cannot connect to PostgreSQL: {e}"))?;
        let at = schema::version(&client)
            .await
            .map_err(|e| anyhow::anyhow!("cannot read the schema version: {e}"))?;
        Ok((at, schema::MIGRATIONS.len() as i64))
    }

    /// Whether the database answers a trivial query now.
    pub async fn ping(&self) -> StoreResult<()> {
        self.timed("ping", async {
            let conn = self.conn().await?;
            conn.query_one("SELECT 1", &[]).await.map_err(db_err)?;
            Ok(())
        })
        .await
    }

    /// The schema version the database is at.
    pub fn schema_version(&self) -> i64 {
        self.version
    }

    /// Every client (loaded at start).
    pub fn clients(&self) -> Arc<Vec<Client>> {
        Arc::clone(&self.clients)
    }

    /// A connection of the pool.
    async fn conn(&self) -> StoreResult<deadpool_postgres::Object> {
        self.pool
            .get()
            .await
            .map_err(|e| StoreError::Unavailable(format!("postgres: no connection: {e}")))
    }

    /// Runs one statement as operation `op` (a connection of the pool, the operation's
    /// deadline); the rows it changed.
    async fn execute(
        &self,
        op: &'static str,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> StoreResult<u64> {
        self.timed(op, async {
            let conn = self.conn().await?;
            conn.execute(sql, params).await.map_err(db_err)
        })
        .await
    }

    /// Runs one operation within its deadline, timing it and logging a failure.
    async fn timed<T>(
        &self,
        op: &'static str,
        work: impl Future<Output = StoreResult<T>>,
    ) -> StoreResult<T> {
        self.timed_within(op, self.op_timeout, work).await
    }

    /// [`Self::timed`] with a deadline of its own (housekeeping that may take long).
    async fn timed_within<T>(
        &self,
        op: &'static str,
        deadline: Duration,
        work: impl Future<Output = StoreResult<T>>,
    ) -> StoreResult<T> {
        let started = Instant::now();
        let result = match tokio::time::timeout(deadline, work).await {
            Ok(result) => result,
            Err(_) => Err(StoreError::Unavailable(format!(
                "postgres: {op} took longer than {deadline:?}"
            ))),
        };
        observe(op, started, &result);
        result
    }
}

/// Records `redsol_store_request_seconds` and logs a failure (the op and the error: errors name
/// tables and constraints, not values).
fn observe<T>(op: &'static str, started: Instant, result: &StoreResult<T>) {
    let outcome = if result.is_ok() { "ok" } else { "error" };
    metrics::histogram!(
        "redsol_store_request_seconds",
        "backend" => "postgres",
        "op" => op,
        "outcome" => outcome
    )
    .record(started.elapsed().as_secs_f64());
    if let Err(e) = result {
        tracing::error!(backend = "postgres", op, error = %e, "store operation failed");
    }
}

/// Maps a database error to a store error: every one of them is the database's trouble.
fn db_err(e: tokio_postgres::Error) -> StoreError {
    StoreError::Unavailable(format!("postgres: {e}"))
}

/// The conversation a row names in its columns `channel` and `user` (their indexes).
fn key_at(
    row: &tokio_postgres::Row,
    channel: usize,
    user: usize,
) -> StoreResult<redsol_actors::model::ConversationKey> {
    Ok(redsol_actors::model::ConversationKey::new(
        parse_channel(row.get(channel))?,
        row.get::<_, String>(user),
    ))
}

fn parse_channel(s: &str) -> StoreResult<Channel> {
    Channel::parse(s).ok_or_else(|| StoreError::Invalid("unknown channel in the store".into()))
}

/// Names the new row `seq` of `table` after its place in the insertion order (`make(seq)`:
/// `PRO-000001`, `INC-000001`...), as the embedded store does; the id.
async fn name_row(
    conn: &impl deadpool_postgres::GenericClient,
    table: &str,
    seq: i64,
    make: fn(u64) -> String,
) -> StoreResult<String> {
    let id = make(u64::try_from(seq).unwrap_or(0));
    conn.execute(
        &format!("UPDATE {table} SET id = $1 WHERE seq = $2"),
        &[&id, &seq],
    )
    .await
    .map_err(db_err)?;
    Ok(id)
}

/// A number read back that does not fit its field.
fn out_of_range(what: &str) -> StoreError {
    StoreError::Invalid(format!("postgres: {what} out of range"))
}
