//! Logs and metrics: `tracing` to stderr (human or JSON), and the Prometheus recorder whose
//! text `/metrics` serves.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use redsol_actors::model::{Channel, Intent, Priority};
use std::sync::OnceLock;

/// Latency buckets, in seconds, from 1 ms to 60 s (language-model calls are slow).
pub const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0, 30.0, 60.0,
];

/// Log output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

/// Starts logging to stderr. `RUST_LOG` filters (default `info`, or `debug` with `--debug`).
pub fn init_logs(debug: bool, format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let default = if debug { "debug" } else { "info" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(format!(
            "{default},hyper=warn,h2=warn,reqwest=warn,ractor=warn,yup_oauth2=warn"
        ))
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    let result = match format {
        LogFormat::Human => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    if result.is_err() {
        tracing::debug!("logging was already initialized");
    }
}

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the Prometheus recorder once per process and returns its handle.
pub fn metrics_handle() -> anyhow::Result<PrometheusHandle> {
    if let Some(h) = HANDLE.get() {
        return Ok(h.clone());
    }
    let handle = PrometheusBuilder::new()
        .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)?
        .set_buckets_for_metric(
            Matcher::Full("redsol_csat".into()),
            &[1.0, 2.0, 3.0, 4.0, 5.0],
        )?
        .install_recorder()?;
    describe();
    let handle = HANDLE.get_or_init(|| handle).clone();
    Ok(handle)
}

/// Describes the contract metrics and creates the series known at start, so dashboards show
/// zeros instead of gaps.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_gauge!(
        "redsol_conversations_active",
        "Live conversation actors, by channel."
    );
    describe_counter!(
        "redsol_messages_received_total",
        "Inbound user messages, by channel."
    );
    describe_counter!(
        "redsol_messages_sent_total",
        "Replies handed to a platform, by channel and outcome."
    );
    describe_histogram!(
        "redsol_response_seconds",
        Unit::Seconds,
        "Inbound accepted to reply handed to the platform."
    );
    describe_counter!(
        "redsol_intents_total",
        "Understood intents, by intent and source (rules or llm)."
    );
    describe_histogram!(
        "redsol_llm_request_seconds",
        Unit::Seconds,
        "Language-model requests, by outcome."
    );
    describe_histogram!(
        "redsol_store_request_seconds",
        Unit::Seconds,
        "Store operations, by backend, operation and outcome."
    );
    describe_counter!(
        "redsol_registrations_total",
        "Completed registrations (prospects saved), by channel."
    );
    describe_counter!(
        "redsol_incidents_total",
        "Incidents created, by channel and priority."
    );
    describe_counter!(
        "redsol_rate_limited_total",
        "Messages held back by rate limits, by channel and direction."
    );
    describe_gauge!(
        "redsol_leader",
        "1 while this replica leads (campaigns, reminders, retention run here), else 0."
    );
    describe_gauge!(
        "redsol_conversation_leases",
        "Conversations this replica owns (PostgreSQL: leases it renews)."
    );
    describe_counter!(
        "redsol_forwarded_total",
        "Messages this replica accepted for a conversation another replica owns, by channel."
    );
    describe_counter!(
        "redsol_turns_fenced_total",
        "Turns refused because their conversation moved to another replica or was answered, by channel."
    );
    describe_counter!(
        "redsol_shared_rate_claims_total",
        "Claims of a platform account's rate shared by replicas (Redis), by channel and outcome."
    );
    describe_counter!(
        "redsol_actor_restarts_total",
        "Actor restarts after a failure, by actor."
    );
    describe_counter!(
        "redsol_webhook_rejected_total",
        "Rejected webhook deliveries, by channel and reason."
    );
    describe_counter!(
        "redsol_duplicates_total",
        "Redelivered messages answered once, by channel."
    );
    describe_gauge!(
        "redsol_outbox_pending",
        "Durable replies not yet sent, plus rows not yet written to Google Sheets."
    );
    describe_gauge!(
        "redsol_outbox_oldest_seconds",
        Unit::Seconds,
        "Age of the oldest reply still unsent in the outbox, by channel (at each sweep)."
    );
    describe_counter!(
        "redsol_resent_after_restart_total",
        "Replies sent again at start that the last run had handed to the platform (they may arrive twice), by channel."
    );
    describe_gauge!(
        "redsol_store_rows",
        "Rows the embedded store keeps, by table, after each retention pass."
    );
    describe_gauge!(
        "redsol_sheets_stale",
        "1 while a Google Sheets tab is answered from its last good copy, by tab."
    );
    describe_gauge!(
        "redsol_llm_breaker_state",
        "Gemini circuit breaker: 0 closed, 1 half-open (probing), 2 open."
    );
    describe_counter!(
        "redsol_whatsapp_statuses_total",
        "WhatsApp delivery statuses of our messages, by status."
    );
    describe_counter!(
        "redsol_handoffs_total",
        "Handoffs to a person, by the customer's channel and outcome (taken, released, idle, abandoned)."
    );
    describe_histogram!(
        "redsol_handoff_wait_seconds",
        Unit::Seconds,
        "From a customer's request for a person to a staff member taking it."
    );
    describe_gauge!(
        "redsol_handoffs_active",
        "Conversations a staff member holds (at each handoff sweep)."
    );
    describe_gauge!("redsol_outages_open", "Zone outages open now.");
    describe_counter!(
        "redsol_incidents_linked_total",
        "Customers' fault reports linked to a known zone outage instead of a ticket each."
    );
    describe_histogram!(
        "redsol_csat",
        "Customers' ratings (1 to 5) of their closed tickets."
    );
}

