//! Rendering replies as Graph messages (splits, buttons, lists, JSON shapes), classifying
//! Graph's errors, and the client's settings and secrecy.

use super::render::DEFAULT_INTERACTIVE_BODY;
use super::*;
use redsol_actors::model::{QuickReply, Reply};
use serde_json::json;

fn reply(text: &str, options: &[(&str, &str)]) -> Reply {
    Reply {
        text: text.to_string(),
        quick_replies: options
            .iter()
            .map(|(id, title)| QuickReply::new(*id, *title))
            .collect(),
        attachment: None,
    }
}

fn bodies(messages: &[GraphMessage]) -> Vec<String> {
    messages
        .iter()
        .map(|m| match m {
            GraphMessage::Text { body, .. }
            | GraphMessage::Buttons { body, .. }
            | GraphMessage::List { body, .. } => body.clone(),
            GraphMessage::Template { .. }
            | GraphMessage::MarkRead { .. }
            | GraphMessage::Media { .. } => String::new(),
        })
        .collect()
}

/// The words of a text, to compare a split text with its original.
fn words(s: &str) -> Vec<&str> {
    s.split_whitespace().collect()
}

#[test]
fn a_short_reply_without_options_is_one_text_message() {
    let out = render("5215512345678", &reply("  Hola, ¿en qué te ayudo?\n", &[]));
    assert_eq!(
        out,
        vec![GraphMessage::Text {
            to: "5215512345678".into(),
            body: "Hola, ¿en qué te ayudo?".into()
        }]
    );
    assert!(render("1", &reply("   ", &[])).is_empty());
}

#[test]
fn long_text_is_split_on_lines_within_the_limit_and_in_order() {
    let line = "Plan Estándar de 50 megas por $450 al mes en la zona norte.";
    let text: String = (0..160)
        .map(|i| format!("{i:03} {line}"))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(units(&text) > 2 * MAX_TEXT);
    let out = render("1", &reply(&text, &[]));
    assert_eq!(out.len(), 3);
    let parts = bodies(&out);
    for p in &parts {
        assert!(units(p) <= MAX_TEXT, "{}", units(p));
        assert!(p.starts_with(char::is_numeric), "cut on a line: {p:.20}");
        assert!(p.ends_with("norte."), "cut on a line");
    }
    assert_eq!(parts.join("\n"), text);
}

#[test]
fn splitting_falls_back_to_words_then_characters_never_inside_a_char() {
    let text = "ñandú ".repeat(1500);
    let parts = split_text(&text, MAX_TEXT);
    assert_eq!(parts.len(), 3);
    assert!(parts
        .iter()
        .all(|p| units(p) <= MAX_TEXT && p.ends_with('ú')));
    assert_eq!(words(&parts.join(" ")), words(&text));

    // No spaces at all, two-unit emojis: cut between characters.
    let emojis = "📶".repeat(3000);
    let parts = split_text(&emojis, MAX_TEXT);
    assert_eq!(parts.len(), 2);
    assert_eq!(units(&parts[0]), MAX_TEXT);
    assert_eq!(parts.concat(), emojis);
}

#[test]
fn up_to_three_quick_replies_are_reply_buttons_with_short_titles() {
    let out = render(
        "1",
        &reply(
            "¿Quieres contratar?",
            &[
                ("yes", "Sí, quiero contratar ahora mismo"),
                ("no", "No"),
                ("plans", "Ver planes"),
            ],
        ),
    );
    assert_eq!(out.len(), 1);
    let GraphMessage::Buttons { body, buttons, .. } = &out[0] else {
        panic!("expected buttons: {out:?}");
    };
    assert_eq!(body, "¿Quieres contratar?");
    assert_eq!(buttons.len(), 3);
    assert_eq!(buttons[0].0, "yes");
    assert_eq!(units(&buttons[0].1), MAX_BUTTON_TITLE);
    assert!(buttons[0].1.ends_with('…'), "{}", buttons[0].1);
    assert!(buttons[0].1.starts_with("Sí, quiero contrat"));
    assert_eq!(buttons[1], ("no".into(), "No".into()));
}

