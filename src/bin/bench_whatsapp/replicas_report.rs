//! What a replicated run ([`super::replicas`]) did, from the database (every accepted message
//! journaled once and answered, turns in the journal's order, one registration per user), the
//! replicas' metrics and the sink (what the platform got, how fast and how densely); printed,
//! and with `--check 1` held to the bounds.

use super::process::metric;
use super::replicas::Replicas;
use super::{percentile, Sink};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How the load went.
pub struct Ran {
    pub total: usize,
    pub per_user: usize,
    pub accepted: usize,
    pub offered_for: Duration,
    pub drained_for: Duration,
    pub redelivered: usize,
    pub retried: usize,
    pub killed_at: Option<Instant>,
    /// Replies the killed replica had joined before it died (its metrics died with it).
    pub joined_before_kill: f64,
    /// When each user's messages were accepted, in order.
    pub accepted_at: HashMap<String, Vec<Instant>>,
    /// The live replicas' addresses.
    pub addrs: Vec<String>,
}

pub async fn report(
    r: &Replicas,
    ran: Ran,
    db: &tokio_postgres::Client,
    schema: &str,
    http: &reqwest::Client,
    sink: &Sink,
) -> anyhow::Result<()> {
    let (total, per_user, accepted) = (ran.total, ran.per_user, ran.accepted);
    // What the database holds.
    let count = |sql: String| {
        let db = &db;
        async move {
            db.query_one(&sql, &[])
                .await
                .map(|row| row.get::<_, i64>(0))
        }
    };
    let journaled = count(format!("SELECT COUNT(*) FROM {schema}.journal")).await?;
    let unanswered = count(format!(
        "SELECT COUNT(*) FROM {schema}.journal j WHERE NOT j.done OR NOT EXISTS \
         (SELECT 1 FROM {schema}.outbox o WHERE o.in_reply_to = j.message_id AND o.user_id = j.user_id)"
    ))
    .await?;
    let outbox = count(format!("SELECT COUNT(*) FROM {schema}.outbox")).await?;
    let unsent = count(format!(
        "SELECT COUNT(*) FROM {schema}.outbox WHERE sent_at IS NULL"
    ))
    .await?;
    // A turn taken out of the journal's order: a reply committed after a reply to a later
    // message of the same user.
    let out_of_order = count(format!(
        "SELECT COUNT(*) FROM (SELECT j.conv_seq < MAX(j.conv_seq) OVER (PARTITION BY o.user_id \
         ORDER BY o.seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS late \
         FROM {schema}.outbox o JOIN {schema}.journal j \
         ON j.message_id = o.in_reply_to AND j.user_id = o.user_id) t WHERE late"
    ))
    .await?;
    let registered = count(format!(
        "SELECT COUNT(DISTINCT user_id) FROM {schema}.prospects"
    ))
    .await?;
    let prospects = count(format!("SELECT COUNT(*) FROM {schema}.prospects")).await?;

    // What the platform got.
    let mut joined = ran.joined_before_kill;
    let mut resent = 0.0;
    let mut fenced = 0.0;
    let mut forwarded = 0.0;
    for addr in &ran.addrs {
        joined += metric(http, addr, "redsol_replies_coalesced_total").await;
        resent += metric(http, addr, "redsol_resent_after_restart_total").await;
        fenced += metric(http, addr, "redsol_turns_fenced_total").await;
        forwarded += metric(http, addr, "redsol_forwarded_total").await;
    }
    let replies = sink.replies.lock().map(|r| r.clone()).unwrap_or_default();
    let platform_messages: usize = replies.values().map(Vec::len).sum();
    // Replies the platform got twice: messages beyond the outbox's rows less those joined.
    let sent_twice = (platform_messages as i64 + joined as i64 - outbox).max(0);
    let requests = sink.requests.lock().map(|r| r.clone()).unwrap_or_default();
    let busiest = |window: Duration| {
        let mut most = 0;
        let mut from = 0;
        for to in 0..requests.len() {
            while requests[to].duration_since(requests[from]) >= window {
                from += 1;
            }
            most = most.max(to + 1 - from);
        }
        most
    };
    let (busiest_1s, busiest_2s) = (
        busiest(Duration::from_secs(1)),
        busiest(Duration::from_secs(2)),
    );
    // Latency: the k-th reply a user got answers their k-th message (as the steady bench).
    let mut latencies = Vec::new();
    let mut after_kill = Duration::ZERO;
    for (user, times) in &ran.accepted_at {
        let got = replies.get(user).map(Vec::as_slice).unwrap_or_default();
        for (t0, t1) in times.iter().zip(got) {
            let latency = t1.saturating_duration_since(*t0);
            latencies.push(latency);
            if let Some(k) = ran.killed_at {
                if *t0 >= k && t0.duration_since(k) < Duration::from_secs(2) {
                    after_kill = after_kill.max(latency);
                }
            }
        }
    }
    latencies.sort();
    // Accepted means journaled: a message accepted and missing from the journal is lost too.
    let lost = unanswered + (accepted as i64 - journaled).max(0);
    println!(
        "offered:            {total} messages from {} users at {}/s in {:.1} s; {accepted} accepted; {} delivered again to another replica; {} deliveries refused or failed and tried again",
        r.users,
        r.rate,
        ran.offered_for.as_secs_f64(),
        ran.redelivered,
        ran.retried
    );
    println!(
        "answered:           journal {journaled} messages, {unanswered} unanswered; outbox {outbox} replies, {unsent} unsent; all in by {:.1} s",
        ran.drained_for.as_secs_f64()
    );
    println!(
        "lost:               {}\nduplicated:         {} replies sent twice ({} resent after the restart; {} joined into another reply); {} turns out of order; registrations {prospects} for {registered} users",
        lost.max(0),
        sent_twice,
        resent,
        joined as u64,
        out_of_order
    );
    println!(
        "latency:            p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (accepted to reply at the platform)",
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3
    );
    if ran.killed_at.is_some() {
        println!(
            "failover:           the slowest answer to a message accepted in the 2 s after the kill took {:.1} s",
            after_kill.as_secs_f64()
        );
    }
    println!(
        "sending:            busiest 1 s {busiest_1s} messages, busiest 2 s {busiest_2s} (the number's rate: {}/s); {forwarded} messages handed to their owner; {fenced} turns fenced",
        r.send_rate
    );
    if r.check {
        let mut failed = Vec::new();
        if accepted != total {
            failed.push(format!("{} messages never accepted", total - accepted));
        }
        if lost > 0 || unanswered > 0 || unsent > 0 {
            failed.push(format!(
                "{lost} lost, {unanswered} unanswered, {unsent} unsent"
            ));
        }
        if journaled != total as i64 {
            failed.push(format!("{journaled} journal rows for {total} messages"));
        }
        if sent_twice as f64 > resent {
            failed.push(format!(
                "{sent_twice} replies sent twice, {resent} of them resent after the restart"
            ));
        }
        if out_of_order > 0 {
            failed.push(format!("{out_of_order} turns out of order"));
        }
        if per_user >= 4 && (prospects != r.users as i64 || registered != r.users as i64) {
            failed.push(format!(
                "{prospects} registrations for {registered} of {} users",
                r.users
            ));
        }
        // The shared bucket holds at most a second's worth, and a claim a twentieth more.
        // Without Redis each replica sends at the whole rate: nothing is shared to check.
        let bound = (2 * r.send_rate + r.send_rate / 4) as usize;
        if r.redis_url.is_some() && busiest_2s > bound {
            failed.push(format!("{busiest_2s} messages in 2 s (bound {bound})"));
        }
        if ran.killed_at.is_some() && after_kill > Duration::from_secs(10) {
            failed.push(format!(
                "a dead replica's conversations took {:.1} s to resume",
                after_kill.as_secs_f64()
            ));
        }
        if !failed.is_empty() {
            anyhow::bail!("the replicated run failed: {}", failed.join("; "));
        }
        println!("check:              passed");
    }
    Ok(())
}