/// Creates the zero-valued series of a channel that is running.
pub fn register_channel(channel: Channel) {
    let c = channel.as_str();
    metrics::gauge!("redsol_conversations_active", "channel" => c).set(0.0);
    metrics::counter!("redsol_messages_received_total", "channel" => c).absolute(0);
    metrics::counter!("redsol_messages_sent_total", "channel" => c, "outcome" => "ok").absolute(0);
    metrics::counter!("redsol_registrations_total", "channel" => c).absolute(0);
    for p in Priority::ALL {
        metrics::counter!("redsol_incidents_total", "channel" => c, "priority" => p.as_str())
            .absolute(0);
    }
    metrics::counter!("redsol_rate_limited_total", "channel" => c, "direction" => "inbound")
        .absolute(0);
}

/// Creates the zero-valued series that exist whatever runs.
pub fn register_common() {
    metrics::counter!("redsol_actor_restarts_total", "actor" => "conversation").absolute(0);
    metrics::gauge!("redsol_outbox_pending").set(0.0);
    for i in Intent::ALL {
        metrics::counter!("redsol_intents_total", "intent" => i.as_str(), "source" => "rules")
            .absolute(0);
    }
}

/// Zero series of the language model, when Gemini is configured.
pub fn register_llm() {
    metrics::gauge!("redsol_llm_breaker_state").set(0.0);
    for i in Intent::ALL {
        metrics::counter!("redsol_intents_total", "intent" => i.as_str(), "source" => "llm")
            .absolute(0);
    }
}

/// Creates the zero-valued series of the WhatsApp webhook.
pub fn register_whatsapp() {
    for reason in [
        "missing_signature",
        "malformed_signature",
        "bad_signature",
        "malformed",
        "unexpected_object",
        "bad_verify_token",
        "too_large",
    ] {
        metrics::counter!("redsol_webhook_rejected_total", "channel" => "whatsapp", "reason" => reason)
            .absolute(0);
    }
    metrics::counter!("redsol_duplicates_total", "channel" => "whatsapp").absolute(0);
    for status in ["sent", "delivered", "read", "failed"] {
        metrics::counter!("redsol_whatsapp_statuses_total", "status" => status).absolute(0);
    }
}
