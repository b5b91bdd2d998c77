//! The fake Graph's checks of a message body, as Graph makes them: what a valid message
//! carries becomes its [`Recorded`], anything else is refused as an invalid parameter.

use super::*;

/// A request Graph refuses as an invalid parameter (400, code 100).
pub(super) struct Invalid(pub(super) String);

pub(super) fn bad_param(message: &str) -> Result<(), Invalid> {
    Err(Invalid(format!("(#100) {message}")))
}

pub(super) fn chars(v: &Value) -> usize {
    v.as_str().map_or(0, |s| s.chars().count())
}

pub(super) fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// Checks an interactive message like Graph does; fills the record's body, ids and titles.
fn check_interactive(i: &Value, rec: &mut Recorded) -> Result<(), Invalid> {
    let body = &i["body"]["text"];
    rec.body = text(body);
    match i["type"].as_str() {
        Some("button") => {
            rec.kind = "button".into();
            if chars(body) == 0 || chars(body) > 1024 {
                return bad_param("interactive body text must be 1 to 1024 characters");
            }
            let Some(buttons) = i["action"]["buttons"].as_array() else {
                return bad_param("action.buttons is required");
            };
            if buttons.is_empty() || buttons.len() > 3 {
                return bad_param("action.buttons must have 1 to 3 buttons");
            }
            for b in buttons {
                if b["type"] != "reply" {
                    return bad_param("button type must be reply");
                }
                let (id, title) = (&b["reply"]["id"], &b["reply"]["title"]);
                if chars(id) == 0 || chars(id) > 256 {
                    return bad_param("button id must be 1 to 256 characters");
                }
                if chars(title) == 0 || chars(title) > 20 {
                    return bad_param("button title must be 1 to 20 characters");
                }
                rec.ids.push(text(id));
                rec.titles.push(text(title));
            }
        }
        Some("list") => {
            rec.kind = "list".into();
            if chars(body) == 0 || chars(body) > 4096 {
                return bad_param("list body text must be 1 to 4096 characters");
            }
            let button = &i["action"]["button"];
            if chars(button) == 0 || chars(button) > 20 {
                return bad_param("action.button must be 1 to 20 characters");
            }
            let Some(sections) = i["action"]["sections"].as_array() else {
                return bad_param("action.sections is required");
            };
            if sections.is_empty() || sections.len() > 10 {
                return bad_param("a list has 1 to 10 sections");
            }
            for s in sections {
                if chars(&s["title"]) > 24 || (sections.len() > 1 && chars(&s["title"]) == 0) {
                    return bad_param("section title must be at most 24 characters");
                }
                for r in s["rows"].as_array().into_iter().flatten() {
                    let (id, title) = (&r["id"], &r["title"]);
                    if chars(id) == 0 || chars(id) > 200 {
                        return bad_param("row id must be 1 to 200 characters");
                    }
                    if chars(title) == 0 || chars(title) > 24 {
                        return bad_param("row title must be 1 to 24 characters");
                    }
                    rec.ids.push(text(id));
                    rec.titles.push(text(title));
                }
            }
            if rec.ids.is_empty() || rec.ids.len() > 10 {
                return bad_param("a list has 1 to 10 rows in all");
            }
        }
        _ => return bad_param("interactive.type must be one of {button, list, ...}"),
    }
    Ok(())
}

/// Checks a message body like Graph does; the record of what it carries when valid.
pub(super) fn check_message(v: &Value, at: Instant) -> Result<Recorded, Invalid> {
    let mut rec = Recorded {
        at,
        to: String::new(),
        kind: String::new(),
        body: String::new(),
        ids: Vec::new(),
        titles: Vec::new(),
        wamid: String::new(),
        callback: None,
    };
    if v["messaging_product"] != "whatsapp" {
        bad_param("The parameter messaging_product is required and must be whatsapp")?;
    }
    match &v["biz_opaque_callback_data"] {
        Value::Null => {}
        Value::String(c) if c.chars().count() <= 512 => rec.callback = Some(c.clone()),
        _ => bad_param("biz_opaque_callback_data must be a string of at most 512 characters")?,
    }
    if v["status"] == "read" {
        let id = &v["message_id"];
        if chars(id) == 0 {
            bad_param("The parameter message_id is required")?;
        }
        rec.kind = "read".into();
        rec.body = text(id);
        return Ok(rec);
    }
    if !v["recipient_type"].is_null() && v["recipient_type"] != "individual" {
        bad_param("recipient_type must be individual")?;
    }
    rec.to = text(&v["to"]);
    if rec.to.is_empty() {
        bad_param("The parameter to is required")?;
    }
    match v["type"].as_str() {
        Some("text") => {
            rec.kind = "text".into();
            let body = &v["text"]["body"];
            if chars(body) == 0 || chars(body) > 4096 {
                bad_param("text.body must be 1 to 4096 characters")?;
            }
            rec.body = text(body);
        }
        Some("interactive") => check_interactive(&v["interactive"], &mut rec)?,
        Some("template") => check_template(&v["template"], &mut rec)?,
        Some(kind @ ("image" | "document")) => media::check_media(kind, &v[kind], &mut rec)?,
        _ => bad_param(
            "Param type must be one of {AUDIO, CONTACTS, DOCUMENT, IMAGE, INTERACTIVE, LOCATION, REACTION, STICKER, TEMPLATE, TEXT, VIDEO}",
        )?,
    }
    Ok(rec)
}

/// Checks a template message like Graph does; the record's body is the template's name, its
/// ids the language code, its titles the body parameters.
fn check_template(t: &Value, rec: &mut Recorded) -> Result<(), Invalid> {
    rec.kind = "template".into();
    rec.body = text(&t["name"]);
    if rec.body.is_empty() || chars(&t["name"]) > 512 {
        bad_param("template.name is required")?;
    }
    let language = text(&t["language"]["code"]);
    if language.is_empty() {
        bad_param("template.language.code is required")?;
    }
    rec.ids = vec![language];
    for component in t["components"].as_array().into_iter().flatten() {
        if component["type"] != "body" {
            bad_param("only body components are expected")?;
        }
        for p in component["parameters"].as_array().into_iter().flatten() {
            if p["type"] != "text" || chars(&p["text"]) == 0 {
                bad_param("a text parameter needs a non-empty text")?;
            }
            rec.titles.push(text(&p["text"]));
        }
    }
    Ok(())
}
