//! The Google Sheets v4 API through google-sheets4 (and its service-account OAuth, yup-oauth2),
//! over rustls with ring. Every call has a timeout, is timed in
//! `redsol_store_request_seconds{backend="sheets"}`, and fails with a [`SheetsError`] that says
//! whether a retry may help and whether a write may have landed.

use anyhow::Context as _;
use google_sheets4::api::{Scope, ValueRange};
use google_sheets4::common::{Body, Delegate, Response, Retry};
use google_sheets4::hyper_util::client::legacy::connect::HttpConnector;
use google_sheets4::hyper_util::client::legacy::Client;
use google_sheets4::hyper_util::rt::TokioExecutor;
use google_sheets4::{hyper, hyper_rustls, yup_oauth2, Sheets};
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

type Connector = hyper_rustls::HttpsConnector<HttpConnector>;
type Auth = yup_oauth2::authenticator::Authenticator<Connector>;

/// Why a Sheets call failed.
#[derive(Debug, thiserror::Error)]
pub enum SheetsError {
    #[error("rate limited (429): {0}")]
    RateLimited(String),
    #[error("Google error {status}: {message}")]
    Server { status: u16, message: String },
    #[error("access refused ({status}): {message}; is the sheet shared with the service account's email?")]
    Unauthorized { status: u16, message: String },
    #[error("request refused ({status}): {message}")]
    Client { status: u16, message: String },
    #[error("no access token: {detail}")]
    Token { transient: bool, detail: String },
    #[error("cannot connect: {0}")]
    NotSent(String),
    #[error("connection lost before the answer: {0}")]
    Disconnected(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("unreadable answer: {0}")]
    Decode(String),
}

impl SheetsError {
    /// For a write: it may or may not have been applied (re-read before retrying).
    pub fn outcome_unknown(&self) -> bool {
        match self {
            SheetsError::Disconnected(_) | SheetsError::Timeout(_) | SheetsError::Decode(_) => true,
            SheetsError::Server { status, .. } => *status != 503,
            _ => false,
        }
    }

    /// Whether waiting and trying again may help (429, 5xx, network, an unreachable token
    /// endpoint, and a 401 after which a new token was fetched).
    pub fn retryable(&self) -> bool {
        !matches!(
            self,
            SheetsError::Client { .. }
                | SheetsError::Unauthorized { status: 403, .. }
                | SheetsError::Token {
                    transient: false,
                    ..
                }
        )
    }

    /// Whether Google could not be reached or did not answer usefully (a saved copy may stand
    /// in), as opposed to refusing us (a missing tab, a refused key: someone must fix it).
    pub fn unreachable(&self) -> bool {
        match self {
            SheetsError::RateLimited(_)
            | SheetsError::Server { .. }
            | SheetsError::NotSent(_)
            | SheetsError::Disconnected(_)
            | SheetsError::Timeout(_)
            | SheetsError::Decode(_) => true,
            SheetsError::Token { transient, .. } => *transient,
            // A 401 refuses a token (expired, revoked): a new one is fetched at once.
            SheetsError::Unauthorized { status: 401, .. } => true,
            SheetsError::Unauthorized { .. } | SheetsError::Client { .. } => false,
        }
    }

    fn outcome(&self) -> &'static str {
        match self {
            SheetsError::RateLimited(_) => "rate_limited",
            SheetsError::Timeout(_) => "timeout",
            _ => "error",
        }
    }
}

/// Keeps the HTTP status of a failed response (the crate's error keeps only the body).
#[derive(Default)]
struct Status(Option<u16>);

impl Delegate for Status {
    fn http_failure(&mut self, resp: &Response, _err: Option<&Value>) -> Retry {
        self.0 = Some(resp.status().as_u16());
        // Retries are the store's: it knows the write budget and what may have landed.
        Retry::Abort
    }
}

