//! Settings: layering, the environment, errors and incomplete integrations.

use super::*;

fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn defaults_load_with_an_empty_environment() {
    let s = Settings::load_from(&env(&[])).expect("defaults load");
    assert_eq!(s.server.port, 5001);
    assert_eq!(s.server.host, "127.0.0.1");
    assert_eq!(s.rules.plan(100).map(|p| p.price), Some(600));
    assert_eq!(s.rules.limits.max_reply_chars, 800);
    assert!(s.telegram.is_none() && s.whatsapp.is_none() && s.gemini.is_none());
}

#[test]
fn environment_overrides_and_bad_values_name_the_variable() {
    let s = Settings::load_from(&env(&[
        ("MESSAGING_PORT", "6000"),
        ("REDSOL_DATA_DIR", "/tmp/x"),
        ("REDSOL_ADMIN_TELEGRAM_IDS", "11, 22"),
    ]))
    .expect("loads");
    assert_eq!(s.server.port, 6000);
    assert_eq!(s.store.data_dir, PathBuf::from("/tmp/x"));
    assert!(s.rules.staff.telegram_ids.contains(&"22".to_string()));
    let err = Settings::load_from(&env(&[("MESSAGING_PORT", "abc")])).unwrap_err();
    assert!(format!("{err:#}").contains("MESSAGING_PORT"), "{err:#}");
}

#[test]
fn config_file_layer_merges_and_bad_keys_are_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        "[rules]\nemojis = false\n[rules.limits]\nmax_reply_chars = 500\n",
    )
    .expect("write");
    let s = Settings::load_from(&env(&[(
        "REDSOL_CONFIG",
        good.to_str().unwrap_or_default(),
    )]))
    .expect("loads");
    assert!(!s.rules.emojis);
    assert_eq!(s.rules.limits.max_reply_chars, 500);
    assert_eq!(
        s.rules.limits.inbound_burst, 5,
        "untouched keys keep their defaults"
    );

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[rules.limits]\nmax_reply_chars = 5\n").expect("write");
    let err = Settings::load_from(&env(&[("REDSOL_CONFIG", bad.to_str().unwrap_or_default())]))
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("rules.limits.max_reply_chars"),
        "{err:#}"
    );

    // A turn budget Gemini could never be asked within is refused, not silently unused.
    let short = dir.path().join("short.toml");
    std::fs::write(
        &short,
        "[brain]\ncall_timeout_ms = 200\nturn_budget_ms = 300\n",
    )
    .expect("write");
    let err = Settings::load_from(&env(&[(
        "REDSOL_CONFIG",
        short.to_str().unwrap_or_default(),
    )]))
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("brain.turn_budget_ms") && format!("{err:#}").contains("500"),
        "{err:#}"
    );
    // Half-configured [handoff] hours name their key.
    let hours = dir.path().join("hours.toml");
    std::fs::write(&hours, "[handoff]\nopen = \"19:00\"\nclose = \"09:00\"\n").expect("write");
    let err = Settings::load_from(&env(&[(
        "REDSOL_CONFIG",
        hours.to_str().unwrap_or_default(),
    )]))
    .unwrap_err();
    assert!(format!("{err:#}").contains("handoff.close"), "{err:#}");

    let typo = dir.path().join("typo.toml");
    std::fs::write(&typo, "[rules]\nemoji = false\n").expect("write");
    let err = Settings::load_from(&env(&[(
        "REDSOL_CONFIG",
        typo.to_str().unwrap_or_default(),
    )]))
    .unwrap_err();
    assert!(format!("{err:#}").contains("emoji"), "{err:#}");
}

#[test]
fn secrets_never_print_and_can_come_from_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let f = dir.path().join("token");
    std::fs::write(&f, "123:SECRET-TOKEN\n").expect("write");
    let s = Settings::load_from(&env(&[(
        "TELEGRAM_BOT_TOKEN_FILE",
        f.to_str().unwrap_or_default(),
    )]))
    .expect("loads");
    let tg = s.telegram.expect("telegram configured");
    assert_eq!(tg.token.expose(), "123:SECRET-TOKEN");
    let printed = format!("{tg:?} {}", tg.token);
    assert!(!printed.contains("SECRET"), "{printed}");
}

