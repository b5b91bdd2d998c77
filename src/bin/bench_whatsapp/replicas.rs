//! Replicas over PostgreSQL (`--replicas N --database-url URL [--redis-url URL]`): N `redsol
//! run` processes on one fresh schema, deliveries spread round robin over them, a share of
//! them delivered again to another replica, and (with `--kill-at S`) the first replica killed
//! with SIGKILL at S seconds and started again `--down-secs` later. Each user walks one script
//! (a registration, then questions), sending a message once the last was accepted, so the
//! order of their messages is defined and consecutive ones reach different replicas.
//!
//! What the database holds decides the outcome: every accepted message answered (journaled
//! once, done, its replies in the outbox and sent), each user's turns taken in the order the
//! journal gave their messages, one registration per user; the sink counts what the platform
//! got and how fast. With `--check 1` a violation makes the run fail.

use super::process::{metric, start_redsol};
use super::replicas_report::{report, Ran};
use super::{Sink, PHONE_ID, SECRET};
use redsol::whatsapp::signature::sign;
use std::collections::HashMap;
use std::path::Path;
use std::process::Child;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

/// One user's messages: a registration, then questions; every one is answered.
const SCRIPT: [&str; 10] = [
    "hola quiero contratar internet",
    "en la norte",
    "el de 50",
    "sí",
    "gracias",
    "cuánto cuesta el plan de 100?",
    "tienen cobertura en el centro?",
    "cuánto tardan en instalar?",
    "hola",
    "gracias, bye",
];

pub struct Replicas {
    pub replicas: usize,
    pub users: usize,
    /// Messages per user (at most the script's length).
    pub per_user: usize,
    /// Messages offered per second, all users together.
    pub rate: u64,
    /// Percent of the messages delivered a second time, to another replica.
    pub redeliver_pct: u64,
    pub kill_at: Option<u64>,
    pub down_secs: u64,
    /// The WhatsApp number's sending rate, shared by the replicas (through Redis when given).
    pub send_rate: u64,
    pub database_url: String,
    pub redis_url: Option<String>,
    pub check: bool,
    pub patience: Duration,
}

fn wa_id(user: usize) -> String {
    format!("522{user:010}")
}

fn message_id(user: usize, k: usize) -> String {
    format!("wamid.r{user}.{k}")
}

fn delivery(user: usize, k: usize) -> String {
    serde_json::json!({"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {
        "metadata": {"phone_number_id": PHONE_ID},
        "contacts": [{"wa_id": wa_id(user), "profile": {"name": "Bench"}}],
        "messages": [{"from": wa_id(user), "id": message_id(user, k), "type": "text", "text": {"body": SCRIPT[k % SCRIPT.len()]}}]
    }}]}]})
    .to_string()
}

/// The replicas' addresses (`None` while one is down) and processes.
struct Cluster {
    addrs: RwLock<Vec<Option<String>>>,
    children: Mutex<Vec<Option<Child>>>,
    next: AtomicUsize,
}

impl Cluster {
    /// The next live replica after `not` (round robin), and its index.
    fn pick(&self, not: Option<usize>) -> Option<(usize, String)> {
        let addrs = self.addrs.read().ok()?;
        for _ in 0..addrs.len() {
            let i = self.next.fetch_add(1, Ordering::Relaxed) % addrs.len();
            // A redelivery goes to another replica, when there is one.
            if Some(i) == not && addrs.len() > 1 {
                continue;
            }
            if let Some(addr) = &addrs[i] {
                return Some((i, addr.clone()));
            }
        }
        None
    }
}

fn config(send_rate: u64) -> String {
    format!(
        "[whatsapp]\nsend_per_second = {send_rate}\nrecipient_burst = 1000\nrecipient_per_second = 1000.0\nmark_read = false\n\
         [rules.limits]\ninbound_burst = 100000\ninbound_per_minute = 6000000\n\
         [billing]\nreminder_template = \"\"\n"
    )
}

/// Posts one delivery to `addr`; whether it was accepted.
async fn post(http: &reqwest::Client, addr: &str, body: &str) -> bool {
    http.post(format!("http://{addr}/webhook"))
        .header(
            "X-Hub-Signature-256",
            sign(SECRET.as_bytes(), body.as_bytes()),
        )
        .body(body.to_string())
        .timeout(Duration::from_secs(10))
        .send()
        .await
        .map(|r| r.status().is_success())
        .unwrap_or(false)
}

