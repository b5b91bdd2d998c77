//! The PostgreSQL schema: versioned migrations in `redsol_migrations`, applied at start under an
//! advisory lock, so replicas starting together migrate once.
//!
//! Version 1 is the shape the SQLite schema reached in its 15 steps, in PostgreSQL's terms:
//! identity columns for the insertion order, `user_id` for the conversation's user (`user` is
//! reserved), the same text dates and Unix seconds, so records read back exactly as SQLite's.

use deadpool_postgres::Client;

/// The migrations, in order: migration `n` (1-based) brings the schema from version `n - 1` to
/// `n`. Append new steps; never edit a released one.
pub(super) const MIGRATIONS: &[&str] = &[
    // 1: the initial schema.
    r#"
    CREATE TABLE clients (
        seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id          TEXT UNIQUE NOT NULL,
        name        TEXT NOT NULL,
        email       TEXT NOT NULL,
        zone        TEXT NOT NULL,
        phone       TEXT NOT NULL,
        plan_mbps   INTEGER NOT NULL,
        price       INTEGER NOT NULL,
        status      TEXT NOT NULL,
        signup_date TEXT NOT NULL
    );
    CREATE TABLE prospects (
        seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id         TEXT UNIQUE,
        created_at TEXT NOT NULL,
        status     TEXT NOT NULL,
        name       TEXT NOT NULL,
        phone      TEXT,
        zone       TEXT NOT NULL,
        plan_mbps  INTEGER NOT NULL,
        price      INTEGER NOT NULL,
        channel    TEXT NOT NULL,
        user_id    TEXT NOT NULL,
        source     TEXT UNIQUE
    );
    CREATE TABLE incidents (
        seq            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id             TEXT UNIQUE,
        status         TEXT NOT NULL,
        created_at     TEXT NOT NULL,
        technician     TEXT NOT NULL,
        client_id      TEXT,
        client_name    TEXT NOT NULL,
        kind           TEXT NOT NULL,
        description    TEXT NOT NULL,
        priority       TEXT NOT NULL,
        zone           TEXT,
        phone          TEXT,
        channel        TEXT NOT NULL,
        user_id        TEXT NOT NULL,
        source         TEXT UNIQUE,
        closed_at      BIGINT,
        survey_pending BOOLEAN NOT NULL DEFAULT FALSE,
        close_source   TEXT,
        sheet_status   TEXT
    );
    CREATE INDEX incidents_by_conversation ON incidents (channel, user_id);
    CREATE TABLE requests (
        seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        kind       TEXT NOT NULL,
        text       TEXT NOT NULL,
        channel    TEXT NOT NULL,
        user_id    TEXT NOT NULL,
        created_at TEXT NOT NULL,
        source     TEXT
    );
    CREATE UNIQUE INDEX requests_by_source ON requests (source, kind) WHERE source IS NOT NULL;
    CREATE TABLE snapshots (
        channel    TEXT NOT NULL,
        user_id    TEXT NOT NULL,
        state      TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (channel, user_id)
    );
    CREATE TABLE journal (
        seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        channel     TEXT NOT NULL,
        user_id     TEXT NOT NULL,
        message_id  TEXT NOT NULL,
        payload     TEXT NOT NULL,
        done        BOOLEAN NOT NULL DEFAULT FALSE,
        received_at TEXT NOT NULL,
        UNIQUE (channel, user_id, message_id)
    );
    CREATE INDEX journal_pending ON journal (seq) WHERE NOT done;
    CREATE TABLE outbox (
        seq          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id           TEXT UNIQUE NOT NULL,
        channel      TEXT NOT NULL,
        user_id      TEXT NOT NULL,
        in_reply_to  TEXT,
        reply        TEXT NOT NULL,
        created_at   BIGINT NOT NULL,
        sent_at      TEXT,
        reply_to     TEXT,
        attempted_at TEXT,
        edit         TEXT,
        template     TEXT
    );
    CREATE INDEX outbox_unsent ON outbox (channel, seq) WHERE sent_at IS NULL;
    CREATE TABLE sheet_outbox (
        seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id         TEXT UNIQUE NOT NULL,
        tab        TEXT NOT NULL,
        record     TEXT NOT NULL,
        created_at TEXT NOT NULL,
        uncertain  BOOLEAN NOT NULL DEFAULT FALSE
    );
    CREATE TABLE sheet_cache (
        tab        TEXT PRIMARY KEY,
        rows       TEXT NOT NULL,
        fetched_at TEXT NOT NULL
    );
    CREATE TABLE handoffs (
        seq           BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id            TEXT UNIQUE,
        channel       TEXT NOT NULL,
        user_id       TEXT NOT NULL,
        name          TEXT NOT NULL,
        topic         TEXT NOT NULL,
        source        TEXT UNIQUE,
        requested_at  BIGINT NOT NULL,
        carded        BIGINT NOT NULL,
        owner_channel TEXT,
        owner_user    TEXT,
        owner_name    TEXT,
        taken_at      BIGINT,
        last_activity BIGINT NOT NULL,
        ended         TEXT,
        ended_at      BIGINT,
        taken_source  TEXT,
        ended_source  TEXT
    );
    CREATE UNIQUE INDEX handoffs_open_by_customer ON handoffs (channel, user_id)
        WHERE ended IS NULL;
    CREATE INDEX handoffs_open_by_owner ON handoffs (owner_channel, owner_user)
        WHERE ended IS NULL;
    CREATE TABLE surveys (
        seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        ticket     TEXT NOT NULL,
        client     TEXT NOT NULL,
        rating     INTEGER NOT NULL,
        comment    TEXT NOT NULL,
        created_at TEXT NOT NULL,
        source     TEXT UNIQUE
    );
    CREATE TABLE outages (
        seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id          TEXT UNIQUE,
        zone        TEXT NOT NULL,
        cause       TEXT NOT NULL,
        eta         TEXT NOT NULL,
        source      TEXT UNIQUE,
        started_at  BIGINT NOT NULL,
        resolved_at BIGINT,
        reports     BIGINT NOT NULL DEFAULT 0
    );
    CREATE UNIQUE INDEX outages_open_by_zone ON outages (zone) WHERE resolved_at IS NULL;
    CREATE TABLE outage_reports (
        outage     TEXT NOT NULL,
        channel    TEXT NOT NULL,
        user_id    TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        PRIMARY KEY (outage, channel, user_id)
    );
    CREATE TABLE contacts (
        channel      TEXT NOT NULL,
        user_id      TEXT NOT NULL,
        phone        TEXT,
        last_inbound BIGINT NOT NULL,
        opted_out    BOOLEAN NOT NULL DEFAULT FALSE,
        PRIMARY KEY (channel, user_id)
    );
    CREATE TABLE notices (
        seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id          TEXT NOT NULL UNIQUE,
        channel     TEXT NOT NULL,
        user_id     TEXT NOT NULL,
        reply       TEXT NOT NULL,
        template    TEXT,
        created_at  BIGINT NOT NULL,
        released_at BIGINT,
        hold_until  BIGINT
    );
    CREATE INDEX notices_waiting ON notices (seq) WHERE released_at IS NULL;
    CREATE TABLE payments (
        seq              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        id               TEXT UNIQUE,
        client_id        TEXT NOT NULL,
        period           TEXT NOT NULL,
        amount           BIGINT NOT NULL,
        due              TEXT NOT NULL,
        status           TEXT NOT NULL,
        reference        TEXT NOT NULL,
        paid_on          TEXT,
        receipt          TEXT,
        reporter_channel TEXT,
        reporter_user    TEXT,
        sheet_seen       TEXT,
        UNIQUE (client_id, period)
    );
    "#,
    // 2: replicas share the outbox: who made (or took over) a reply, until when.
    r#"
    ALTER TABLE outbox ADD COLUMN claimed_by TEXT;
    ALTER TABLE outbox ADD COLUMN claimed_until BIGINT;
    "#,
    // 3: replicas share the conversations (see ownership.rs).
    OWNERSHIP,
];

