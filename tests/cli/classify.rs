use crate::run_with_input;

#[test]
fn classify_prints_one_json_object_per_line() {
    let data = tempfile::tempdir().expect("tempdir");
    let input = "ola kiero contratar el de 50 megas en la norte\nno ay internet desde ayer\n\n\"comillas\" y \\ barras\n";
    let out = run_with_input(&["classify"], data.path(), input);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert_eq!(lines[0]["intent"], "register");
    assert_eq!(lines[0]["entities"]["zone"], "Norte");
    assert_eq!(lines[0]["entities"]["plan_mbps"], 50);
    assert_eq!(lines[1]["intent"], "report_incident");
    assert_eq!(lines[1]["entities"]["incident_kind"], "no_service");
    assert_eq!(lines[3]["text"], "\"comillas\" y \\ barras");
    for l in &lines {
        let c = l["confidence"].as_f64().expect("confidence is a number");
        assert!((0.0..=1.0).contains(&c), "{l}");
    }
}

#[test]
fn classify_with_llm_and_no_gemini_fails_clearly() {
    let data = tempfile::tempdir().expect("tempdir");
    let out = run_with_input(&["classify", "--llm"], data.path(), "hola\n");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--llm"));
}