fn with_file(dir: &tempfile::TempDir, name: &str, text: &str) -> anyhow::Result<Settings> {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write");
    Settings::load_from(&env(&[(
        "REDSOL_CONFIG",
        path.to_str().unwrap_or_default(),
    )]))
}

#[test]
fn a_wrong_type_names_the_key_path_the_value_and_what_is_expected() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = with_file(&dir, "port.toml", "[server]\nport = \"cinco mil\"\n").unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.starts_with("invalid configuration: server.port = \"cinco mil\": expected u16"),
        "{text}"
    );
    assert_eq!(text.matches("server.port").count(), 1, "{text}");
    assert!(text.contains("port.toml, named by REDSOL_CONFIG"), "{text}");

    let err = with_file(&dir, "plans.toml", "[[rules.plans]]\nmbps = 5\n").unwrap_err();
    assert!(
        format!("{err:#}").contains("rules.plans[0].name: required but missing"),
        "{err:#}"
    );
    let err = with_file(&dir, "typo.toml", "[server]\nprot = 5\n").unwrap_err();
    assert!(
        format!("{err:#}").contains("server.prot: not a known key (expected one of `host`"),
        "{err:#}"
    );
    let err = with_file(&dir, "limit.toml", "[whatsapp]\nmax_body_bytes = 5\n").unwrap_err();
    assert!(
        format!("{err:#}").contains("whatsapp.max_body_bytes = 5: must be at least 1024"),
        "{err:#}"
    );
}

#[test]
fn config_errors_never_show_a_secret() {
    // A secret's key: its value is never shown, whatever the error.
    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    struct Keys {
        app_secret: u16,
    }
    let value: toml::Value = toml::from_str("app_secret = \"TOP-SECRET\"").expect("toml");
    let error = serde_path_to_error::deserialize::<_, Keys>(value.clone()).unwrap_err();
    let text = type_error(&error, &value, None);
    assert!(text.contains("app_secret: expected u16"), "{text}");
    assert!(!text.contains("TOP-SECRET"), "{text}");
    assert!(is_secret_key("whatsapp.access_token") && is_secret_key("gemini.api_key"));
    assert!(!is_secret_key("rules.priority_rules[0].keywords") && !is_secret_key("server.port"));

    // A file that is not TOML: the line is named, never shown.
    let dir = tempfile::tempdir().expect("tempdir");
    let err = with_file(
        &dir,
        "raw.toml",
        "[whatsapp]\naccess_token = EAA-TOP-SECRET\n",
    )
    .unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.contains("line 2") && text.contains("whatsapp.access_token"),
        "{text}"
    );
    assert!(!text.contains("TOP-SECRET"), "{text}");
    // Nor a URL (it may carry a key).
    let err = Settings::load_from(&env(&[
        ("TELEGRAM_BOT_TOKEN", "1:a"),
        ("TELEGRAM_API_URL", "api.telegram.org?key=TOP-SECRET"),
    ]))
    .unwrap_err();
    let text = format!("{err:#}");
    assert!(
        text.contains("TELEGRAM_API_URL: expected an http"),
        "{text}"
    );
    assert!(!text.contains("TOP-SECRET"), "{text}");
}

#[test]
fn a_bad_environment_value_names_the_variable_and_the_value() {
    let err = Settings::load_from(&env(&[("MESSAGING_PORT", "abc")])).unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        "invalid configuration: MESSAGING_PORT = \"abc\": expected a port number (0 to 65535)"
    );
}

