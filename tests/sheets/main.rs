//! The Google Sheets store against a fake OAuth token endpoint and a fake Sheets v4 API on
//! 127.0.0.1, through the real google-sheets4 and yup-oauth2 clients. One test binary.

mod cli;
mod fake;
mod harness;
mod payments;
mod seed;
mod store;
#[path = "../support/mod.rs"]
mod support;
