//! The inbound path every channel shares: journal first, then route (a crash loses nothing,
//! a redelivery is answered once), and the replay of what the journal holds unanswered.

use super::*;

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
    let inbound = inbound.bounded(crate::nlu::MAX_UNDERSTOOD_CHARS);
    if let Some(entry) = inbound.journal_entry() {
        if !store.journal_inbound(entry).await? {
            metrics::counter!("redsol_duplicates_total", "channel" => inbound.key.channel.as_str())
                .increment(1);
            return Ok(Accepted::Duplicate);
        }
    }
    router.route(inbound)?;
    Ok(Accepted::New)
}

/// Hands the journaled messages that were never answered (the process stopped first) to their
/// conversations. Returns how many.
pub async fn replay_journal(
    store: &dyn crate::store::Store,
    router: &Router,
) -> Result<usize, AcceptError> {
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
