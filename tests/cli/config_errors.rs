//! A bad setting stops redsol with one message that names the key (or the variable), the value
//! given and what is expected, and never shows a secret.

use crate::redsol;
use std::process::Output;

/// The one message a failed start prints (stderr, without the `error: ` prefix).
fn the_error(out: &Output) -> String {
    assert!(!out.status.success(), "must fail");
    assert_eq!(out.status.code(), Some(1), "a bad setting is exit code 1");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "one message, printed once:\n{stderr}");
    lines[0]
        .strip_prefix("error: ")
        .unwrap_or(lines[0])
        .to_string()
}

#[test]
fn a_wrong_type_in_the_config_file_names_the_key_and_the_value_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("redsol.toml");
    std::fs::write(&file, "[server]\nport = \"cinco mil\"\n").expect("write");
    for command in ["status", "run"] {
        let out = redsol()
            .arg(command)
            .env("REDSOL_CONFIG", &file)
            .env("REDSOL_DATA_DIR", dir.path().join("data"))
            .output()
            .expect("runs");
        let error = the_error(&out);
        assert_eq!(
            error.matches("server.port").count(),
            1,
            "{command}: {error}"
        );
        assert!(error.contains("\"cinco mil\""), "{command}: {error}");
        assert!(error.contains("expected u16"), "{command}: {error}");
        assert!(error.contains("REDSOL_CONFIG"), "{command}: {error}");
        assert!(out.stdout.is_empty(), "{command}");
    }
}

#[test]
fn a_bad_environment_value_names_the_variable_and_the_value_once() {
    let out = redsol()
        .arg("status")
        .env("MESSAGING_PORT", "abc")
        .output()
        .expect("runs");
    let error = the_error(&out);
    assert_eq!(error.matches("MESSAGING_PORT").count(), 1, "{error}");
    assert!(
        error.contains("\"abc\"") && error.contains("port number"),
        "{error}"
    );
}

#[test]
fn a_config_file_that_is_not_toml_names_the_line_but_never_shows_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("redsol.toml");
    // A token pasted unquoted: not TOML, and a secret.
    std::fs::write(&file, "[whatsapp]\naccess_token = EAA-TOP-SECRET-WA\n").expect("write");
    let out = redsol()
        .arg("status")
        .env("REDSOL_CONFIG", &file)
        .output()
        .expect("runs");
    let error = the_error(&out);
    assert!(error.contains("line 2"), "{error}");
    assert!(error.contains("whatsapp.access_token"), "{error}");
    assert!(!error.contains("TOP-SECRET"), "{error}");
}
