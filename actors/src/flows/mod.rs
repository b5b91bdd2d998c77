//! Flows that live in their own file; each is an `impl Engine` block with its steps.
//! - [`plan_change`]: an existing client's plan change, confirmed, recorded for staff.
//! - [`cancellation`]: a request to cancel the service, confirmed, recorded for staff (never
//!   a registration).

pub mod cancellation;
pub mod plan_change;