fn classify(err: google_sheets4::Error, status: Option<u16>) -> SheetsError {
    use google_sheets4::Error as E;
    let by_status = |status: u16, message: String| match status {
        429 => SheetsError::RateLimited(message),
        401 | 403 => SheetsError::Unauthorized { status, message },
        500..=599 => SheetsError::Server { status, message },
        _ => SheetsError::Client { status, message },
    };
    let short = |s: String| s.chars().take(300).collect::<String>();
    match err {
        E::BadRequest(body) => {
            let code = body["error"]["code"].as_u64().map(|c| c as u16);
            let message = body["error"]["message"].as_str().unwrap_or_default();
            by_status(code.or(status).unwrap_or(0), short(message.to_string()))
        }
        E::Failure(resp) => by_status(
            resp.status().as_u16(),
            format!("non-JSON error body ({})", resp.status()),
        ),
        E::HttpError(e) if e.is_connect() => SheetsError::NotSent(short(e.to_string())),
        E::HttpError(e) => {
            let detail = std::error::Error::source(&e)
                .and_then(|s| s.downcast_ref::<hyper::Error>())
                .map(|h| h.to_string())
                .unwrap_or_else(|| e.to_string());
            SheetsError::Disconnected(short(detail))
        }
        // yup-oauth2's errors name the token endpoint and the OAuth error, never the key. An
        // OAuth error code of RFC 6749 (invalid_grant...) means the key, scope or clock is
        // wrong; anything else (unreachable, garbage) may pass.
        E::MissingToken(e) => {
            let transient = match e.downcast_ref::<yup_oauth2::Error>() {
                Some(yup_oauth2::Error::AuthError(a)) => {
                    matches!(a.error, yup_oauth2::error::AuthErrorCode::Other(_))
                }
                Some(yup_oauth2::Error::UserError(_) | yup_oauth2::Error::LowLevelError(_)) => {
                    false
                }
                _ => true,
            };
            SheetsError::Token {
                transient,
                detail: short(e.to_string()),
            }
        }
        E::JsonDecodeError(_, e) => SheetsError::Decode(short(e.to_string())),
        E::Io(e) => SheetsError::Disconnected(short(e.to_string())),
        other => SheetsError::Decode(short(other.to_string())),
    }
}

fn observe<T>(op: &'static str, started: Instant, result: &Result<T, SheetsError>) {
    let outcome = match result {
        Ok(_) => "ok",
        Err(e) => e.outcome(),
    };
    metrics::histogram!(
        "redsol_store_request_seconds",
        "backend" => "sheets",
        "op" => op,
        "outcome" => outcome
    )
    .record(started.elapsed().as_secs_f64());
}

fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A range covering a whole tab, quoted as A1 notation wants.
pub fn whole(tab: &str) -> String {
    format!("'{tab}'")
}

/// Rows of plain text as the body of a write.
fn plain_rows(rows: Vec<Vec<String>>) -> ValueRange {
    ValueRange {
        major_dimension: Some("ROWS".into()),
        range: None,
        values: Some(
            rows.into_iter()
                .map(|r| r.into_iter().map(Value::String).collect())
                .collect(),
        ),
    }
}

/// One spreadsheet, through one authenticated client.
pub struct SheetsApi {
    hub: Sheets<Connector>,
    /// The hub's authenticator (they share one token cache), to replace a refused token.
    auth: Auth,
    sheet_id: String,
    timeout: Duration,
}

impl SheetsApi {
    /// Reads the service-account key (its `token_uri` is where tokens come from) and builds
    /// the client for `base_url` (`https://sheets.googleapis.com/`, or a fake in tests).
    pub async fn connect(
        credentials: &Path,
        base_url: &str,
        sheet_id: &str,
        timeout: Duration,
    ) -> anyhow::Result<SheetsApi> {
        let key = yup_oauth2::read_service_account_key(credentials)
            .await
            .with_context(|| {
                format!(
                    "GOOGLE_APPLICATION_CREDENTIALS: cannot read a service-account key from {}",
                    credentials.display()
                )
            })?;
        let tls = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .context("TLS setup for Google")?;
        // Plain http only for a local fake; Google itself is always https.
        let tls = if base_url.starts_with("http://127.0.0.1")
            || base_url.starts_with("http://localhost")
        {
            tls.https_or_http()
        } else {
            tls.https_only()
        };
        let connector = tls.enable_http1().build();
        let token_client =
            Client::builder(TokioExecutor::new()).build::<_, String>(connector.clone());
        let auth = yup_oauth2::ServiceAccountAuthenticator::with_client(
            key,
            yup_oauth2::CustomHyperClientBuilder::from(token_client),
        )
        .with_timeout(timeout)
        .build()
        .await
        .context("cannot set up the service-account authenticator")?;
        let client = Client::builder(TokioExecutor::new()).build::<_, Body>(connector);
        let mut hub = Sheets::new(client, auth.clone());
        let base = format!("{}/", base_url.trim_end_matches('/'));
        hub.base_url(base.clone());
        hub.root_url(base);
        Ok(SheetsApi {
            hub,
            auth,
            sheet_id: sheet_id.to_string(),
            timeout,
        })
    }

