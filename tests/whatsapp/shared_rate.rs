//! Replicas share the business number's rate through Redis (`REDSOL_REDIS_URL`): two senders
//! for one number, each with a backlog, never send more together than the number's rate; and
//! with Redis out of reach a sender still sends, at its fallback share.
//!
//! The first test needs a Redis server: it reads `REDSOL_TEST_REDIS_URL` (`.ci/run` sets it)
//! and says it was skipped without it. Real time: the rate is the thing measured, and a busy
//! machine can only make sends later, never more frequent than the bucket allows.

use crate::fake_graph::{FakeGraph, Recorded};
use crate::sender_harness::*;
use redsol::settings::WhatsAppTuning;
use redsol::shared_rate::{RateStore, Sharing};
use redsol::whatsapp::outbound::{self, WhatsAppOutbound};
use redsol_actors::model::{Outbound, ReplySink};
use redsol_actors::store::MemoryStore;
use std::sync::Arc;
use std::time::Duration;

/// The number's rate in these tests, and how many replies each replica has waiting.
const RATE: u32 = 20;
const EACH: usize = 30;

/// A sender for the fake's number, sharing its rate as `sharing` says.
async fn replica(
    fake: &FakeGraph,
    t: &WhatsAppTuning,
    sharing: &Sharing,
    account: &str,
) -> WhatsAppOutbound {
    let client = graph_client(fake, t);
    let pacing = outbound::pacing(t).shared_through(Some(sharing), account);
    let store = Arc::new(MemoryStore::new(Vec::new()));
    outbound::spawn_paced(client, pacing, store, None)
        .await
        .expect("sender starts")
}

/// Reply `n` of replica `r`, to a recipient of its own.
fn reply_of(r: usize, n: usize) -> Outbound {
    plain(
        &format!("5215560{r}{n:05}"),
        &format!("réplica {r}, respuesta {n}"),
    )
}

/// The most messages that arrived within any `window`.
fn busiest(sent: &[Recorded], window: Duration) -> usize {
    let mut at: Vec<_> = sent.iter().map(|r| r.at).collect();
    at.sort();
    (0..at.len())
        .map(|i| at[i..].iter().take_while(|t| **t - at[i] < window).count())
        .max()
        .unwrap_or(0)
}

/// A bucket of its own for each run, so runs never share tokens.
fn account() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("whatsapp:test-{}-{nanos}", std::process::id())
}

fn tuning_at(rate: u32) -> WhatsAppTuning {
    let mut t = tuning();
    t.send_per_second = rate;
    t.mark_read = false;
    t
}

#[tokio::test]
async fn two_replicas_never_send_more_than_the_numbers_rate_together() {
    let Ok(url) = std::env::var("REDSOL_TEST_REDIS_URL") else {
        eprintln!("skipped: REDSOL_TEST_REDIS_URL is not set (a Redis server for the shared rate; .ci/run sets it)");
        return;
    };
    let fake = FakeGraph::start(TOKEN, VERSION, PHONE_ID).await;
    let t = tuning_at(RATE);
    // A replica that could not reach Redis would send at the full rate alone: two of them
    // would break the bound below.
    let sharing = Sharing {
        store: RateStore::new(&url, Duration::from_secs(2)).expect("a Redis URL"),
        fallback_share: 1.0,
    };
    let account = account();
    let replicas = [
        replica(&fake, &t, &sharing, &account).await,
        replica(&fake, &t, &sharing, &account).await,
    ];
    for (r, sender) in replicas.iter().enumerate() {
        let sink: Arc<dyn ReplySink> = sender.sink();
        for n in 0..EACH {
            sink.deliver(reply_of(r, n));
        }
    }
    let sent = fake
        .wait_for_within(2 * EACH, Duration::from_secs(30))
        .await;
    assert_eq!(sent.len(), 2 * EACH, "every reply of both replicas is sent");
    for r in 0..2 {
        let mine = sent
            .iter()
            .filter(|s| s.body.starts_with(&format!("réplica {r},")))
            .count();
        assert_eq!(mine, EACH, "replica {r}'s replies are all sent once");
    }
    // A token bucket lets through at most its burst (a tenth of a second's worth) plus the
    // rate times the window; three more for the time between a grant and its arrival here.
    // Each replica alone at the full rate would send twice that together.
    let window = Duration::from_secs(2);
    let bound = (RATE / 10) as usize + 2 * RATE as usize + 3;
    let most = busiest(&sent, window);
    assert!(
        most <= bound,
        "{most} messages within {window:?} from both replicas, more than the number's {bound}"
    );
    let first = sent.iter().map(|s| s.at).min().expect("sent");
    let last = sent.iter().map(|s| s.at).max().expect("sent");
    eprintln!(
        "two replicas, {} replies at {RATE}/s shared: busiest {window:?} {most} (bound {bound}), {:.2} s first to last",
        sent.len(),
        (last - first).as_secs_f64()
    );
    // The bucket is the one in Redis (not a fallback of each replica's own).
    let client = redis::Client::open(url.as_str()).expect("a Redis URL");
    let mut conn = client
        .get_multiplexed_async_connection()
        .await
        .expect("Redis reachable");
    let tokens: Option<String> = redis::cmd("HGET")
        .arg(format!("redsol:rate:{account}"))
        .arg("tokens")
        .query_async(&mut conn)
        .await
        .expect("HGET");
    assert!(tokens.is_some(), "the account's bucket is in Redis");
}

#[tokio::test]
async fn with_redis_out_of_reach_a_replica_still_sends_at_its_fallback_share() {
    let fake = FakeGraph::start(TOKEN, VERSION, PHONE_ID).await;
    // Nothing listens on port 1: every claim fails at once. A quarter of 20/s: 5/s alone.
    let sharing = Sharing {
        store: RateStore::new("redis://127.0.0.1:1", Duration::from_millis(200))
            .expect("a Redis URL"),
        fallback_share: 0.25,
    };
    let sender = replica(&fake, &tuning_at(RATE), &sharing, &account()).await;
    let sink: Arc<dyn ReplySink> = sender.sink();
    for n in 0..10 {
        sink.deliver(reply_of(0, n));
    }
    let sent = fake.wait_for_within(10, Duration::from_secs(20)).await;
    assert_eq!(sent.len(), 10, "replies still leave without Redis");
    assert!(sender.drain(DRAIN).await, "the sender drains");
    // Ten at 5/s, one at once: at least 1.8 s; a busy machine only makes it longer.
    let first = sent.iter().map(|s| s.at).min().expect("sent");
    let last = sent.iter().map(|s| s.at).max().expect("sent");
    assert!(
        last - first >= Duration::from_millis(1500),
        "the fallback share paces: {:?} first to last",
        last - first
    );
    let most = busiest(&sent, Duration::from_secs(1));
    assert!(most <= 7, "{most} within a second at 5/s");
}

#[test]
fn a_redis_url_with_a_password_is_never_echoed() {
    let err = match RateStore::new("http://user:hunter2@example.com", Duration::from_secs(1)) {
        Ok(_) => panic!("an HTTP URL is not a Redis URL"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.contains("REDSOL_REDIS_URL"), "{err}");
    assert!(!err.contains("hunter2"), "{err}");
}