/// Migration 3: one lease per conversation (its owner, a fencing token that grows at each
/// change of owner, until when, and the count of its journaled messages), each journaled
/// message's place in its conversation and the replica it was handed to, and the two functions
/// that settle ownership in one round trip.
const OWNERSHIP: &str = r#"
    CREATE TABLE conversation_leases (
        channel    TEXT NOT NULL,
        user_id    TEXT NOT NULL,
        owner      TEXT NOT NULL,
        token      BIGINT NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL,
        touched_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        seq        BIGINT NOT NULL DEFAULT 0,
        PRIMARY KEY (channel, user_id)
    );
    CREATE INDEX conversation_leases_owner ON conversation_leases (owner);
    ALTER TABLE journal ADD COLUMN conv_seq BIGINT;
    ALTER TABLE journal ADD COLUMN routed_to TEXT;
    CREATE INDEX journal_waiting ON journal (channel, user_id, seq) WHERE NOT done;
    INSERT INTO conversation_leases (channel, user_id, owner, token, expires_at)
        SELECT DISTINCT channel, user_id, '', 0, 'epoch'::timestamptz FROM journal WHERE NOT done;

    -- The lease of a conversation, locked until the transaction ends: `me` takes it when it
    -- lapsed (the next token; what waited is to be handed out again) and renews it when it is
    -- its own.
    CREATE FUNCTION redsol_lease(p_channel TEXT, p_user TEXT, me TEXT, ttl_ms BIGINT,
                                 OUT lease_owner TEXT, OUT lease_token BIGINT) AS $$
    DECLARE
        lapsed BOOLEAN;
    BEGIN
        INSERT INTO conversation_leases (channel, user_id, owner, token, expires_at)
            VALUES (p_channel, p_user, '', 0, 'epoch') ON CONFLICT DO NOTHING;
        SELECT l.owner, l.token, l.expires_at <= now() INTO lease_owner, lease_token, lapsed
            FROM conversation_leases l
            WHERE l.channel = p_channel AND l.user_id = p_user FOR UPDATE;
        IF lease_owner <> me AND lapsed THEN
            lease_owner := me;
            lease_token := lease_token + 1;
            UPDATE journal j SET routed_to = NULL
                WHERE j.channel = p_channel AND j.user_id = p_user AND NOT j.done;
        END IF;
        IF lease_owner = me THEN
            UPDATE conversation_leases l SET owner = me, token = lease_token,
                expires_at = now() + ttl_ms * interval '1 millisecond', touched_at = now()
                WHERE l.channel = p_channel AND l.user_id = p_user;
        END IF;
    END $$ LANGUAGE plpgsql;

    -- Journals one message and settles who handles it: 'duplicate'; 'here' (routed by `me`
    -- now, under `lease_token`); 'pull' (`me` owns it but earlier messages wait: it takes them
    -- all); 'elsewhere' (the owner is woken on `redsol_wake`: "<owner> <channel> <user>").
    CREATE FUNCTION redsol_admit(p_channel TEXT, p_user TEXT, p_message TEXT, p_payload TEXT,
                                 p_received TEXT, me TEXT, ttl_ms BIGINT,
                                 OUT outcome TEXT, OUT lease_token BIGINT) AS $$
    DECLARE
        row_seq BIGINT;
        owner_now TEXT;
        place BIGINT;
    BEGIN
        INSERT INTO journal (channel, user_id, message_id, payload, received_at)
            VALUES (p_channel, p_user, p_message, p_payload, p_received)
            ON CONFLICT (channel, user_id, message_id) DO NOTHING RETURNING seq INTO row_seq;
        IF row_seq IS NULL THEN
            outcome := 'duplicate';
            RETURN;
        END IF;
        SELECT l.lease_owner, l.lease_token INTO owner_now, lease_token
            FROM redsol_lease(p_channel, p_user, me, ttl_ms) l;
        UPDATE conversation_leases l SET seq = l.seq + 1
            WHERE l.channel = p_channel AND l.user_id = p_user RETURNING l.seq INTO place;
        IF owner_now <> me THEN
            UPDATE journal SET conv_seq = place WHERE seq = row_seq;
            PERFORM pg_notify('redsol_wake', owner_now || ' ' || p_channel || ' ' || p_user);
            outcome := 'elsewhere';
        ELSIF EXISTS (SELECT 1 FROM journal j WHERE j.channel = p_channel
                      AND j.user_id = p_user AND NOT j.done AND j.seq <> row_seq
                      AND j.routed_to IS DISTINCT FROM me) THEN
            UPDATE journal SET conv_seq = place WHERE seq = row_seq;
            outcome := 'pull';
        ELSE
            UPDATE journal SET conv_seq = place, routed_to = me WHERE seq = row_seq;
            outcome := 'here';
        END IF;
    END $$ LANGUAGE plpgsql;
