//! The `status` and `classify` commands.

use crate::gemini::GeminiModel;
use crate::settings::{IncompleteConfig, Settings};
use crate::sheets::SheetsStore;
use redsol_actors::brain::{Brain, HybridBrain, HybridTuning, OfflineBrain, UnderstandContext};
use redsol_actors::model::Source;
use std::io::{BufRead, Write};
use std::sync::Arc;

/// `redsol status`: what is configured (never the secrets themselves); with `check`, whether
/// the store opens and the configured integrations answer. A channel set up in part (see
/// [`Settings::incomplete`]) is named with the variables it lacks, and the answer is then an
/// [`IncompleteConfig`] error (`redsol status` exits 2).
pub async fn status(settings: &Settings, check: bool, out: &mut dyn Write) -> anyhow::Result<()> {
    let yes_no = |b: bool| if b { "configured" } else { "not configured" };
    writeln!(out, "redsol {}", env!("CARGO_PKG_VERSION"))?;
    writeln!(out, "config: {}", settings.sources.join(" + "))?;
    writeln!(
        out,
        "http: {}:{} (/health /ready /metrics)",
        settings.server.host, settings.server.port
    )?;
    match (&settings.database_url, &settings.sheets) {
        (Some(_), _) => writeln!(
            out,
            "store: postgresql (REDSOL_DATABASE_URL; replicas share it); the log id key in {}",
            settings.store.data_dir.display()
        )?,
        (None, Some(s)) => writeln!(
            out,
            "store: google sheets (sheet {}, key file {}), redsol's own state in {}",
            s.sheet_id,
            s.credentials_file.display(),
            settings.store.data_dir.display()
        )?,
        (None, None) => writeln!(
            out,
            "store: sqlite (embedded) in {}; set GOOGLE_SHEETS_ID and GOOGLE_APPLICATION_CREDENTIALS for Google Sheets, or REDSOL_DATABASE_URL for PostgreSQL",
            settings.store.data_dir.display()
        )?,
    }
    if settings.redis_url.is_some() {
        writeln!(
            out,
            "replicas: platform rates shared through REDSOL_REDIS_URL (fallback share {})",
            settings.cluster.fallback_share
        )?;
    }
    writeln!(out, "channel console: available")?;
    let incomplete = settings.incomplete();
    match &settings.telegram {
        Some(t) => {
            let mode = if t.webhook_url.is_some() {
                "webhook"
            } else {
                "long polling"
            };
            match t.missing() {
                missing if missing.is_empty() => writeln!(
                    out,
                    "channel telegram: configured ({mode} mode, token set)"
                )?,
                missing => writeln!(
                    out,
                    "channel telegram: incomplete — missing {} ({mode} mode, token set; `redsol run` refuses it)",
                    missing.join(", ")
                )?,
            }
        }
        None => writeln!(
            out,
            "channel telegram: {} (TELEGRAM_BOT_TOKEN)",
            yes_no(false)
        )?,
    }
    match &settings.whatsapp {
        Some(w) => match w.missing() {
            missing if missing.is_empty() => writeln!(
                out,
                "channel whatsapp: configured (phone number id {}, access token, verify token and app secret set)",
                w.phone_number_id
            )?,
            missing => writeln!(
                out,
                "channel whatsapp: incomplete — missing {} (phone number id {}; `redsol run` refuses it)",
                missing.join(", "),
                w.phone_number_id
            )?,
        },
        None => writeln!(
            out,
            "channel whatsapp: {} (WHATSAPP_PHONE_NUMBER_ID, WHATSAPP_ACCESS_TOKEN, WHATSAPP_APP_SECRET, WHATSAPP_VERIFY_TOKEN)",
            yes_no(false)
        )?,
    }
    match &settings.gemini {
        Some(g) => writeln!(
            out,
            "language model: gemini (model {}, key set); the offline NLU answers first and whenever Gemini fails",
            g.model
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
        let store_ok = match (&settings.database_url, &settings.sheets) {
            // Reads the schema version only: migrating is `redsol run`'s.
            (Some(url), _) => {
                let pg = crate::store::postgres::PgSettings::default();
                crate::store::postgres::PgStore::check(url.expose(), &pg)
                    .await
                    .map(|(at, known)| {
                        format!("ok (postgresql: schema version {at}; this build migrates it to {known})")
                    })
            }
            // Only reads the header rows: a running redsol may own the outbox.
            (None, Some(sheets)) => SheetsStore::probe(sheets, &settings.sheets_tuning)
                .await
                .map(|()| "ok (sheets: every tab has its columns)".to_string()),
            (None, None) => crate::app::open_store(settings)
                .await
                .map(|store| format!("ok ({})", store.backend())),
        }
        .unwrap_or_else(|e| format!("FAILED: {e:#}"));
        writeln!(out, "check store: {store_ok}")?;
        if let Some(t) = &settings.telegram {
            match crate::telegram::TelegramChannel::check(t).await {
                Ok(bot) => writeln!(out, "check telegram: ok, the token belongs to {bot}")?,
                Err(e) => writeln!(out, "check telegram: FAILED: {e:#}")?,
            }
        }
        if let Some(g) = &settings.gemini {
            let checked = match GeminiModel::start(g, &settings.brain, &settings.rules).await {
                Ok(model) => {
                    let answer = model.check(settings.brain.call_timeout()).await;
                    model.stop();
                    answer.map_err(anyhow::Error::from)
                }
                Err(e) => Err(e),
            };
            match checked {
                Ok(a) => writeln!(
                    out,
                    "check gemini: ok, model {} answered (intent {})",
                    g.model, a.intent
                )?,
                Err(e) => writeln!(out, "check gemini: FAILED: {e:#}")?,
            }
        }
        if let Some(w) = &settings.whatsapp {
            let checked = match crate::whatsapp::graph::GraphClient::from_settings(
                w,
                &settings.whatsapp_tuning,
            ) {
                Ok(client) => client.check().await.map_err(anyhow::Error::from),
                Err(e) => Err(e),
            };
            match checked {
                Ok(number) => writeln!(out, "check whatsapp: ok, the token works for {number}")?,
                Err(e) => writeln!(
                    out,
                    "check whatsapp: FAILED to read the business number with this token: {e:#} \
                     (reading it needs whatsapp_business_management; sending needs whatsapp_business_messaging)"
                )?,
            }
        }
    }
    if !incomplete.is_empty() {
        return Err(IncompleteConfig(incomplete).into());
    }
    Ok(())
}

/// `redsol classify`: one utterance per line in, one JSON object per line out. With `llm`,
/// every utterance goes to Gemini (the offline NLU answers when Gemini cannot); a summary of
/// who answered goes to stderr.
pub async fn classify(
    settings: &Settings,
    llm: bool,
    input: &mut dyn BufRead,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let rules = Arc::new(settings.rules.clone());
    let mut model = None;
    let brain: Box<dyn Brain> = if llm {
        let Some(g) = &settings.gemini else {
            anyhow::bail!("--llm needs GEMINI_API_KEY (or GEMINI_API_KEY_FILE); without --llm the offline NLU classifies");
        };
        let gemini = GeminiModel::start(g, &settings.brain, &settings.rules).await?;
        model = Some(gemini.clone());
        Box::new(HybridBrain::new(
            rules,
            Arc::new(gemini),
            HybridTuning {
                always_ask: true,
                ..crate::app::hybrid_tuning(&settings.brain)
            },
        ))
    } else {
        Box::new(OfflineBrain::new(rules))
    };
    let (mut lines, mut by_llm) = (0, 0);
    let mut line = String::new();
    let context = UnderstandContext::default();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            break;
        }
        let text = line.trim_end_matches(['\n', '\r']);
        let u = brain.understand(text, &context).await;
        lines += 1;
        if u.source == Source::Llm {
            by_llm += 1;
        }
        let json = serde_json::json!({
            "text": text,
            "intent": u.intent,
            "confidence": (f64::from(u.confidence) * 100.0).round() / 100.0,
            "entities": u.entities,
        });
        writeln!(out, "{json}")?;
    }
    out.flush()?;
    if let Some(model) = model {
        model.stop();
        eprintln!(
            "classified {lines} line(s): {by_llm} by Gemini, {} by the offline NLU (Gemini failed or was unsure)",
            lines - by_llm
        );
    }
    Ok(())
}
