//! Zone outages: declared by staff (`/falla`, the admin API) or by network monitoring
//! (Alertmanager), with the reports of the zone's customers linked to them instead of a ticket
//! each, and ended when service is back.

use super::{BoxFuture, StoreResult};
use crate::model::ConversationKey;
use serde::{Deserialize, Serialize};

/// An outage as declared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewOutage {
    /// The zone, as the config names it.
    pub zone: String,
    pub cause: String,
    /// When service is expected back, as said to customers ("2 h", "hoy a las 18:00").
    pub eta: String,
    /// What declared it, once (`alertmanager:<fingerprint>`, the staff message, the admin
    /// request): declared again, it is the same outage.
    pub source: Option<String>,
    /// Unix seconds.
    pub at: u64,
}

/// An outage, open or ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outage {
    /// `FALLA-000001`: also the ticket its customers' reports are linked to.
    pub id: String,
    pub zone: String,
    pub cause: String,
    pub eta: String,
    pub started_at: u64,
    pub resolved_at: Option<u64>,
    /// Customers' reports linked to it.
    pub reports: u64,
}

pub fn outage_id(seq: u64) -> String {
    format!("FALLA-{seq:06}")
}

/// The outage records. Every method is atomic on its own.
pub trait Outages: Send + Sync + 'static {
    /// Declares an outage, or returns the open one of the zone (its cause and ETA updated)
    /// or the one `source` declared; with whether it was declared now.
    fn declare_outage(&self, new: NewOutage) -> BoxFuture<'_, StoreResult<(Outage, bool)>>;

    /// Ends the zone's open outage (or the one `source` declared, when it is given); the
    /// outage, or `None` when none was open.
    fn resolve_outage(
        &self,
        zone: Option<&str>,
        source: Option<&str>,
        at: u64,
    ) -> BoxFuture<'_, StoreResult<Option<Outage>>>;

    /// Every open outage, oldest first.
    fn open_outages(&self) -> BoxFuture<'_, StoreResult<Vec<Outage>>>;

    /// Links a customer's report to an outage; `false` when they had reported it already.
    fn link_report(
        &self,
        outage: &str,
        customer: &ConversationKey,
        at: u64,
    ) -> BoxFuture<'_, StoreResult<bool>>;
}
