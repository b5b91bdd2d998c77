//! The inbound path every channel shares: journal first, then route (a crash loses nothing,
//! a redelivery is answered once), and the replay of what the journal holds unanswered.

use super::*;
use crate::store::{BoxFuture, JournalEntry, StoreError, StoreResult};

/// What [`accept`] did with a message.
#[derive(Debug, PartialEq, Eq)]
pub enum Accepted {
    /// Journaled (when it has an id) and handed to its conversation.
    New,
    /// Seen before: answered once already (or being answered); dropped.
    Duplicate,
}

/// Why [`accept`] could not take a message; the platform should redeliver it.
#[derive(Debug, thiserror::Error)]
pub enum AcceptError {
    #[error("could not journal the message: {0}")]
    Journal(#[from] crate::store::StoreError),
    #[error(transparent)]
    Route(#[from] RouteError),
}

/// The inbound path of every channel: journal the message durably (deduplicating by platform
/// id), then hand it to its conversation. A channel acknowledges the platform only after this
/// returns `Ok`, so a crash never loses a message and a redelivery is answered once.
pub async fn accept(
    store: &dyn crate::store::Store,
    router: &Router,
    inbound: Inbound,
) -> Result<Accepted, AcceptError> {
    let mut accepted = accept_all(store, router, vec![inbound]).await?;
    Ok(accepted.pop().unwrap_or(Accepted::Duplicate))
}

/// [`accept`] for the messages of one delivery, in order: they are journaled together (one
/// store operation, one transaction), then each new one is handed to its conversation.
pub async fn accept_all(
    store: &dyn crate::store::Store,
    router: &Router,
    inbounds: Vec<Inbound>,
) -> Result<Vec<Accepted>, AcceptError> {
    let inbounds: Vec<Inbound> = inbounds
        .into_iter()
        .map(|i| i.bounded(crate::nlu::MAX_UNDERSTOOD_CHARS))
        .collect();
    if let Some(own) = store.ownership() {
        return super::shared::admit(own, router, inbounds).await;
    }
    let new = journal_each(&inbounds, |entries| store.journal_inbound_all(entries)).await?;
    let mut accepted = Vec::with_capacity(inbounds.len());
    for (inbound, new) in inbounds.into_iter().zip(new) {
        if new == Some(false) {
            metrics::counter!("redsol_duplicates_total", "channel" => inbound.key.channel.as_str())
                .increment(1);
            accepted.push(Accepted::Duplicate);
            continue;
        }
        router.route(inbound)?;
        accepted.push(Accepted::New);
    }
    Ok(accepted)
}

/// Journals the messages that have a platform id with one call of `journal`; its answer for
/// each message, in order (`None`: not journaled, so always new).
pub(super) async fn journal_each<'a, T>(
    inbounds: &[Inbound],
    journal: impl FnOnce(Vec<JournalEntry>) -> BoxFuture<'a, StoreResult<Vec<T>>>,
) -> Result<Vec<Option<T>>, AcceptError> {
    let entries: Vec<Option<JournalEntry>> = inbounds.iter().map(Inbound::journal_entry).collect();
    let journaled: Vec<bool> = entries.iter().map(Option::is_some).collect();
    let entries: Vec<JournalEntry> = entries.into_iter().flatten().collect();
    let asked = entries.len();
    let answers = if entries.is_empty() {
        Vec::new()
    } else {
        journal(entries).await?
    };
    if answers.len() != asked {
        return Err(StoreError::Invalid(format!(
            "the journal answered for {} of {asked} messages",
            answers.len()
        ))
        .into());
    }
    let mut answers = answers.into_iter();
    Ok(journaled
        .into_iter()
        .map(|j| if j { answers.next() } else { None })
        .collect())
}

/// Hands the journaled messages that were never answered (the process stopped first) to their
/// conversations. Returns how many. Where replicas share the conversations, there is nothing to
/// do here: [`super::shared::follow`] takes them as their leases lapse.
pub async fn replay_journal(
    store: &dyn crate::store::Store,
    router: &Router,
) -> Result<usize, AcceptError> {
    if store.ownership().is_some() {
        return Ok(0);
    }
    let pending = store.journal_pending().await?;
    let mut n = 0;
    for entry in &pending {
        match Inbound::from_journal(entry) {
            Ok(inbound) => {
                router.route(inbound)?;
                n += 1;
            }
            Err(e) => tracing::error!(error = %e, "unreadable journal entry skipped"),
        }
    }
    Ok(n)
}