#[test]
fn four_to_ten_quick_replies_are_a_list_and_more_are_dropped() {
    let options: Vec<(String, String)> = (1..=12)
        .map(|i| (format!("zone_{i}"), format!("Zona número {i} de la ciudad")))
        .collect();
    let as_refs = |n: usize| -> Vec<(&str, &str)> {
        options[..n]
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect()
    };
    let out = render("1", &reply("¿En qué zona vives?", &as_refs(5)));
    let GraphMessage::List { button, rows, .. } = &out[0] else {
        panic!("expected a list: {out:?}");
    };
    assert_eq!(rows.len(), 5);
    assert!(units(button) <= MAX_LIST_BUTTON);
    assert!(rows.iter().all(|(_, t)| units(t) <= MAX_ROW_TITLE));
    assert!(rows[0].1.ends_with('…'));

    let out = render("1", &reply("¿En qué zona vives?", &as_refs(12)));
    let GraphMessage::List { rows, .. } = &out[0] else {
        panic!("expected a list: {out:?}");
    };
    assert_eq!(rows.len(), MAX_LIST_ROWS);
    assert_eq!(rows[9].0, "zone_10");
}

#[test]
fn a_body_over_the_interactive_limit_goes_as_text_then_a_short_interactive() {
    let intro = "Nuestros planes disponibles en tu zona. ".repeat(40);
    let text = format!("{}\n\n¿Cuál te interesa?", intro.trim());
    assert!(units(&text) > MAX_INTERACTIVE_BODY);
    let out = render("1", &reply(&text, &[("20", "20 Mbps"), ("50", "50 Mbps")]));
    assert_eq!(out.len(), 2);
    assert!(matches!(&out[0], GraphMessage::Text { body, .. } if body == intro.trim()));
    let GraphMessage::Buttons { body, buttons, .. } = &out[1] else {
        panic!("expected buttons last: {out:?}");
    };
    assert_eq!(body, "¿Cuál te interesa?");
    assert_eq!(buttons.len(), 2);

    // One endless line: still every word, the last message interactive and within limits.
    let text = "palabra ".repeat(1200);
    let out = render(
        "1",
        &reply(&text, &[("a", "A"), ("b", "B"), ("c", "C"), ("d", "D")]),
    );
    let last = out.last().map(GraphMessage::kind);
    assert_eq!(last, Some("list"));
    let all = bodies(&out);
    assert!(units(&all[all.len() - 1]) <= MAX_INTERACTIVE_BODY);
    assert!(all.iter().all(|b| units(b) <= MAX_TEXT));
    assert_eq!(words(&all.join(" ")), words(&text));
}

#[test]
fn empty_text_with_options_gets_a_body_and_duplicate_ids_are_dropped() {
    let out = render(
        "1",
        &reply("", &[("a", "Uno"), ("a", "Otra vez"), ("", "Nada")]),
    );
    assert_eq!(
        out,
        vec![GraphMessage::Buttons {
            to: "1".into(),
            body: DEFAULT_INTERACTIVE_BODY.into(),
            buttons: vec![("a".into(), "Uno".into())],
        }]
    );
}

