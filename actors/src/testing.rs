//! Helpers for tests and benchmarks: the default rules from `config/default.toml`.

use crate::rules::Rules;

/// The configuration file shipped in `config/default.toml`, embedded at build time.
pub const DEFAULT_CONFIG: &str = include_str!("../../config/default.toml");

/// The `[rules]` table of the default configuration, validated.
pub fn rules() -> Rules {
    #[derive(serde::Deserialize)]
    struct File {
        rules: Rules,
    }
    let file: File = match toml::from_str(DEFAULT_CONFIG) {
        Ok(f) => f,
        Err(e) => panic!("config/default.toml does not parse: {e}"),
    };
    if let Err(e) = file.rules.validate() {
        panic!("config/default.toml is invalid: {e}");
    }
    file.rules
}