    /// The header row of a tab.
    pub async fn headers(&self, tab: &str) -> Result<Vec<String>, SheetsError> {
        let mut rows = self.get(&format!("{}!1:1", whole(tab))).await?;
        Ok(if rows.is_empty() {
            Vec::new()
        } else {
            rows.swap_remove(0)
        })
    }

    /// The rows of a range as text (Google leaves out trailing empty cells and rows).
    pub async fn get(&self, range: &str) -> Result<Vec<Vec<String>>, SheetsError> {
        let started = Instant::now();
        let mut status = Status::default();
        let call = self
            .hub
            .spreadsheets()
            .values_get(&self.sheet_id, range)
            .add_scope(Scope::Spreadsheet)
            .delegate(&mut status)
            .doit();
        let answer = tokio::time::timeout(self.timeout, call).await;
        let values = self.settle("get", started, answer, status).await?;
        Ok(rows(&values))
    }

    /// Appends rows after the last row of the table in `range`, as plain values
    /// (`valueInputOption=RAW`, `insertDataOption=INSERT_ROWS`): one write request.
    pub async fn append(&self, range: &str, new_rows: Vec<Vec<String>>) -> Result<(), SheetsError> {
        let started = Instant::now();
        let body = plain_rows(new_rows);
        let mut status = Status::default();
        let call = self
            .hub
            .spreadsheets()
            .values_append(body, &self.sheet_id, range)
            .value_input_option("RAW")
            .insert_data_option("INSERT_ROWS")
            .add_scope(Scope::Spreadsheet)
            .delegate(&mut status)
            .doit();
        let answer = tokio::time::timeout(self.timeout, call).await;
        self.settle("append", started, answer, status).await?;
        Ok(())
    }

    /// Writes `values` at `range` (one cell or a block), as plain values (`RAW`).
    pub async fn update(&self, range: &str, values: Vec<Vec<String>>) -> Result<(), SheetsError> {
        let started = Instant::now();
        let body = plain_rows(values);
        let mut status = Status::default();
        let call = self
            .hub
            .spreadsheets()
            .values_update(body, &self.sheet_id, range)
            .value_input_option("RAW")
            .add_scope(Scope::Spreadsheet)
            .delegate(&mut status)
            .doit();
        let answer = tokio::time::timeout(self.timeout, call).await;
        self.settle("update", started, answer, status).await?;
        Ok(())
    }

    /// The outcome of a call made with a timeout and a [`Status`] delegate: classified, timed,
    /// and after a 401, a new token fetched (yup-oauth2 would keep a refused token until it
    /// expires).
    async fn settle<T>(
        &self,
        op: &'static str,
        started: Instant,
        answer: Result<google_sheets4::Result<(Response, T)>, tokio::time::error::Elapsed>,
        status: Status,
    ) -> Result<T, SheetsError> {
        let result = match answer {
            Err(_) => Err(SheetsError::Timeout(self.timeout)),
            Ok(Ok((_, value))) => Ok(value),
            Ok(Err(e)) => Err(classify(e, status.0)),
        };
        observe(op, started, &result);
        if let Err(SheetsError::Unauthorized { status: 401, .. }) = &result {
            match tokio::time::timeout(
                self.timeout,
                self.auth.force_refreshed_token(&[Scope::Spreadsheet]),
            )
            .await
            {
                Ok(Ok(_)) => tracing::info!("Sheets refused the access token; fetched a new one"),
                Ok(Err(e)) => tracing::warn!(error = %e, "cannot fetch a new access token"),
                Err(_) => tracing::warn!("no new access token within the timeout"),
            }
        }
        result
    }
}

fn rows(values: &ValueRange) -> Vec<Vec<String>> {
    values
        .values
        .as_ref()
        .map(|rows| rows.iter().map(|r| r.iter().map(cell).collect()).collect())
        .unwrap_or_default()
}
