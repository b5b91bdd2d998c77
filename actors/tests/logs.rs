//! What the engine tells operators in its log: a setting to fix is said once, not once per
//! customer.

mod common;

use common::wa;
use std::sync::{Arc, Mutex};

/// The log's text, as an operator reads it.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut log) = self.0.lock() {
            log.extend_from_slice(buf);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        let bytes = self.0.lock().map(|b| b.clone()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

#[tokio::test]
async fn a_missing_staff_chat_is_warned_once_and_every_request_still_recorded() {
    let log = Captured::default();
    let writer = log.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::WARN)
        .finish();
    // The test's runtime runs every actor on this thread: the log sees them all.
    let _log = tracing::subscriber::set_default(subscriber);
    // The default rules run no staff chat.
    let mut h = common::start().await;
    let customers = ["5214641000001", "5214641000002", "5214641000003"];
    for user in customers {
        let t = h.ask(&wa(user), "quiero hablar con una persona").await;
        assert!(t.contains("Le pasé tu mensaje al equipo"), "{t}");
    }
    let text = log.text();
    let warned: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("handoff_no_staff_chat"))
        .collect();
    assert_eq!(warned.len(), 1, "{text}");
    assert!(warned[0].contains("WARN"), "{text}");
    assert_eq!(h.store.requests().len(), customers.len());
}