pub async fn run(
    r: Replicas,
    redsol: &Path,
    data: &Path,
    graph_url: &str,
    sink: Arc<Sink>,
) -> anyhow::Result<()> {
    let per_user = r.per_user.clamp(1, SCRIPT.len());
    let (db, connection) = tokio_postgres::connect(&r.database_url, tokio_postgres::NoTls)
        .await
        .map_err(|e| anyhow::anyhow!("cannot reach the database: {e}"))?;
    tokio::spawn(connection);
    let schema = format!("bench_{}", std::process::id());
    db.batch_execute(&format!(
        "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}"
    ))
    .await?;
    let sep = if r.database_url.contains('?') {
        '&'
    } else {
        '?'
    };
    let in_schema = format!("{}{sep}options=-c%20search_path%3D{schema}", r.database_url);
    let mut env = vec![("REDSOL_DATABASE_URL", in_schema)];
    if let Some(redis) = &r.redis_url {
        env.push(("REDSOL_REDIS_URL", redis.clone()));
    }
    let config = config(r.send_rate);
    let start_one = |i: usize| {
        start_redsol(
            redsol,
            &data.join(format!("r{i}")),
            &config,
            graph_url,
            None,
            0,
            &env,
        )
    };
    let cluster = Arc::new(Cluster {
        addrs: RwLock::new(Vec::new()),
        children: Mutex::new(Vec::new()),
        next: AtomicUsize::new(0),
    });
    for i in 0..r.replicas {
        let (child, addr) = start_one(i)?;
        if let (Ok(mut a), Ok(mut c)) = (cluster.addrs.write(), cluster.children.lock()) {
            a.push(Some(addr));
            c.push(Some(child));
        }
    }
    println!(
        "cluster:            {} replica(s) of redsol on PostgreSQL (schema {schema}){}; sending {}/s for the number, shared",
        r.replicas,
        if r.redis_url.is_some() { " and Redis" } else { "" },
        r.send_rate
    );
    sink.clear();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let start = Instant::now();
    let total = r.users * per_user;
    // When each user's messages were accepted, in order; redeliveries; refusals retried.
    let accepted_at: Arc<Mutex<HashMap<String, Vec<Instant>>>> = Arc::default();
    let (redelivered, retried) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut users = Vec::with_capacity(r.users);
    for user in 0..r.users {
        let (http, cluster, accepted_at) = (http.clone(), cluster.clone(), accepted_at.clone());
        let (redelivered, retried) = (redelivered.clone(), retried.clone());
        let (rate, users_n, pct) = (r.rate, r.users, r.redeliver_pct);
        users.push(tokio::spawn(async move {
            for k in 0..per_user {
                let n = k * users_n + user;
                let due = start + Duration::from_secs_f64(n as f64 / rate as f64);
                tokio::time::sleep_until(due.into()).await;
                let body = delivery(user, k);
                // As Meta does: a refused or failed delivery is tried again (here, at once on
                // the next replica).
                let mut took = None;
                for _ in 0..600 {
                    match cluster.pick(None) {
                        Some((i, addr)) if post(&http, &addr, &body).await => {
                            took = Some(i);
                            break;
                        }
                        _ => {
                            retried.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                    }
                }
                let Some(first) = took else {
                    return;
                };
                if let Ok(mut a) = accepted_at.lock() {
                    a.entry(wa_id(user)).or_default().push(Instant::now());
                }
                if (n as u64 * 7919) % 100 < pct {
                    if let Some((_, addr)) = cluster.pick(Some(first)) {
                        if post(&http, &addr, &body).await {
                            redelivered.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
            }
        }));
    }
    // The kill, and the start again.
    let mut killed_at = None;
    let mut joined_before_kill = 0.0;
    if let Some(at) = r.kill_at {
        tokio::time::sleep_until((start + Duration::from_secs(at)).into()).await;
        let addr = cluster.addrs.read().ok().and_then(|a| a[0].clone());
        if let Some(addr) = addr {
            joined_before_kill = metric(&http, &addr, "redsol_replies_coalesced_total").await;
        }
        if let (Ok(mut a), Ok(mut c)) = (cluster.addrs.write(), cluster.children.lock()) {
            a[0] = None;
            if let Some(mut child) = c[0].take() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
        killed_at = Some(Instant::now());
        println!(
            "kill -9:            replica 0 at {:.1} s",
            start.elapsed().as_secs_f64()
        );
        tokio::time::sleep(Duration::from_secs(r.down_secs)).await;
        let (child, addr) = start_one(0)?;
        if let (Ok(mut a), Ok(mut c)) = (cluster.addrs.write(), cluster.children.lock()) {
            a[0] = Some(addr);
            c[0] = Some(child);
        }
        println!(
            "restarted:          replica 0 at {:.1} s",
            start.elapsed().as_secs_f64()
        );
    }
    for u in users {
        let _ = u.await;
    }
    let offered_for = start.elapsed();
    let accepted: usize = accepted_at
        .lock()
        .map(|a| a.values().map(Vec::len).sum())
        .unwrap_or(0);

    // Wait until the database says every accepted message is answered and its replies sent,
    // or nothing moves for `patience`.
    let mut last = (i64::MIN, Instant::now());
    loop {
        let open: i64 = db
            .query_one(
                &format!(
                    "SELECT (SELECT COUNT(*) FROM {schema}.journal WHERE NOT done) + \
                     (SELECT COUNT(*) FROM {schema}.outbox WHERE sent_at IS NULL)"
                ),
                &[],
            )
            .await?
            .get(0);
        if open == 0 || last.1.elapsed() > r.patience {
            break;
        }
        if open != last.0 {
            last = (open, Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let drained_for = start.elapsed();

    let addrs: Vec<String> = cluster
        .addrs
        .read()
        .map(|a| a.iter().flatten().cloned().collect())
        .unwrap_or_default();
    let ran = Ran {
        total,
        per_user,
        accepted,
        offered_for,
        drained_for,
        redelivered: redelivered.load(Ordering::Relaxed),
        retried: retried.load(Ordering::Relaxed),
        killed_at,
        joined_before_kill,
        accepted_at: accepted_at.lock().map(|a| a.clone()).unwrap_or_default(),
        addrs,
    };
    let result = report(&r, ran, &db, &schema, &http, &sink).await;
    for mut child in cluster
        .children
        .lock()
        .map(|mut c| std::mem::take(&mut *c))
        .unwrap_or_default()
        .into_iter()
        .flatten()
    {
        let _ = child.kill();
        let _ = child.wait();
    }
    let _ = db
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await;
    result
}