#[test]
fn messages_serialize_to_metas_json_shapes() {
    let text = GraphMessage::Text {
        to: "521".into(),
        body: "hola".into(),
    };
    assert_eq!(
        text.to_json(),
        json!({"messaging_product":"whatsapp","recipient_type":"individual","to":"521",
               "type":"text","text":{"preview_url":false,"body":"hola"}})
    );
    let buttons = GraphMessage::Buttons {
        to: "521".into(),
        body: "¿Sí?".into(),
        buttons: vec![("y".into(), "Sí".into()), ("n".into(), "No".into())],
    };
    assert_eq!(
        buttons.to_json(),
        json!({"messaging_product":"whatsapp","recipient_type":"individual","to":"521",
               "type":"interactive","interactive":{"type":"button","body":{"text":"¿Sí?"},
               "action":{"buttons":[{"type":"reply","reply":{"id":"y","title":"Sí"}},
                                    {"type":"reply","reply":{"id":"n","title":"No"}}]}}})
    );
    let list = GraphMessage::List {
        to: "521".into(),
        body: "Zona".into(),
        button: "Ver opciones".into(),
        rows: vec![("norte".into(), "Norte".into())],
    };
    assert_eq!(
        list.to_json(),
        json!({"messaging_product":"whatsapp","recipient_type":"individual","to":"521",
               "type":"interactive","interactive":{"type":"list","body":{"text":"Zona"},
               "action":{"button":"Ver opciones","sections":[{"title":"Opciones",
               "rows":[{"id":"norte","title":"Norte"}]}]}}})
    );
    let read = GraphMessage::MarkRead {
        message_id: "wamid.X".into(),
    };
    assert_eq!(
        read.to_json(),
        json!({"messaging_product":"whatsapp","status":"read","message_id":"wamid.X"})
    );
}

#[test]
fn errors_are_classified_like_graph_means_them() {
    let body = |code: i64, transient: bool| {
        format!(
            r#"{{"error":{{"message":"m","type":"OAuthException","code":{code},"error_subcode":2494055,"fbtrace_id":"Ab","is_transient":{transient}}}}}"#
        )
    };
    let wait = Some(Duration::from_secs(30));
    assert_eq!(
        classify(429, wait, b""),
        GraphError::RateLimited {
            retry_after: wait,
            code: None
        }
    );
    for code in [130429, 131056, 80007, 4] {
        let e = classify(400, None, body(code, false).as_bytes());
        assert!(matches!(e, GraphError::RateLimited { code: Some(c), .. } if c == code));
        assert_eq!(e.is_global_rate_limit(), code != PAIR_RATE_LIMIT_CODE);
    }
    assert_eq!(
        classify(503, None, b"<html>"),
        GraphError::Transient {
            status: 503,
            code: None
        }
    );
    assert!(matches!(
        classify(400, None, body(100, true).as_bytes()),
        GraphError::Transient { status: 400, .. }
    ));
    let e = classify(400, None, body(131026, false).as_bytes());
    assert!(
        matches!(&e, GraphError::Permanent { status: 400, code: Some(131026), message }
            if message.starts_with('m') && message.contains("2494055") && message.contains("Ab")),
        "{e:?}"
    );
    assert!(!e.is_auth());
    assert!(classify(401, None, body(190, false).as_bytes()).is_auth());
}

#[test]
fn the_client_validates_its_settings_and_never_shows_the_token() {
    let token = Secret::new("EAAG-very-secret-token");
    let ok = GraphClient::new(
        "http://127.0.0.1:9/",
        "v23.0",
        "1234567890",
        token.clone(),
        Duration::from_secs(5),
    );
    let client = ok.expect("valid");
    assert_eq!(
        client.endpoint(),
        "http://127.0.0.1:9/v23.0/1234567890/messages"
    );
    assert!(!format!("{client:?}").contains("very-secret"));
    let scrubbed = client.scrub(GraphError::Permanent {
        status: 401,
        code: Some(190),
        message: "bad token EAAG-very-secret-token".into(),
    });
    assert!(!scrubbed.to_string().contains("very-secret"), "{scrubbed}");

    for (url, version, phone) in [
        ("ftp://x", "v23.0", "1"),
        ("http://x", "v23.0/../", "1"),
        ("http://x", "v23.0", "12/34"),
    ] {
        let err = GraphClient::new(url, version, phone, token.clone(), Duration::from_secs(1))
            .expect_err("invalid");
        assert!(!format!("{err:#}").contains("very-secret"));
    }
}
