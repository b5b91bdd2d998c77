//! The behaviour every store backend owes the engine, written once and run against each
//! backend by its own tests (SQLite always; PostgreSQL with `REDSOL_TEST_DATABASE_URL`): one
//! suite, two backends.

pub mod handoffs;
pub mod notices;
pub mod outages;
pub mod tickets;
