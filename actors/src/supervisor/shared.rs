//! The inbound path when replicas share the conversations ([`Ownership`]): a message is
//! journaled by whichever replica the platform gave it to, and handled by its conversation's
//! owner only. Each replica routes a conversation's messages while holding its lock
//! ([`Router::hold`]), so they reach the conversation in the journal's order; [`follow`] takes
//! what other replicas hand over and what dead replicas left.

use super::{AcceptError, Accepted, Router};
use crate::model::{ConversationKey, Inbound};
use crate::store::ownership::{Admission, Ownership};
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;

/// How often a replica looks for messages waiting for it without being woken (a missed
/// notification, a dead owner's lapsed leases).
const LOOK_EVERY: Duration = Duration::from_secs(1);
/// How many conversations a replica takes from the journal at once.
const TAKING_AT_ONCE: usize = 16;

/// [`super::accept_all`] over shared conversations.
pub(super) async fn admit(
    own: &dyn Ownership,
    router: &Router,
    inbounds: Vec<Inbound>,
) -> Result<Vec<Accepted>, AcceptError> {
    let _held = router.hold(inbounds.iter().map(|i| &i.key)).await;
    let admitted =
        super::inbound::journal_each(&inbounds, |entries| own.admit_all(entries)).await?;
    let mut accepted = Vec::with_capacity(inbounds.len());
    let mut pulls: Vec<ConversationKey> = Vec::new();
    let mut own_copies = Vec::new();
    for (inbound, admission) in inbounds.into_iter().zip(admitted) {
        let channel = inbound.key.channel.as_str();
        // A message not journaled (without a platform id) is always new, and handled here.
        match admission.unwrap_or(Admission::Here { lease: 0 }) {
            Admission::Duplicate => {
                metrics::counter!("redsol_duplicates_total", "channel" => channel).increment(1);
                accepted.push(Accepted::Duplicate);
                continue;
            }
            Admission::Here { lease } => {
                let lease = admission.is_some().then_some(lease);
                router.route_leased(inbound, lease)?;
            }
            Admission::Pull => {
                if !pulls.contains(&inbound.key) {
                    pulls.push(inbound.key.clone());
                }
                own_copies.push(inbound);
            }
            Admission::Elsewhere => {
                metrics::counter!("redsol_forwarded_total", "channel" => channel).increment(1);
            }
        }
        accepted.push(Accepted::New);
    }
    for key in pulls {
        route_waiting(own, router, key, &mut own_copies).await?;
    }
    Ok(accepted)
}

/// Routes the messages of `key` waiting for this replica, oldest first; the caller holds the
/// conversation's lock. A message of `copies` (this delivery's) is routed as accepted, so its
/// latency counts from then.
async fn route_waiting(
    own: &dyn Ownership,
    router: &Router,
    key: ConversationKey,
    copies: &mut Vec<Inbound>,
) -> Result<(), AcceptError> {
    for taken in own.take(key).await? {
        let copy = copies
            .iter()
            .position(|c| c.message_id.as_deref() == Some(taken.entry.message_id.as_str()));
        let inbound = match copy {
            Some(at) => copies.swap_remove(at),
            None => match Inbound::from_journal(&taken.entry) {
                Ok(inbound) => inbound,
                Err(e) => {
                    tracing::error!(error = %e, "unreadable journal entry skipped");
                    continue;
                }
            },
        };
        router.route_leased(inbound, Some(taken.lease))?;
    }
    Ok(())
}

/// Takes, until the router stops, the messages waiting for this replica: at once those
/// another replica hands over ([`Ownership::handed`]), and every [`LOOK_EVERY`] those a missed
/// wake-up or a dead replica left (its leases lapse, and this replica takes them over). Up to
/// [`TAKING_AT_ONCE`] conversations are taken at a time, each under its lock.
pub async fn follow(store: Arc<dyn Store>, router: Router) {
    if store.ownership().is_none() {
        return;
    }
    let mut looked = tokio::time::Instant::now();
    loop {
        let Some(own) = store.ownership() else {
            return;
        };
        let mut keys = own.handed(LOOK_EVERY).await;
        if keys.is_empty() || looked.elapsed() >= LOOK_EVERY {
            looked = tokio::time::Instant::now();
            match own.waiting().await {
                Ok(more) => keys.extend(more),
                Err(e) => {
                    tracing::warn!(error = %e, "could not look for messages waiting for this replica")
                }
            }
        }
        keys.sort_unstable();
        keys.dedup();
        let permits = Arc::new(tokio::sync::Semaphore::new(TAKING_AT_ONCE));
        let mut taking = tokio::task::JoinSet::new();
        for key in keys {
            let Ok(permit) = permits.clone().acquire_owned().await else {
                return;
            };
            let (store, router) = (store.clone(), router.clone());
            taking.spawn(async move {
                let _permit = permit;
                let own = store.ownership()?;
                let _held = router.hold([&key]).await;
                match route_waiting(own, &router, key, &mut Vec::new()).await {
                    Ok(()) => Some(()),
                    Err(AcceptError::Route(_)) => None,
                    Err(e) => {
                        tracing::warn!(error = %e, "could not take a conversation's messages");
                        Some(())
                    }
                }
            });
        }
        while let Some(done) = taking.join_next().await {
            if matches!(done, Ok(None)) {
                return;
            }
        }
    }
}
