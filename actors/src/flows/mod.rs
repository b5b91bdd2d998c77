//! The flows, one file each: an `impl Engine` block with the flow's steps, and its typed state
//! where it has one. The engine applies the repair patterns before a flow sees a message; a
//! new flow is a new file here plus its `Dialogue` variant and its line in `Engine::dispatch`.
//! - [`info`]: the greeting, the plans, coverage.
//! - [`lead`]: a place we do not reach yet: name and phone saved "Sin cobertura".
//! - [`register`]: registration (name, zone, plan; confirmed).
//! - [`incident`]: a fault report (what, since when, modem; confirmed).
//! - [`ticket_status`]: a customer's tickets.
//! - [`plan_change`]: an existing client's plan change, confirmed, recorded for staff.
//! - [`cancellation`]: a request to cancel the service, confirmed, recorded for staff (never
//!   a registration).
//! - [`staff`]: statistics, finance and client search for staff.
//! - [`handoff`]: a person takes the conversation over from the bot, through Telegram.
//! - [`outage`]: zone outages: declared, reports linked to them, mentioned, ended.
//! - [`followup`]: a ticket closed by staff: the customer told, the rating, the reopening.
//! - [`notices`]: proactive notices of outages to a zone's clients, and their opt-out.
//! - [`billing`]: a client's balance, due dates and where to pay; receipts; `/pago`.

pub mod billing;
pub mod cancellation;
pub mod followup;
pub mod handoff;
pub mod incident;
pub mod info;
pub mod lead;
pub mod notices;
pub mod outage;
pub mod plan_change;
pub mod register;
pub mod staff;
pub mod ticket_status;
