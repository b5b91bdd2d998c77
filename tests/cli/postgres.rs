//! `redsol` over PostgreSQL (`REDSOL_DATABASE_URL`), as an operator runs it: a registration
//! made in the console lands in the database, in the schema the URL names. Needs
//! `REDSOL_TEST_DATABASE_URL` (`.ci/run` sets it); says it was skipped without it.

/// Runs `sql` on the test database.
fn sql<T>(
    url: &str,
    work: impl for<'c> FnOnce(
        &'c tokio_postgres::Client,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = T> + 'c>>,
) -> T {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .expect("PostgreSQL reachable");
        tokio::spawn(connection);
        work(&client).await
    })
}

#[test]
fn a_registration_in_the_console_lands_in_postgresql() {
    let Ok(url) = std::env::var("REDSOL_TEST_DATABASE_URL") else {
        eprintln!(
            "skipped: REDSOL_TEST_DATABASE_URL is not set (a PostgreSQL database; .ci/run sets it)"
        );
        return;
    };
    let schema = format!("cli_{}", std::process::id());
    let create = format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}");
    sql(&url, |c| {
        Box::pin(async move { c.batch_execute(&create).await.expect("schema") })
    });
    let sep = if url.contains('?') { '&' } else { '?' };
    let in_schema = format!("{url}{sep}options=-c%20search_path%3D{schema}");

    let data = tempfile::tempdir().expect("tempdir");
    let mut cmd = crate::redsol();
    cmd.args(["chat", "--name", "Juan Pérez"])
        .env("REDSOL_DATA_DIR", data.path())
        .env("REDSOL_DATABASE_URL", &in_schema);
    let out = crate::support::run_piped(cmd, "quiero contratar\nla nortee\nel de 100 megas\nsí\n");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Registro exitoso"), "{stdout}");
    // Nothing went to an embedded store instead.
    assert!(!data.path().join("redsol.db").exists());

    let query = format!(
        "SELECT name, zone, plan_mbps, (SELECT COUNT(*) FROM {schema}.clients) \
         FROM {schema}.prospects"
    );
    let rows: Vec<(String, String, i32, i64)> = sql(&url, |c| {
        Box::pin(async move {
            c.query(&query, &[])
                .await
                .expect("prospects")
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
                .collect()
        })
    });
    assert_eq!(
        rows,
        [("Juan Pérez".to_string(), "Norte".to_string(), 100, 536)],
        "the prospect, next to the 536 demo clients"
    );
    // A second run finds the schema migrated and the clients seeded: nothing twice.
    let mut cmd = crate::redsol();
    cmd.args(["chat"])
        .env("REDSOL_DATA_DIR", data.path())
        .env("REDSOL_DATABASE_URL", &in_schema);
    let again = crate::support::run_piped(cmd, "hola\n");
    assert!(again.status.success());
    let count = format!("SELECT COUNT(*) FROM {schema}.clients");
    let clients: i64 = sql(&url, |c| {
        Box::pin(async move { c.query_one(&count, &[]).await.expect("count").get(0) })
    });
    assert_eq!(clients, 536, "seeded once");
    let drop = format!("DROP SCHEMA {schema} CASCADE");
    sql(&url, |c| {
        Box::pin(async move { c.batch_execute(&drop).await.expect("drop") })
    });
}
