//! The `status` and `classify` commands.

use crate::settings::Settings;
use redsol_actors::nlu::Nlu;
use std::io::{BufRead, Write};

/// `redsol status`: what is configured (never the secrets themselves); with `check`, whether
/// the store opens and the configured integrations answer.
pub async fn status(settings: &Settings, check: bool, out: &mut dyn Write) -> anyhow::Result<()> {
    let yes_no = |b: bool| if b { "configured" } else { "not configured" };
    writeln!(out, "redsol {}", env!("CARGO_PKG_VERSION"))?;
    writeln!(out, "config: {}", settings.sources.join(" + "))?;
    writeln!(
        out,
        "http: {}:{} (/health /ready /metrics)",
        settings.server.host, settings.server.port
    )?;
    let backend = if settings.sheets.is_some() {
        "google sheets (configured; this build still uses the embedded store)"
    } else {
        "sqlite (embedded)"
    };
    writeln!(
        out,
        "store: {backend}, data dir {}",
        settings.store.data_dir.display()
    )?;
    writeln!(out, "channel console: available")?;
    match &settings.telegram {
        Some(t) => writeln!(
            out,
            "channel telegram: configured ({} mode, token set)",
            if t.webhook_url.is_some() {
                "webhook"
            } else {
                "long polling"
            }
        )?,
        None => writeln!(
            out,
            "channel telegram: {} (TELEGRAM_BOT_TOKEN)",
            yes_no(false)
        )?,
    }
    match &settings.whatsapp {
        Some(w) => writeln!(
            out,
            "channel whatsapp: configured (phone number id {}, verify token {}, app secret {})",
            w.phone_number_id,
            if w.verify_token.is_some() {
                "set"
            } else {
                "MISSING"
            },
            if w.app_secret.is_some() {
                "set"
            } else {
                "MISSING"
            },
        )?,
        None => writeln!(
            out,
            "channel whatsapp: {} (WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_ACCESS_TOKEN)",
            yes_no(false)
        )?,
    }
    match &settings.gemini {
        Some(g) => writeln!(
            out,
            "language model: gemini configured (model {}, key set); offline NLU as fallback",
            g.model.as_deref().unwrap_or("default")
        )?,
        None => writeln!(
            out,
            "language model: offline NLU only (set GEMINI_API_KEY for Gemini)"
        )?,
    }
    writeln!(
        out,
        "staff: {} telegram id(s), {} whatsapp number(s), {} console user(s)",
        settings.rules.staff.telegram_ids.len(),
        settings.rules.staff.whatsapp_numbers.len(),
        settings.rules.staff.console_users.len()
    )?;
    if check {
        let store_ok = crate::app::open_store(settings)
            .map(|_| "ok".to_string())
            .unwrap_or_else(|e| format!("FAILED: {e:#}"));
        writeln!(out, "check store: {store_ok}")?;
        if let Some(t) = &settings.telegram {
            match crate::telegram::TelegramChannel::check(t).await {
                Ok(bot) => writeln!(out, "check telegram: ok, the token belongs to {bot}")?,
                Err(e) => writeln!(out, "check telegram: FAILED: {e:#}")?,
            }
        }
        for (name, configured) in [
            ("whatsapp", settings.whatsapp.is_some()),
            ("gemini", settings.gemini.is_some()),
            ("sheets", settings.sheets.is_some()),
        ] {
            if configured {
                writeln!(
                    out,
                    "check {name}: not checked (this integration is not part of this build yet)"
                )?;
            }
        }
    }
    Ok(())
}

/// `redsol classify`: one utterance per line in, one JSON object per line out.
pub fn classify(
    settings: &Settings,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let nlu = Nlu::new();
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            break;
        }
        let text = line.trim_end_matches(['\n', '\r']);
        let u = nlu.understand(text, &settings.rules);
        let json = serde_json::json!({
            "text": text,
            "intent": u.intent,
            "confidence": (f64::from(u.confidence) * 100.0).round() / 100.0,
            "entities": u.entities,
        });
        writeln!(out, "{json}")?;
    }
    out.flush()?;
    Ok(())
}
