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
    let Some(url) = crate::support::test_database_url() else {
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

/// A TCP proxy to the database that can be cut (every connection dropped, new ones refused)
/// and restored, as a network partition would.
struct Proxy {
    port: u16,
    cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
    open: std::sync::Arc<std::sync::Mutex<Vec<std::net::TcpStream>>>,
}

impl Proxy {
    fn to(upstream: String) -> Proxy {
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let cut = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let open = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (c, o) = (cut.clone(), open.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                if c.load(Ordering::Acquire) {
                    continue; // dropped: the connection is refused
                }
                let Ok(server) = std::net::TcpStream::connect(&upstream) else {
                    continue;
                };
                for (mut from, mut to) in [
                    (client.try_clone(), server.try_clone()),
                    (server.try_clone(), client.try_clone()),
                ]
                .into_iter()
                .filter_map(|(a, b)| Some((a.ok()?, b.ok()?)))
                {
                    std::thread::spawn(move || {
                        let _ = std::io::copy(&mut from, &mut to);
                        let _ = to.shutdown(std::net::Shutdown::Both);
                    });
                }
                if let Ok(mut o) = o.lock() {
                    o.extend([client, server]);
                }
            }
        });
        Proxy { port, cut, open }
    }

    fn cut(&self, cut: bool) {
        self.cut.store(cut, std::sync::atomic::Ordering::Release);
        if cut {
            if let Ok(mut open) = self.open.lock() {
                for s in open.drain(..) {
                    let _ = s.shutdown(std::net::Shutdown::Both);
                }
            }
        }
    }
}

/// Polls `/ready` (bounded) until its status line starts with `status`; the last answer.
fn ready_becomes(addr: &str, status: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let answer = crate::support::http_get(addr, "/ready");
        if answer.starts_with(status) || std::time::Instant::now() > deadline {
            return answer;
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

#[test]
fn ready_is_503_while_the_database_does_not_answer() {
    let Some(url) = crate::support::test_database_url() else {
        return;
    };
    let config: tokio_postgres::Config = url.parse().expect("a PostgreSQL URL");
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let proxy = Proxy::to(format!("127.0.0.1:{port}"));
    let schema = format!("ready_{}", std::process::id());
    let create = format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}");
    sql(&url, |c| {
        Box::pin(async move { c.batch_execute(&create).await.expect("schema") })
    });
    let user = config.get_user().unwrap_or("postgres").to_string();
    let db = config.get_dbname().unwrap_or("test").to_string();
    let through = format!(
        "postgres://{user}@127.0.0.1:{}/{db}?connect_timeout=2&options=-c%20search_path%3D{schema}",
        proxy.port
    );

    let data = tempfile::tempdir().expect("tempdir");
    let server =
        crate::support::Server::start(&[], data.path(), &[("REDSOL_DATABASE_URL", &through)]);
    assert!(ready_becomes(&server.addr, "HTTP/1.1 200").starts_with("HTTP/1.1 200"));
    proxy.cut(true);
    let down = ready_becomes(&server.addr, "HTTP/1.1 503");
    assert!(down.starts_with("HTTP/1.1 503"), "{down}");
    assert!(down.contains("the database is down"), "{down}");
    proxy.cut(false);
    let back = ready_becomes(&server.addr, "HTTP/1.1 200");
    assert!(back.starts_with("HTTP/1.1 200"), "{back}");
    let (ok, _) = server.terminate();
    assert!(ok, "graceful exit on SIGTERM");
    let drop = format!("DROP SCHEMA {schema} CASCADE");
    sql(&url, |c| {
        Box::pin(async move { c.batch_execute(&drop).await.expect("drop") })
    });
}

/// `redsol_leader` of a running replica (None while /metrics does not answer).
fn leads(server: &crate::support::Server) -> Option<bool> {
    let text = crate::support::http_get(&server.addr, "/metrics");
    text.lines()
        .find(|l| l.starts_with("redsol_leader "))
        .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v == 1.0)
}

#[test]
fn one_replica_leads_and_another_takes_over_when_it_dies() {
    let Some(url) = crate::support::test_database_url() else {
        return;
    };
    let schema = format!("leader_{}", std::process::id());
    let create = format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}");
    sql(&url, |c| {
        Box::pin(async move { c.batch_execute(&create).await.expect("schema") })
    });
    let sep = if url.contains('?') { '&' } else { '?' };
    let in_schema = format!("{url}{sep}options=-c%20search_path%3D{schema}");
    let envs = [("REDSOL_DATABASE_URL", in_schema.as_str())];
    let (one, two) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    let mut replicas = vec![
        crate::support::Server::start(&[], one.path(), &envs),
        crate::support::Server::start(&[], two.path(), &envs),
    ];
    // Bounded polls: elections run every two seconds.
    let until = |what: &dyn Fn(&[crate::support::Server]) -> bool,
                 servers: &[crate::support::Server]| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        while !what(servers) {
            assert!(std::time::Instant::now() < deadline, "no leader in time");
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
    };
    let leaders = |servers: &[crate::support::Server]| {
        servers.iter().filter(|s| leads(s) == Some(true)).count()
    };
    until(&|s| leaders(s) == 1, &replicas);
    let leader = replicas
        .iter()
        .position(|s| leads(s) == Some(true))
        .expect("a leader");
    // Never two at once while both live.
    for _ in 0..5 {
        assert_eq!(leaders(&replicas), 1);
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    // kill -9: the database ends its session, and the other replica takes over.
    let mut dead = replicas.remove(leader);
    dead.child.kill().expect("kill -9");
    let _ = dead.child.wait();
    let taken = std::time::Instant::now();
    until(&|s| leaders(s) == 1, &replicas);
    eprintln!("leader failover: {:?}", taken.elapsed());
    for server in replicas {
        let (ok, _) = server.terminate();
        assert!(ok);
    }
    let drop = format!("DROP SCHEMA {schema} CASCADE");
    sql(&url, |c| {
        Box::pin(async move { c.batch_execute(&drop).await.expect("drop") })
    });
}