#[test]
fn a_channel_set_up_in_part_names_each_missing_variable() {
    let whatsapp = [
        ("WHATSAPP_PHONE_NUMBER_ID", "109"),
        ("WHATSAPP_ACCESS_TOKEN", "EAA-TOP-SECRET"),
    ];
    let s = Settings::load_from(&env(&whatsapp)).expect("loads");
    assert_eq!(
        s.incomplete(),
        vec![Incomplete {
            integration: "whatsapp",
            missing: vec!["WHATSAPP_APP_SECRET", "WHATSAPP_VERIFY_TOKEN"],
        }]
    );
    let complete = [
        whatsapp[0],
        whatsapp[1],
        ("WHATSAPP_APP_SECRET", "s"),
        ("WHATSAPP_VERIFY_TOKEN", "v"),
    ];
    assert!(Settings::load_from(&env(&complete))
        .expect("loads")
        .incomplete()
        .is_empty());
    assert!(Settings::load_from(&env(&[]))
        .expect("loads")
        .incomplete()
        .is_empty());

    let s = Settings::load_from(&env(&[
        ("TELEGRAM_BOT_TOKEN", "1:a"),
        (
            "TELEGRAM_WEBHOOK_URL",
            "https://bot.example/telegram/webhook",
        ),
    ]))
    .expect("loads");
    assert_eq!(
        s.incomplete()[0].to_string(),
        "telegram: incomplete — missing TELEGRAM_WEBHOOK_SECRET"
    );

    // A pair that cannot even load is the same kind of error.
    let err =
        Settings::load_from(&env(&[("WHATSAPP_ACCESS_TOKEN", "EAA-TOP-SECRET")])).unwrap_err();
    let incomplete = err.downcast_ref::<IncompleteConfig>().expect("incomplete");
    assert_eq!(
        incomplete.0[0].missing,
        vec![
            "WHATSAPP_PHONE_NUMBER_ID",
            "WHATSAPP_APP_SECRET",
            "WHATSAPP_VERIFY_TOKEN"
        ]
    );
    assert!(!format!("{err:#}").contains("TOP-SECRET"));
    let err = Settings::load_from(&env(&[("GOOGLE_SHEETS_ID", "sheet")])).unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        "sheets: incomplete — missing GOOGLE_APPLICATION_CREDENTIALS"
    );
}

/// `redsol status` (through [`Settings::incomplete`]) and `redsol run` (through
/// `app::plan_channels`) must refuse the same WhatsApp settings.
#[test]
fn status_and_run_agree_on_what_whatsapp_needs() {
    use crate::app::{plan_channels, Mode};
    for (verify, secret) in [(false, false), (true, false), (false, true), (true, true)] {
        let mut vars = vec![
            ("WHATSAPP_PHONE_NUMBER_ID", "109"),
            ("WHATSAPP_ACCESS_TOKEN", "EAA"),
        ];
        if verify {
            vars.push(("WHATSAPP_VERIFY_TOKEN", "v"));
        }
        if secret {
            vars.push(("WHATSAPP_APP_SECRET", "s"));
        }
        let s = Settings::load_from(&env(&vars)).expect("loads");
        let complete = s.incomplete().is_empty();
        assert_eq!(complete, verify && secret);
        for mode in [Mode::Auto, Mode::Whatsapp] {
            assert_eq!(
                plan_channels(&s, mode).is_ok(),
                complete,
                "{mode:?}, verify token {verify}, app secret {secret}"
            );
        }
    }
}

#[test]
fn the_shared_rate_comes_from_redsol_redis_url_and_its_share_is_checked() {
    let s = Settings::load_from(&env(&[])).expect("loads");
    assert!(s.redis_url.is_none(), "one process keeps its own rate");
    assert_eq!(s.cluster.fallback_share, 0.34);
    let s = Settings::load_from(&env(&[(
        "REDSOL_REDIS_URL",
        "redis://:s3cret-pass@127.0.0.1:6379/0",
    )]))
    .expect("loads");
    let url = s.redis_url.expect("the URL is kept");
    assert!(
        !format!("{url:?} {url}").contains("s3cret"),
        "never printed"
    );
    let s = Settings::load_from(&env(&[(
        "REDSOL_DATABASE_URL",
        "postgres://redsol:s3cret-pass@db:5432/redsol",
    )]))
    .expect("loads");
    let url = s.database_url.expect("the URL is kept");
    assert!(
        !format!("{url:?} {url}").contains("s3cret"),
        "never printed"
    );

    let dir = tempfile::tempdir().expect("tempdir");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[cluster]\nfallback_share = 0.0\n").expect("write");
    let err = Settings::load_from(&env(&[("REDSOL_CONFIG", bad.to_str().unwrap_or_default())]))
        .unwrap_err();
    assert!(
        format!("{err:#}").contains("cluster.fallback_share"),
        "{err:#}"
    );
    assert_eq!(s.cluster.lease_ms, 5_000);
    std::fs::write(&bad, "[cluster]\nlease_ms = 50\n").expect("write");
    let err = Settings::load_from(&env(&[("REDSOL_CONFIG", bad.to_str().unwrap_or_default())]))
        .unwrap_err();
    assert!(format!("{err:#}").contains("cluster.lease_ms"), "{err:#}");
}