"#;

/// Any number, the same for every replica: the advisory lock held while migrating.
const MIGRATION_LOCK: i64 = 0x7265_6473_6f6c_0001;

/// The schema version the database is at (0: none yet).
pub(super) async fn version(client: &Client) -> Result<i64, tokio_postgres::Error> {
    let exists: bool = client
        .query_one("SELECT to_regclass('redsol_migrations') IS NOT NULL", &[])
        .await?
        .get(0);
    if !exists {
        return Ok(0);
    }
    client
        .query_one(
            "SELECT COALESCE(MAX(version), 0)::BIGINT FROM redsol_migrations",
            &[],
        )
        .await
        .map(|row| row.get(0))
}

/// Applies the migrations the database has not seen yet, each in its own transaction, under
/// an advisory lock (a replica starting meanwhile waits, then finds them applied). Returns the
/// version reached.
pub(super) async fn migrate(client: &mut Client) -> anyhow::Result<i64> {
    let known = MIGRATIONS.len() as i64;
    loop {
        let tx = client.transaction().await?;
        // Waiting for another replica's migration, or a long one, is not a slow statement.
        tx.batch_execute("SET LOCAL statement_timeout = 0").await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .await?;
        tx.batch_execute(
            "CREATE TABLE IF NOT EXISTS redsol_migrations (
                version    BIGINT PRIMARY KEY,
                applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )",
        )
        .await?;
        let at: i64 = tx
            .query_one(
                "SELECT COALESCE(MAX(version), 0)::BIGINT FROM redsol_migrations",
                &[],
            )
            .await?
            .get(0);
        if at > known {
            anyhow::bail!(
                "schema version {at} is newer than this build knows ({known}); refusing to touch it"
            );
        }
        if at == known {
            tx.commit().await?;
            return Ok(at);
        }
        let sql = MIGRATIONS[at as usize];
        tx.batch_execute(sql)
            .await
            .map_err(|e| anyhow::anyhow!("applying migration {}: {e}", at + 1))?;
        tx.execute(
            "INSERT INTO redsol_migrations (version) VALUES ($1)",
            &[&(at + 1)],
        )
        .await?;
        tx.commit().await?;
        tracing::info!(version = at + 1, "PostgreSQL schema migrated");
    }
}
