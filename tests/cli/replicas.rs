//! Three `redsol run` replicas on one PostgreSQL schema (and Redis, when named), driven by the
//! WhatsApp bench's replicated mode: 5,000 messages from 500 users spread round robin over
//! the replicas, 10% of them delivered again to another replica, one replica killed with
//! SIGKILL midway and started again. The bench fails (`--check 1`) unless every accepted
//! message is answered once, each user's turns follow the journal's order, every user is
//! registered once, the number's shared rate holds (with Redis) and the dead replica's
//! conversations resume within 10 s. Needs `REDSOL_TEST_DATABASE_URL`; says it was skipped
//! without it.

use std::process::Command;

#[test]
fn three_replicas_answer_every_message_once_and_in_order_through_a_kill() {
    let Some(url) = crate::support::test_database_url() else {
        return;
    };
    let mut bench = Command::new(env!("CARGO_BIN_EXE_redsol-bench-whatsapp"));
    bench.args([
        "--replicas",
        "3",
        "--users",
        "500",
        "--per-user",
        "10",
        "--rate",
        "125",
        "--redeliver-pct",
        "10",
        "--kill-at",
        "15",
        "--down-secs",
        "3",
        "--send-rate",
        "200",
        "--check",
        "1",
        "--database-url",
        &url,
    ]);
    match std::env::var("REDSOL_TEST_REDIS_URL") {
        Ok(redis) => {
            bench.args(["--redis-url", &redis]);
        }
        Err(_) => eprintln!(
            "REDSOL_TEST_REDIS_URL is not set: the replicas do not share the number's rate, and \
             the combined sending rate is not checked"
        ),
    }
    let out = bench.output().expect("the bench runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "the replicated run failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("kill -9:") && stdout.contains("restarted:"));
    assert!(stdout.contains("check:              passed"));
}
