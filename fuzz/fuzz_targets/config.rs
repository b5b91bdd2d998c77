//! Any bytes as the `REDSOL_CONFIG` file, over the embedded defaults and an environment that
//! holds secrets. Loading must never panic, and no error may show a secret.
#![no_main]

use libfuzzer_sys::fuzz_target;
use redsol::settings::Settings;
use std::collections::HashMap;

const SECRETS: [(&str, &str); 3] = [
    ("TELEGRAM_BOT_TOKEN", "7000000001:fuzz-secret-telegram-token"),
    ("WHATSAPP_ACCESS_TOKEN", "fuzz-secret-graph-token"),
    ("REDSOL_ADMIN_TOKEN", "fuzz-secret-admin-token"),
];

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("redsol-fuzz-config-{}.toml", std::process::id()));
    if std::fs::write(&path, data).is_err() {
        return;
    }
    let mut env: HashMap<String, String> = SECRETS
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    env.insert("REDSOL_CONFIG".into(), path.to_string_lossy().into_owned());
    if let Err(e) = Settings::load_from(&env) {
        let shown = format!("{e:#} {e:?}");
        for (_, secret) in SECRETS {
            assert!(!shown.contains(secret), "a secret in an error: {shown}");
        }
    }
});
