//! The Gemini brain against a fake Gemini REST API: understanding, validation, retries, the
//! circuit breaker and the turn budget (library level, paused time where time matters), then
//! the binary's `status`, `classify --llm` and worded answers. One test binary.

mod brain;
mod cli;
mod fake;
#[path = "../support/mod.rs"]
mod support;
