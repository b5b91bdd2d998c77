//! A ticket's follow-up: closed by staff (the sheet's Estado, `/cerrar`, the admin API), the
//! customer told and asked to rate it, and reopened when it was not fixed.

use super::{BoxFuture, StoreResult};
use crate::model::{ConversationKey, Incident};

/// Tickets staff closed outside redsol, as `(id, status)` (see [`super::Store::closed_elsewhere`]).
pub type ClosedElsewhere = tokio::sync::mpsc::UnboundedReceiver<(String, String)>;

/// The status a closed ticket takes back when its customer says it was not fixed.
pub const REOPENED: &str = "Reabierto";

/// A customer's rating of a closed ticket (the `Encuestas` tab).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Survey {
    pub ticket: String,
    /// The client's id when known, else the name on the ticket.
    pub client: String,
    /// 1 to 5.
    pub rating: u8,
    pub comment: String,
    /// Unix seconds.
    pub at: u64,
    /// The inbound message that gave it: a replayed message finds its rating recorded.
    pub source: Option<String>,
}

/// The ticket records of the follow-up. Every method is atomic on its own.
pub trait Tickets: Send + Sync + 'static {
    /// Closes an open ticket with `status` (`Resuelto`, `Cerrado`) and awaits its rating; the
    /// ticket as it is now, or `None` when it is unknown or was already closed (a close told
    /// twice is acted on once). `source` is the inbound message that closed it (`/cerrar`): a
    /// replay of that message gets the ticket again.
    fn close_incident(
        &self,
        id: &str,
        status: &str,
        at: u64,
        source: Option<String>,
    ) -> BoxFuture<'_, StoreResult<Option<Incident>>>;

    /// The customer's ticket closed since `since` (Unix seconds) and still waiting for a
    /// rating, the latest if several.
    fn survey_pending(
        &self,
        customer: &ConversationKey,
        since: u64,
    ) -> BoxFuture<'_, StoreResult<Option<Incident>>>;

    /// Records a rating of a ticket waiting for one; `false` when it was not (already rated),
    /// unless this rating's `source` recorded it (a replay).
    fn answer_survey(&self, survey: Survey) -> BoxFuture<'_, StoreResult<bool>>;

    /// Reopens a closed ticket ([`REOPENED`]); the ticket, or `None` when it was not closed.
    fn reopen_incident(&self, id: &str, at: u64) -> BoxFuture<'_, StoreResult<Option<Incident>>>;
}
