//! How replicas share the conversations: each conversation is owned by one replica at a time,
//! through a lease with a fencing token kept by the store. A message accepted by any replica
//! is journaled there and then handled by the owner only, in the order the journal gave the
//! conversation's messages; a turn committed under a stale token is refused
//! ([`super::StoreError::Fenced`]). When the owner dies its leases lapse, and another replica
//! takes each over with the next token and resumes from the snapshot.

use super::{BoxFuture, JournalEntry, StoreResult};
use crate::model::ConversationKey;
use std::time::Duration;

/// What the journal decided for one message of a delivery.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Seen before: answered once already (or being answered).
    Duplicate,
    /// This replica owns the conversation and nothing earlier waits: route it now, under the
    /// lease's token.
    Here { lease: u64 },
    /// This replica owns the conversation, but earlier messages of it (accepted by other
    /// replicas) wait in the journal: take them all, in order ([`Ownership::take`]).
    Pull,
    /// Another replica owns the conversation and has been told; it takes the message from the
    /// journal.
    Elsewhere,
}

/// A journaled message handed to this replica, with the token of its conversation's lease.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Taken {
    pub entry: JournalEntry,
    pub lease: u64,
}

/// The store's side of shared conversations.
pub trait Ownership: Send + Sync {
    /// Journals the messages of one delivery (deduplicated by message id) and settles who
    /// handles each: the conversation's owner, or this replica when it had none or its owner's
    /// lease lapsed.
    fn admit_all(&self, entries: Vec<JournalEntry>) -> BoxFuture<'_, StoreResult<Vec<Admission>>>;

    /// The messages of `key` waiting for this replica, oldest first, marked as handed here;
    /// none when another replica owns it. Takes the lease over when it lapsed.
    fn take(&self, key: ConversationKey) -> BoxFuture<'_, StoreResult<Vec<Taken>>>;

    /// The conversations with messages waiting for this replica: its own, and those whose
    /// owner's lease lapsed (a dead replica's).
    fn waiting(&self) -> BoxFuture<'_, StoreResult<Vec<ConversationKey>>>;

    /// Waits, at most `within`, until another replica hands this one messages; the
    /// conversations they are for (none: nothing was handed over meanwhile).
    fn handed(&self, within: Duration) -> BoxFuture<'_, Vec<ConversationKey>>;
}
