//! Two `redsol run` replicas on one PostgreSQL schema with one bot: only the leader long-polls
//! Telegram. When it is killed with SIGKILL, the other leads and polls within 10 s, takes over
//! the dead one's conversations, and every update is answered once: none lost (Telegram hands
//! out again what the dead leader took without confirming) and none twice (the journal knows
//! what was answered). Needs `REDSOL_TEST_DATABASE_URL`; says it was skipped without it.

use crate::fake::{update, FakeTelegram};
use crate::harness::TOKEN;
use crate::support::{http_get, Server};
use std::time::{Duration, Instant};

/// Runs `sql` on the test database.
async fn sql(url: &str, sql: &str) {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .expect("PostgreSQL reachable");
    tokio::spawn(connection);
    client.batch_execute(sql).await.expect("sql");
}

fn leads(server: &Server) -> bool {
    http_get(&server.addr, "/metrics")
        .lines()
        .any(|l| l == "redsol_leader 1")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_polling_leader_dies_another_replica_polls_and_answers_every_update_once() {
    let Ok(url) = std::env::var("REDSOL_TEST_DATABASE_URL") else {
        eprintln!(
            "skipped: REDSOL_TEST_DATABASE_URL is not set (a PostgreSQL database; .ci/run sets it)"
        );
        return;
    };
    let schema = format!("tgfail_{}", std::process::id());
    sql(
        &url,
        &format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"),
    )
    .await;
    let sep = if url.contains('?') { '&' } else { '?' };
    let in_schema = format!("{url}{sep}options=-c%20search_path%3D{schema}");
    let fake = FakeTelegram::start(TOKEN).await;
    let envs = [
        ("REDSOL_DATABASE_URL", in_schema.as_str()),
        ("TELEGRAM_BOT_TOKEN", TOKEN),
        ("TELEGRAM_API_URL", fake.url.as_str()),
    ];
    let (one, two) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let mut first = Server::start(&["--mode", "telegram"], one.path(), &envs);
    let waited = Instant::now();
    while !leads(&first) {
        assert!(waited.elapsed() < Duration::from_secs(20), "nobody leads");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let second = Server::start(&["--mode", "telegram"], two.path(), &envs);
    assert!(!leads(&second), "one leader");

    // Five users talk to the leader.
    let users: Vec<_> = (0..5)
        .map(|n| update::user(7100 + n, "Ana", None))
        .collect();
    for user in &users {
        fake.push("message", update::text(user, "hola"));
    }
    fake.wait_for(5).await;
    let polls_before = fake.calls("getupdates").len();

    // The leader dies, and its conversations' next messages wait for whoever polls next.
    first.child.kill().expect("kill -9");
    first.child.wait().expect("reaped");
    let killed = Instant::now();
    for user in &users {
        fake.push(
            "message",
            update::text(user, "cuanto cuesta el plan de 50?"),
        );
    }
    // The poller follows the leadership at once: leading is polling.
    while !leads(&second) {
        assert!(killed.elapsed() < Duration::from_secs(10), "no new leader");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let polling_after = killed.elapsed();
    fake.wait_until("the new leader polling", |f| {
        f.calls("getupdates").len() > polls_before
    })
    .await;
    let sent = fake.wait_for(10).await;
    let answered_after = killed.elapsed();
    println!(
        "failover: the other replica polled {:.1} s after the kill and answered all in {:.1} s",
        polling_after.as_secs_f64(),
        answered_after.as_secs_f64()
    );
    // Each user: one greeting, one price; nothing twice.
    for user in 0..5 {
        let theirs: Vec<&str> = sent
            .iter()
            .filter(|s| s.chat_id == 7100 + user)
            .map(|s| s.text.as_str())
            .collect();
        assert_eq!(theirs.len(), 2, "{theirs:?}");
        assert!(theirs[0].contains("Hola"), "{theirs:?}");
        assert!(theirs[1].contains("$450"), "{theirs:?}");
    }
    // Nothing more comes (a second answer would arrive within the lease and a sweep).
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(fake.sent().len(), 10, "{:#?}", fake.sent());
    let (ok, _) = second.terminate();
    assert!(ok, "clean exit");
    sql(&url, &format!("DROP SCHEMA {schema} CASCADE")).await;
}
