use super::*;

#[test]
fn folds_accents_case_and_punctuation() {
    assert_eq!(fold("¿Llegan a Cerro  Blanco?!"), "llegan a cerro blanco");
    assert_eq!(fold("Sañta Ána, GTO."), "santa ana gto");
    assert_eq!(fold("😀😀"), "");
    assert_eq!(fold("no hay se;al; ya"), "no hay senal ya");
}

#[test]
fn respells_phone_spelling() {
    assert_eq!(
        tokens("ola kiero contratar"),
        ["hola", "quiero", "contratar"]
    );
    assert_eq!(
        tokens("no ay internet x favor"),
        ["no", "hay", "internet", "por", "favor"]
    );
    assert_eq!(tokens("holaaaa buenasss"), ["hola", "buenas"]);
    assert_eq!(tokens("50 megas"), ["50", "megas"]);
}

#[test]
fn a_phrase_is_found_as_whole_words_only() {
    assert!(has_phrase("ya no hay luz", "no hay"));
    assert!(has_phrase("no hay", "no hay"));
    assert!(has_phrase("siempre si", "si"));
    assert!(!has_phrase("no haya luz", "no hay"));
    assert!(!has_phrase("nono hay", "no hay"));
    assert!(!has_phrase("casi", "si"));
    assert!(
        has_phrase("casi si", "si"),
        "a later whole occurrence counts"
    );
    assert!(!has_phrase("hola", ""));
}

#[test]
fn squeezing_and_respelling_copy_only_what_changes() {
    assert_eq!(squeeze("holaaaa"), "hola");
    assert_eq!(squeeze("llorrra"), "llorra");
    assert_eq!(squeeze("buenooo"), "buenoo");
    assert!(matches!(squeeze("internet"), Cow::Borrowed("internet")));
    assert!(matches!(squeeze("calle"), Cow::Borrowed("calle")));
    assert!(matches!(respell("contratar"), Cow::Borrowed("contratar")));
    assert!(matches!(respell("ke"), Cow::Borrowed("que")));
    assert_eq!(respell("porke"), "porque");
    assert_eq!(respell("kasa"), "casa");
}

#[test]
fn tolerates_typos_by_length() {
    assert!(fuzzy_eq("intenet", "internet"));
    assert!(fuzzy_eq("salamnca", "salamanca"));
    assert!(fuzzy_eq("cobertrua", "cobertura"));
    assert!(!fuzzy_eq("sur", "sol"));
    assert!(!fuzzy_eq("sur", "sol") && fuzzy_eq("norte", "norte"));
    assert!(fuzzy_prefix("registrarme", "registr"));
    assert!(fuzzy_prefix("regsitrarme", "registr"));
}

#[test]
fn truncates_on_a_boundary() {
    let t = truncate_chars("uno dos tres cuatro cinco", 12);
    assert!(t.chars().count() <= 12, "{t}");
    assert!(t.ends_with('…'));
    assert_eq!(truncate_chars("corto", 800), "corto");
}

#[test]
fn strips_emojis_and_controls() {
    assert_eq!(strip_emojis("✅ ¡Listo! 👷 Ya"), "¡Listo! Ya");
    assert_eq!(clean_input("a\u{0}b\tc\n d", 100), "a b c d");
}
