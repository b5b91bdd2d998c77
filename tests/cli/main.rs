//! The `redsol` binary end to end: the two README commands' building blocks, as a user runs
//! them. All integration tests of the binary are modules of this one test binary, so they
//! build once.

mod admin;
mod chat;
mod classify;
mod config_errors;
mod postgres;
mod replicas;
mod run;
mod status;
#[path = "../support/mod.rs"]
mod support;

use std::path::Path;
use std::process::Output;

pub use support::redsol;

/// Runs `redsol ARGS` with `stdin` piped in and a fresh data dir.
pub fn run_with_input(args: &[&str], data: &Path, stdin: &str) -> Output {
    let mut cmd = redsol();
    cmd.args(args).env("REDSOL_DATA_DIR", data);
    support::run_piped(cmd, stdin)
}

/// Asserts that the pieces appear in the text in this order.
pub fn assert_in_order(text: &str, pieces: &[&str]) {
    let mut at = 0;
    for p in pieces {
        match text[at..].find(p) {
            Some(i) => at += i + p.len(),
            None => panic!("expected {p:?} after byte {at} in:\n{text}"),
        }
    }
}
