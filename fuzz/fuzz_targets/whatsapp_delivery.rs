//! Any bytes as a WhatsApp webhook body: parsed as the webhook does, every message bounded and
//! journaled. Must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redsol::whatsapp::payload::Delivery;

fuzz_target!(|data: &[u8]| {
    if let Ok(delivery) = serde_json::from_slice::<Delivery>(data) {
        let parsed = delivery.parse(Some("1000000001"));
        for inbound in parsed.messages {
            let inbound = inbound.bounded(4000);
            if let Some(entry) = inbound.journal_entry() {
                let _ = redsol_actors::model::Inbound::from_journal(&entry);
            }
        }
    }
});
