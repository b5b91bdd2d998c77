//! Savepoints and the batch's transaction from cached statements. rusqlite's `Savepoint` and
//! `Connection::execute_batch` prepare "SAVEPOINT ...", "RELEASE ..." and "BEGIN"/"COMMIT"
//! anew on every use: about 10,000 instructions each, and a message's operations ran a dozen
//! (the profile's largest store cost after the WAL). These run prepared statements from the
//! connection's cache.
//!
//! Every savepoint has the same name: SQLite releases or rolls back to the innermost one of
//! that name, which is the right one as savepoints nest.

use rusqlite::Connection;
use std::ops::Deref;

/// A savepoint: [`Savepoint::commit`] releases it; dropped without that, what ran since it
/// began is rolled back (a failing or panicking operation takes back only its own work).
pub(super) struct Savepoint<'c> {
    conn: &'c Connection,
    done: bool,
}

/// Begins a savepoint on `conn`.
pub(super) fn savepoint(conn: &Connection) -> rusqlite::Result<Savepoint<'_>> {
    run(conn, "SAVEPOINT op")?;
    Ok(Savepoint { conn, done: false })
}

/// Runs one statement without results from the cache (`BEGIN IMMEDIATE`, `COMMIT`...).
pub(super) fn run(conn: &Connection, sql: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(sql)?.execute([]).map(|_| ())
}

impl Savepoint<'_> {
    /// Keeps what ran since the savepoint began (within the enclosing transaction).
    pub(super) fn commit(mut self) -> rusqlite::Result<()> {
        self.done = true;
        run(self.conn, "RELEASE op")
    }
}

impl Deref for Savepoint<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Drop for Savepoint<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = run(self.conn, "ROLLBACK TO op").and_then(|()| run(self.conn, "RELEASE op"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(conn: &Connection) -> i64 {
        conn.query_row("SELECT COUNT(*) FROM t", [], |r| r.get(0))
            .unwrap_or(-1)
    }

    #[test]
    fn nested_savepoints_keep_or_take_back_only_their_own_work() {
        let conn = Connection::open_in_memory().expect("open");
        conn.execute_batch("CREATE TABLE t (x INTEGER)")
            .expect("table");
        run(&conn, "BEGIN IMMEDIATE").expect("begin");
        let outer = savepoint(&conn).expect("outer");
        outer
            .execute("INSERT INTO t VALUES (1)", [])
            .expect("insert");
        {
            let inner = savepoint(&outer).expect("inner");
            inner
                .execute("INSERT INTO t VALUES (2)", [])
                .expect("insert");
            // Dropped: its row goes, the outer one's stays.
        }
        assert_eq!(count(&outer), 1);
        let kept = savepoint(&outer).expect("inner");
        kept.execute("INSERT INTO t VALUES (3)", [])
            .expect("insert");
        kept.commit().expect("release");
        outer.commit().expect("release");
        let dropped = savepoint(&conn).expect("another");
        dropped
            .execute("INSERT INTO t VALUES (4)", [])
            .expect("insert");
        drop(dropped);
        run(&conn, "COMMIT").expect("commit");
        assert_eq!(count(&conn), 2, "1 and 3");
    }
}
