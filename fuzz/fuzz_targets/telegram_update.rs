//! Any bytes as a Telegram update: parsed as the channel does, in every group mode. Must
//! never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redsol::settings::GroupMode;
use redsol::telegram::updates::{parse, Identity};

fuzz_target!(|data: &[u8]| {
    if let Ok(update) = serde_json::from_slice::<teloxide::types::Update>(data) {
        let me = Identity {
            id: 1,
            username: "redsol_bot".into(),
        };
        for mode in [GroupMode::Commands, GroupMode::Ignore] {
            let _ = parse(&update, &me, mode);
        }
    }
});
