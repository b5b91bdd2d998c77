use crate::redsol;

#[test]
fn status_shows_what_is_configured_and_never_a_secret() {
    let data = tempfile::tempdir().expect("tempdir");
    let out = redsol()
        .args(["status", "--check"])
        .env("REDSOL_DATA_DIR", data.path())
        .env("TELEGRAM_BOT_TOKEN", "123456:TOP-SECRET-TELEGRAM")
        // Nothing listens there: the check fails, and must say so without the token.
        .env("TELEGRAM_API_URL", "http://127.0.0.1:9")
        .env("WHATSAPP_PHONE_NUMBER_ID", "1098765")
        .env("WHATSAPP_ACCESS_TOKEN", "EAA-TOP-SECRET-WA")
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stdout.contains("channel telegram: configured"), "{stdout}");
    assert!(stdout.contains("channel whatsapp: configured"), "{stdout}");
    assert!(stdout.contains("offline NLU only"), "{stdout}");
    assert!(stdout.contains("check store: ok"), "{stdout}");
    assert!(stdout.contains("check telegram: FAILED"), "{stdout}");
    assert!(
        !stdout.contains("TOP-SECRET") && !stderr.contains("TOP-SECRET"),
        "{stdout}{stderr}"
    );
}

#[test]
fn a_bad_setting_fails_with_a_message_naming_it() {
    let out = redsol()
        .args(["status"])
        .env("MESSAGING_PORT", "not-a-port")
        .output()
        .expect("runs");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("MESSAGING_PORT"));
}
