//! The binary on the Sheets backend: `status`, start-up checks, and a registration from a chat
//! landing in the sheet before the process exits.

use crate::fake::{FakeGoogle, Fault, Target, SPREADSHEET_ID};
use std::path::Path;
use std::process::Output;

fn redsol(fake: &FakeGoogle, dir: &Path, args: &[&str], stdin: &str) -> Output {
    let key = fake.write_service_account(dir);
    let mut cmd = crate::support::redsol();
    cmd.args(args)
        .env("REDSOL_DATA_DIR", dir.join("data"))
        .env("GOOGLE_SHEETS_ID", SPREADSHEET_ID)
        .env("GOOGLE_APPLICATION_CREDENTIALS", &key)
        .env("SHEETS_API_URL", fake.base_url());
    crate::support::run_piped(cmd, stdin)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn status_names_the_backend_and_checks_the_tabs() {
    let (_fake_rt, fake) = crate::seed::seeded_fake_in_own_runtime();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = redsol(&fake, dir.path(), &["status", "--check"], "");
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains(&format!("store: google sheets (sheet {SPREADSHEET_ID}")),
        "{stdout}"
    );
    assert!(stdout.contains("check store: ok (sheets"), "{stdout}");
    assert!(!stdout.contains("BEGIN PRIVATE KEY"), "{stdout}");

    // Google down: the check says so (a saved copy would let `run` start, not the check pass).
    fake.inject(Target::AnySheets, Fault::Status(503), 1000);
    let out = redsol(&fake, dir.path(), &["status", "--check"], "");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("check store: FAILED"), "{stdout}");
    assert!(stdout.contains("Google error 503"), "{stdout}");
    fake.clear_faults();

    fake.edit(|tabs| {
        tabs.get_mut("Incidentes").expect("tab")[0][3] = "Nombre del cliente".into();
    });
    let out = redsol(&fake, dir.path(), &["status", "--check"], "");
    let stdout = text(&out.stdout);
    assert!(stdout.contains("check store: FAILED"), "{stdout}");
    assert!(
        stdout.contains("\"Incidentes\" has no column \"Cliente\""),
        "{stdout}"
    );
    let out = redsol(&fake, dir.path(), &["run", "--mode", "console"], "");
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("\"Incidentes\" has no column \"Cliente\""),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_registration_in_a_chat_is_in_the_sheet_when_the_process_exits() {
    let (_fake_rt, fake) = crate::seed::seeded_fake_in_own_runtime();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = redsol(
        &fake,
        dir.path(),
        &["chat", "--user", "kim", "--name", "Kim Soto"],
        "quiero contratar el de 50 megas en la norte\nsí\n",
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let tab = fake.tab("Prospectos").expect("tab");
    assert_eq!(tab.len(), 2, "{tab:?}\n{}", text(&out.stdout));
    assert!(tab[1].contains(&"Kim Soto".to_string()), "{tab:?}");
    assert!(tab[1].contains(&"console".to_string()), "{tab:?}");
}
