//! In-process fakes of Google's OAuth2 token endpoint and the Sheets v4 values API, served on
//! 127.0.0.1 for offline tests. Use from an integration test with `mod fake;`.
//!
//! One server (one port) answers both `POST /token` and `/v4/spreadsheets/...`, so the service
//! account file's `token_uri` is `{base}/token` and the hub's base/root url is `{base}/`.
//!
//! Fidelity notes (what the real services do and this fake copies):
//! - errors use Google's JSON shapes: `{"error":{"code","message","status"}}` for Sheets,
//!   `{"error","error_description"}` for OAuth;
//! - values.get omits trailing empty cells/rows and omits `values` entirely for an empty range;
//!   `range` echoes the requested range clipped to the grid (1000 rows x 26 columns minimum);
//! - a tab that does not exist answers 400 `Unable to parse range: ...`;
//! - writes require `valueInputOption` (this fake accepts only RAW).
//!
//! Not modelled: named ranges, majorDimension=COLUMNS, Google's "logical table" detection for
//! append (the fake appends after the last non-empty row of the tab), formulas, number formats.
#![allow(dead_code, clippy::result_large_err)]

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::{Body, Bytes};
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use axum::{Json, Router};
use base64::Engine as _;
use rsa::pkcs8::{EncodePrivateKey, LineEnding};
use rsa::signature::Verifier as _;
use rsa::{RsaPrivateKey, RsaPublicKey};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower::ServiceExt as _;

pub const SPREADSHEETS_SCOPE: &str = "https://www.googleapis.com/auth/spreadsheets";
pub const SPREADSHEET_ID: &str = "1FakeSpreadsheetId_redsol";
pub const CLIENT_EMAIL: &str = "redsol-bot@redsol-test.iam.gserviceaccount.com";

const GRID_ROWS: usize = 1000;
const GRID_COLS: usize = 26;

// ---------------------------------------------------------------------------------------------
// Test key and service-account file
// ---------------------------------------------------------------------------------------------

/// An RSA-2048 key pair generated once per test binary (keygen costs ~0.1-1 s; see report).
pub struct TestKey {
    pub private_pkcs8_pem: String,
    pub public: RsaPublicKey,
    pub keygen_time: Duration,
}

pub fn test_key() -> &'static TestKey {
    static KEY: OnceLock<TestKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let started = Instant::now();
        let private = RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("rsa keygen");
        let keygen_time = started.elapsed();
        let pem = private
            .to_pkcs8_pem(LineEnding::LF)
            .expect("pkcs8 pem")
            .to_string();
        TestKey {
            public: private.to_public_key(),
            private_pkcs8_pem: pem,
            keygen_time,
        }
    })
}

/// Writes a Google-shaped service-account JSON key file into `dir` and returns its path.
pub fn write_service_account(dir: &Path, token_uri: &str, key: &TestKey) -> PathBuf {
    let doc = json!({
        "type": "service_account",
        "project_id": "redsol-test",
        "private_key_id": "0123456789abcdef0123456789abcdef01234567",
        "private_key": key.private_pkcs8_pem,
        "client_email": CLIENT_EMAIL,
        "client_id": "100000000000000000001",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/redsol-bot%40redsol-test.iam.gserviceaccount.com",
        "universe_domain": "googleapis.com"
    });
    let path = dir.join("service-account.json");
    std::fs::write(&path, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    path
}

// ---------------------------------------------------------------------------------------------
// Kinds, faults, state
// ---------------------------------------------------------------------------------------------

/// What a request was, for counters and fault targeting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    Token,
    Get,
    BatchGet,
    Append,
    Update,
    Other,
}

/// Which requests a fault applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// Any Sheets request (not the token endpoint).
    AnySheets,
    /// values.get and values.batchGet.
    Read,
    Append,
    Update,
    Token,
}

impl Target {
    fn matches(self, kind: Kind) -> bool {
        match self {
            Target::AnySheets => kind != Kind::Token,
            Target::Read => matches!(kind, Kind::Get | Kind::BatchGet),
            Target::Append => kind == Kind::Append,
            Target::Update => kind == Kind::Update,
            Target::Token => kind == Kind::Token,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status and Google's error JSON; nothing is applied.
    Status(u16),
    /// Never answer (until the fake is dropped); nothing is applied.
    Hang,
    /// Apply the request to the tabs, then never answer.
    ApplyThenHang,
    /// Close the connection without answering; nothing is applied.
    Drop,
    /// Apply the request to the tabs, then close the connection without answering.
    ApplyThenDrop,
}

struct Rule {
    target: Target,
    fault: Fault,
    remaining: usize,
}

pub type Tabs = BTreeMap<String, Vec<Vec<String>>>;

struct Inner {
    spreadsheet_id: String,
    client_email: String,
    expected_scope: String,
    token_uri: String,
    token_expires_in: i64,
    tabs: Tabs,
    issued: HashSet<String>,
    next_token: u64,
    counts: HashMap<Kind, usize>,
    rules: VecDeque<Rule>,
    token_rejections: Vec<String>,
}

impl Inner {
    fn take_fault(&mut self, kind: Kind) -> Option<Fault> {
        let idx = self.rules.iter().position(|r| r.target.matches(kind))?;
        let rule = &mut self.rules[idx];
        let fault = rule.fault;
        rule.remaining -= 1;
        if rule.remaining == 0 {
            self.rules.remove(idx);
        }
        Some(fault)
    }
}

#[derive(Clone)]
struct Shared {
    inner: Arc<Mutex<Inner>>,
    public: RsaPublicKey,
    shutdown: watch::Receiver<bool>,
}

/// Marker put in a response's extensions: the connection wrapper closes the socket instead of
/// sending the response.
#[derive(Clone, Copy)]
struct DropConnection;

#[derive(Debug)]
struct DroppedOnPurpose;
impl std::fmt::Display for DroppedOnPurpose {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("fake: connection dropped on purpose")
    }
}
impl std::error::Error for DroppedOnPurpose {}

// ---------------------------------------------------------------------------------------------
// The server handle
// ---------------------------------------------------------------------------------------------

pub struct FakeGoogle {
    pub addr: SocketAddr,
    shared: Shared,
    shutdown_tx: watch::Sender<bool>,
    accept_task: JoinHandle<()>,
}

impl FakeGoogle {
    /// Starts the fake on 127.0.0.1:<ephemeral> with the shared test key, spreadsheet
    /// `SPREADSHEET_ID`, client email `CLIENT_EMAIL` and expected scope `SPREADSHEETS_SCOPE`.
    pub async fn start() -> FakeGoogle {
        Self::start_with(SPREADSHEETS_SCOPE, test_key().public.clone()).await
    }

    pub async fn start_with(expected_scope: &str, public: RsaPublicKey) -> FakeGoogle {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1");
        let addr = listener.local_addr().unwrap();
        let (shutdown_tx, shutdown_rx) = watch::channel(false);
        let shared = Shared {
            inner: Arc::new(Mutex::new(Inner {
                spreadsheet_id: SPREADSHEET_ID.to_string(),
                client_email: CLIENT_EMAIL.to_string(),
                expected_scope: expected_scope.to_string(),
                token_uri: format!("http://{addr}/token"),
                token_expires_in: 3600,
                tabs: Tabs::new(),
                issued: HashSet::new(),
                next_token: 0,
                counts: HashMap::new(),
                rules: VecDeque::new(),
                token_rejections: Vec::new(),
            })),
            public,
            shutdown: shutdown_rx,
        };
        let router = Router::new()
            .route("/token", post(token_handler))
            .route("/v4/spreadsheets/{id}/{*rest}", any(sheets_handler))
            .with_state(shared.clone());
        let accept_task = tokio::spawn(accept_loop(listener, router, shared.shutdown.clone()));
        FakeGoogle {
            addr,
            shared,
            shutdown_tx,
            accept_task,
        }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn token_uri(&self) -> String {
        format!("{}/token", self.base_url())
    }

    /// Writes the service-account file whose `token_uri` points at this fake.
    pub fn write_service_account(&self, dir: &Path) -> PathBuf {
        write_service_account(dir, &self.token_uri(), test_key())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.shared.inner.lock().unwrap()
    }

    // --- tabs (staff editing the sheet) ---

    pub fn set_tab(&self, name: &str, rows: Vec<Vec<&str>>) {
        let rows = rows
            .into_iter()
            .map(|r| r.into_iter().map(str::to_string).collect())
            .collect();
        self.lock().tabs.insert(name.to_string(), rows);
    }

    pub fn tab(&self, name: &str) -> Option<Vec<Vec<String>>> {
        self.lock().tabs.get(name).cloned()
    }

    pub fn remove_tab(&self, name: &str) {
        self.lock().tabs.remove(name);
    }

    /// Arbitrary edit of all tabs under the lock.
    pub fn edit<R>(&self, f: impl FnOnce(&mut Tabs) -> R) -> R {
        f(&mut self.lock().tabs)
    }

    // --- faults ---

    /// Applies `fault` to the next `n` requests matching `target` (rules are consumed in the
    /// order they were added; non-matching requests pass through).
    pub fn inject(&self, target: Target, fault: Fault, n: usize) {
        if n > 0 {
            self.lock().rules.push_back(Rule {
                target,
                fault,
                remaining: n,
            });
        }
    }

    pub fn fail_next(&self, n: usize, target: Target, status: u16) {
        self.inject(target, Fault::Status(status), n)
    }

    pub fn hang_next(&self, n: usize, target: Target) {
        self.inject(target, Fault::Hang, n)
    }

    pub fn apply_then_drop_next_appends(&self, n: usize) {
        self.inject(Target::Append, Fault::ApplyThenDrop, n)
    }

    pub fn clear_faults(&self) {
        self.lock().rules.clear();
    }

    // --- tokens ---

    /// Forgets every issued token: the next Sheets request answers 401.
    pub fn revoke_tokens(&self) {
        self.lock().issued.clear();
    }

    /// `expires_in` of the next tokens (yup-oauth2 treats a token as expired 60 s early, so
    /// `<= 60` makes every call fetch a new one).
    pub fn set_token_expires_in(&self, secs: i64) {
        self.lock().token_expires_in = secs;
    }

    pub fn token_rejections(&self) -> Vec<String> {
        self.lock().token_rejections.clone()
    }

    // --- counters (every arriving request, faulted or not) ---

    pub fn count(&self, kind: Kind) -> usize {
        self.lock().counts.get(&kind).copied().unwrap_or(0)
    }

    pub fn token_requests(&self) -> usize {
        self.count(Kind::Token)
    }
}

impl Drop for FakeGoogle {
    fn drop(&mut self) {
        let _ = self.shutdown_tx.send(true);
        self.accept_task.abort();
    }
}

/// Serves each connection with hyper directly (instead of `axum::serve`) so a handler can make
/// the connection close without a response: the wrapper service returns `Err` when the response
/// carries `DropConnection`, and hyper then closes the socket without writing anything.
async fn accept_loop(listener: TcpListener, router: Router, shutdown: watch::Receiver<bool>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let router = router.clone();
        let mut shutdown = shutdown.clone();
        tokio::spawn(async move {
            let svc =
                hyper::service::service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let router = router.clone();
                    async move {
                        let resp = router
                            .oneshot(req.map(Body::new))
                            .await
                            .unwrap_or_else(|e: Infallible| match e {});
                        if resp.extensions().get::<DropConnection>().is_some() {
                            return Err(DroppedOnPurpose);
                        }
                        Ok::<_, DroppedOnPurpose>(resp)
                    }
                });
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), svc);
            tokio::select! {
                _ = conn => {}
                _ = shutdown.wait_for(|v| *v) => {}
            }
        });
    }
}

// ---------------------------------------------------------------------------------------------
// Responses
// ---------------------------------------------------------------------------------------------

fn google_error(code: u16, message: &str) -> Response {
    let status = match code {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        500 => "INTERNAL",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "UNKNOWN",
    };
    let code_status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (
        code_status,
        Json(json!({"error": {"code": code, "message": message, "status": status}})),
    )
        .into_response()
}

fn fault_message(code: u16) -> &'static str {
    match code {
        429 => "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute per user' of service 'sheets.googleapis.com' for consumer 'project_number:000000000000'.",
        500 => "Internal error encountered.",
        503 => "The service is currently unavailable.",
        504 => "The request timed out. Please try again.",
        _ => "Injected failure.",
    }
}

fn drop_connection() -> Response {
    let mut resp = Response::new(Body::empty());
    resp.extensions_mut().insert(DropConnection);
    resp
}

async fn hang_forever(mut shutdown: watch::Receiver<bool>) -> Response {
    let _ = shutdown.wait_for(|v| *v).await;
    drop_connection()
}

// ---------------------------------------------------------------------------------------------
// OAuth2 token endpoint
// ---------------------------------------------------------------------------------------------

fn oauth_error(code: StatusCode, error: &str, description: &str) -> Response {
    (
        code,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

async fn token_handler(State(s): State<Shared>, body: Bytes) -> Response {
    let fault = {
        let mut inner = s.inner.lock().unwrap();
        *inner.counts.entry(Kind::Token).or_default() += 1;
        inner.take_fault(Kind::Token)
    };
    match fault {
        Some(Fault::Status(code)) => {
            return oauth_error(
                StatusCode::from_u16(code).unwrap(),
                "internal_failure",
                "Injected token endpoint failure.",
            )
        }
        Some(Fault::Hang | Fault::ApplyThenHang) => return hang_forever(s.shutdown.clone()).await,
        Some(Fault::Drop | Fault::ApplyThenDrop) => return drop_connection(),
        None => {}
    }

    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    if form.get("grant_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "Invalid grant_type.",
        );
    }
    let Some(assertion) = form.get("assertion") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Missing required parameter: assertion",
        );
    };

    let mut inner = s.inner.lock().unwrap();
    if let Err(reason) = verify_assertion(assertion, &s.public, &inner) {
        inner.token_rejections.push(reason.clone());
        return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", &reason);
    }
    inner.next_token += 1;
    let token = format!("ya29.fake-{}-{}", inner.next_token, std::process::id());
    inner.issued.insert(token.clone());
    Json(json!({"access_token": token, "expires_in": inner.token_expires_in, "token_type": "Bearer"}))
        .into_response()
}

/// Base64url decode accepting padding: yup-oauth2 encodes JWT parts with padded URL_SAFE
/// (Google accepts it; strict JWT libraries decoding with NO_PAD would reject it).
fn b64url(part: &str) -> Result<Vec<u8>, String> {
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .map_err(|e| format!("bad base64: {e}"))
}

fn verify_assertion(jwt: &str, public: &RsaPublicKey, inner: &Inner) -> Result<(), String> {
    let parts: Vec<&str> = jwt.split('.').collect();
    let [head, claims, sig] = parts[..] else {
        return Err("Invalid JWT: not three parts".into());
    };
    let header: Value =
        serde_json::from_slice(&b64url(head)?).map_err(|e| format!("bad header: {e}"))?;
    if header["alg"] != "RS256" {
        return Err(format!("Invalid JWT: alg {} is not RS256", header["alg"]));
    }
    let signature = rsa::pkcs1v15::Signature::try_from(b64url(sig)?.as_slice())
        .map_err(|e| format!("bad signature encoding: {e}"))?;
    let verifier = rsa::pkcs1v15::VerifyingKey::<rsa::sha2::Sha256>::new(public.clone());
    let signed = &jwt[..head.len() + 1 + claims.len()];
    verifier
        .verify(signed.as_bytes(), &signature)
        .map_err(|_| "Invalid JWT Signature.".to_string())?;

    let c: Value =
        serde_json::from_slice(&b64url(claims)?).map_err(|e| format!("bad claims: {e}"))?;
    if c["iss"] != inner.client_email.as_str() {
        return Err(format!(
            "Invalid JWT: iss {} is not {}",
            c["iss"], inner.client_email
        ));
    }
    if c["aud"] != inner.token_uri.as_str() {
        return Err(format!(
            "Invalid JWT: aud {} is not {}",
            c["aud"], inner.token_uri
        ));
    }
    if c["scope"] != inner.expected_scope.as_str() {
        return Err(format!(
            "Invalid JWT: scope {} is not {}",
            c["scope"], inner.expected_scope
        ));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let (Some(iat), Some(exp)) = (c["iat"].as_i64(), c["exp"].as_i64()) else {
        return Err("Invalid JWT: iat/exp missing".into());
    };
    if (iat - now).abs() > 300 {
        return Err(format!("Invalid JWT: iat {iat} too far from now {now}"));
    }
    if exp <= now || exp <= iat || exp - iat > 3600 {
        return Err(format!("Invalid JWT: exp {exp} not in (now, iat+3600]"));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Sheets v4 values API
// ---------------------------------------------------------------------------------------------

async fn sheets_handler(
    State(s): State<Shared>,
    UrlPath((id, rest)): UrlPath<(String, String)>,
    method: Method,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
    // What is it?
    let (kind, range) = if rest == "values:batchGet" && method == Method::GET {
        (Kind::BatchGet, String::new())
    } else if let Some(r) = rest.strip_prefix("values/") {
        if let Some(r) = r.strip_suffix(":append") {
            (
                if method == Method::POST {
                    Kind::Append
                } else {
                    Kind::Other
                },
                r.to_string(),
            )
        } else if method == Method::GET {
            (Kind::Get, r.to_string())
        } else if method == Method::PUT {
            (Kind::Update, r.to_string())
        } else {
            (Kind::Other, r.to_string())
        }
    } else {
        (Kind::Other, String::new())
    };

    let fault = {
        let mut inner = s.inner.lock().unwrap();
        *inner.counts.entry(kind).or_default() += 1;
        inner.take_fault(kind)
    };
    match fault {
        Some(Fault::Status(code)) => return google_error(code, fault_message(code)),
        Some(Fault::Hang) => return hang_forever(s.shutdown.clone()).await,
        Some(Fault::Drop) => return drop_connection(),
        _ => {}
    }

    let resp = process(&s, kind, &id, &range, &query, &headers, &body);
    match fault {
        Some(Fault::ApplyThenDrop) => drop_connection(),
        Some(Fault::ApplyThenHang) => hang_forever(s.shutdown.clone()).await,
        _ => resp,
    }
}

/// Auth, id and the operation itself, under the state lock (sync so no guard crosses an await).
fn process(
    s: &Shared,
    kind: Kind,
    id: &str,
    range: &str,
    query: &[(String, String)],
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let mut inner = s.inner.lock().unwrap();
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !bearer.is_some_and(|t| inner.issued.contains(t)) {
        return google_error(401, "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.");
    }
    if id != inner.spreadsheet_id {
        return google_error(404, "Requested entity was not found.");
    }
    let sid = inner.spreadsheet_id.clone();
    let resp = match kind {
        Kind::Get => values_get(&inner.tabs, range),
        Kind::BatchGet => {
            let ranges: Vec<&str> = query
                .iter()
                .filter(|(k, _)| k == "ranges")
                .map(|(_, v)| v.as_str())
                .collect();
            let mut out = Vec::new();
            let mut err = None;
            for r in ranges {
                match values_get(&inner.tabs, r) {
                    Ok(v) => out.push(v),
                    Err(e) => {
                        err = Some(e);
                        break;
                    }
                }
            }
            match err {
                Some(e) => Err(e),
                None => Ok(json!({"spreadsheetId": sid, "valueRanges": out})),
            }
        }
        Kind::Append | Kind::Update => {
            let opt = param("valueInputOption");
            if opt != Some("RAW") {
                let msg = match opt {
                    None => "'valueInputOption' is required but not specified".to_string(),
                    Some(o) => {
                        format!("Invalid valueInputOption: {o} (this fake accepts RAW only)")
                    }
                };
                return google_error(400, &msg);
            }
            if kind == Kind::Append {
                match param("insertDataOption") {
                    None | Some("INSERT_ROWS") | Some("OVERWRITE") => {}
                    Some(o) => {
                        return google_error(
                            400,
                            &format!("Invalid value at 'insert_data_option' ({o})"),
                        )
                    }
                }
            }
            let values = match parse_values(body) {
                Ok(v) => v,
                Err(e) => return google_error(400, &e),
            };
            if kind == Kind::Append {
                values_append(&mut inner.tabs, &sid, range, values)
            } else {
                values_update(&mut inner.tabs, &sid, range, values)
            }
        }
        Kind::Other | Kind::Token => Err(google_error(404, "Method not found.")),
    };
    match resp {
        Ok(v) => Json(v).into_response(),
        Err(r) => r,
    }
}

fn parse_values(body: &[u8]) -> Result<Vec<Vec<Option<String>>>, String> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| format!("Invalid JSON payload received. {e}"))?;
    if let Some(d) = v.get("majorDimension").and_then(Value::as_str) {
        if d != "ROWS" {
            return Err(format!("fake supports majorDimension ROWS only, got {d}"));
        }
    }
    let rows = match v.get("values") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(rows)) => rows,
        Some(_) => return Err("Invalid JSON payload received. 'values' is not a list".into()),
    };
    rows.iter()
        .map(|row| {
            let Value::Array(cells) = row else {
                return Err("Invalid JSON payload: row is not a list".to_string());
            };
            cells
                .iter()
                .map(|c| match c {
                    Value::Null => Ok(None),
                    Value::String(s) => Ok(Some(s.clone())),
                    Value::Bool(b) => Ok(Some(if *b { "TRUE".into() } else { "FALSE".into() })),
                    Value::Number(n) => Ok(Some(n.to_string())),
                    _ => Err("Invalid JSON payload: cell is not a scalar".to_string()),
                })
                .collect()
        })
        .collect()
}

// --- A1 notation ---

#[derive(Debug, Clone)]
struct A1 {
    sheet: String,
    c0: usize,
    r0: usize,
    /// Inclusive; None = unbounded.
    c1: Option<usize>,
    r1: Option<usize>,
}

fn parse_a1(range: &str) -> Option<A1> {
    let (sheet, cells) = if let Some(rest) = range.strip_prefix('\'') {
        // Quoted sheet name, '' escapes a quote.
        let mut name = String::new();
        let mut chars = rest.char_indices().peekable();
        let mut end = None;
        while let Some((i, ch)) = chars.next() {
            if ch == '\'' {
                if matches!(chars.peek(), Some((_, '\''))) {
                    chars.next();
                    name.push('\'');
                } else {
                    end = Some(i + 1);
                    break;
                }
            } else {
                name.push(ch);
            }
        }
        let after = &rest[end?..];
        match after.strip_prefix('!') {
            Some(c) => (name, Some(c)),
            None if after.is_empty() => (name, None),
            None => return None,
        }
    } else {
        match range.split_once('!') {
            Some((n, c)) => (n.to_string(), Some(c)),
            None => (range.to_string(), None),
        }
    };
    if sheet.is_empty() {
        return None;
    }
    let Some(cells) = cells else {
        return Some(A1 {
            sheet,
            c0: 0,
            r0: 0,
            c1: None,
            r1: None,
        });
    };
    let (start, end) = match cells.split_once(':') {
        Some((a, b)) => (parse_ref(a)?, parse_ref(b)?),
        None => {
            let r = parse_ref(cells)?;
            (r, r)
        }
    };
    let a1 = A1 {
        sheet,
        c0: start.0.unwrap_or(0),
        r0: start.1.unwrap_or(0),
        c1: end.0,
        r1: end.1,
    };
    if a1.c1.is_some_and(|c| c < a1.c0) || a1.r1.is_some_and(|r| r < a1.r0) {
        return None;
    }
    Some(a1)
}

/// "AB12" -> (Some(27), Some(11)); "A" -> (Some(0), None); "3" -> (None, Some(2)).
fn parse_ref(s: &str) -> Option<(Option<usize>, Option<usize>)> {
    let letters: String = s.chars().take_while(|c| c.is_ascii_alphabetic()).collect();
    let digits = &s[letters.len()..];
    if letters.is_empty() && digits.is_empty() {
        return None;
    }
    let col = if letters.is_empty() {
        None
    } else {
        Some(
            letters
                .to_ascii_uppercase()
                .bytes()
                .fold(0usize, |acc, b| acc * 26 + (b - b'A' + 1) as usize)
                - 1,
        )
    };
    let row = if digits.is_empty() {
        None
    } else {
        let n: usize = digits.parse().ok()?;
        if n == 0 {
            return None;
        }
        Some(n - 1)
    };
    Some((col, row))
}

fn col_name(mut c: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap()
}

fn sheet_ref(name: &str) -> String {
    if name.chars().all(|c| c.is_alphanumeric() || c == '_')
        && !name.chars().next().unwrap().is_ascii_digit()
    {
        name.to_string()
    } else {
        format!("'{}'", name.replace('\'', "''"))
    }
}

fn fmt_range(sheet: &str, c0: usize, r0: usize, c1: usize, r1: usize) -> String {
    let s = sheet_ref(sheet);
    if c0 == c1 && r0 == r1 {
        format!("{s}!{}{}", col_name(c0), r0 + 1)
    } else {
        format!("{s}!{}{}:{}{}", col_name(c0), r0 + 1, col_name(c1), r1 + 1)
    }
}

fn parse_range_or_400<'t>(
    tabs: &'t Tabs,
    range: &str,
) -> Result<(A1, &'t Vec<Vec<String>>), Response> {
    let bad = || google_error(400, &format!("Unable to parse range: {range}"));
    let a1 = parse_a1(range).ok_or_else(bad)?;
    let rows = tabs.get(&a1.sheet).ok_or_else(bad)?;
    Ok((a1, rows))
}

fn grid(rows: &[Vec<String>]) -> (usize, usize) {
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    (rows.len().max(GRID_ROWS), width.max(GRID_COLS))
}

fn values_get(tabs: &Tabs, range: &str) -> Result<Value, Response> {
    let (a1, rows) = parse_range_or_400(tabs, range)?;
    let (grid_rows, grid_cols) = grid(rows);
    let r1 = a1.r1.unwrap_or(grid_rows - 1).min(grid_rows - 1);
    let c1 = a1.c1.unwrap_or(grid_cols - 1).min(grid_cols - 1);
    let mut out: Vec<Vec<String>> = Vec::new();
    for r in a1.r0..=r1 {
        let row = rows.get(r).map(Vec::as_slice).unwrap_or(&[]);
        let mut cells: Vec<String> = (a1.c0..=c1)
            .map(|c| row.get(c).cloned().unwrap_or_default())
            .collect();
        while cells.last().is_some_and(String::is_empty) {
            cells.pop();
        }
        out.push(cells);
    }
    while out.last().is_some_and(Vec::is_empty) {
        out.pop();
    }
    let mut v =
        json!({"range": fmt_range(&a1.sheet, a1.c0, a1.r0, c1, r1), "majorDimension": "ROWS"});
    if !out.is_empty() {
        v["values"] = json!(out);
    }
    Ok(v)
}

fn write_rows(
    tab: &mut Vec<Vec<String>>,
    r0: usize,
    c0: usize,
    values: &[Vec<Option<String>>],
) -> (usize, usize) {
    let mut cells = 0;
    let mut width = 0;
    for (i, row) in values.iter().enumerate() {
        let r = r0 + i;
        if tab.len() <= r {
            tab.resize(r + 1, Vec::new());
        }
        width = width.max(row.len());
        for (j, cell) in row.iter().enumerate() {
            if let Some(cell) = cell {
                let c = c0 + j;
                if tab[r].len() <= c {
                    tab[r].resize(c + 1, String::new());
                }
                tab[r][c] = cell.clone();
                cells += 1;
            }
        }
    }
    (width, cells)
}

fn values_append(
    tabs: &mut Tabs,
    sid: &str,
    range: &str,
    values: Vec<Vec<Option<String>>>,
) -> Result<Value, Response> {
    let (a1, rows) = parse_range_or_400(tabs, range)?;
    // Simplification of Google's table detection: the table is every row down to the last
    // non-empty one; new rows go right after it, starting at the range's first column.
    let last = rows.iter().rposition(|r| r.iter().any(|c| !c.is_empty()));
    let table_width = rows.iter().map(Vec::len).max().unwrap_or(0);
    let table_range = last.map(|l| fmt_range(&a1.sheet, 0, 0, table_width.max(1) - 1, l));
    let start = last.map_or(a1.r0, |l| (l + 1).max(a1.r0));
    let tab = tabs.get_mut(&a1.sheet).unwrap();
    let (width, cells) = write_rows(tab, start, a1.c0, &values);
    let mut v = json!({
        "spreadsheetId": sid,
        "updates": {
            "spreadsheetId": sid,
            "updatedRange": fmt_range(&a1.sheet, a1.c0, start, a1.c0 + width.max(1) - 1, start + values.len().max(1) - 1),
            "updatedRows": values.len(),
            "updatedColumns": width,
            "updatedCells": cells,
        }
    });
    if let Some(t) = table_range {
        v["tableRange"] = json!(t);
    }
    Ok(v)
}

fn values_update(
    tabs: &mut Tabs,
    sid: &str,
    range: &str,
    values: Vec<Vec<Option<String>>>,
) -> Result<Value, Response> {
    let (a1, _) = parse_range_or_400(tabs, range)?;
    let width = values.iter().map(Vec::len).max().unwrap_or(0);
    if let Some(r1) = a1.r1 {
        if !values.is_empty() && a1.r0 + values.len() - 1 > r1 {
            return Err(google_error(
                400,
                &format!(
                    "Requested writing within range [{range}], but tried writing to row [{}]",
                    a1.r0 + values.len()
                ),
            ));
        }
    }
    if let Some(c1) = a1.c1 {
        if width > 0 && a1.c0 + width - 1 > c1 {
            return Err(google_error(
                400,
                &format!(
                    "Requested writing within range [{range}], but tried writing to column [{}]",
                    col_name(a1.c0 + width - 1)
                ),
            ));
        }
    }
    let tab = tabs.get_mut(&a1.sheet).unwrap();
    let (width, cells) = write_rows(tab, a1.r0, a1.c0, &values);
    Ok(json!({
        "spreadsheetId": sid,
        "updatedRange": fmt_range(&a1.sheet, a1.c0, a1.r0, a1.c0 + width.max(1) - 1, a1.r0 + values.len().max(1) - 1),
        "updatedRows": values.len(),
        "updatedColumns": width,
        "updatedCells": cells,
    }))
}

#[cfg(test)]
mod a1_tests {
    use super::*;

    #[test]
    fn parses_ranges() {
        let a = parse_a1("'Clientes'!A1:Z").unwrap();
        assert_eq!(
            (a.sheet.as_str(), a.c0, a.r0, a.c1, a.r1),
            ("Clientes", 0, 0, Some(25), None)
        );
        let a = parse_a1("Clientes!1:1").unwrap();
        assert_eq!((a.c0, a.r0, a.c1, a.r1), (0, 0, None, Some(0)));
        let a = parse_a1("'It''s here'!B2").unwrap();
        assert_eq!(
            (a.sheet.as_str(), a.c0, a.r0, a.c1, a.r1),
            ("It's here", 1, 1, Some(1), Some(1))
        );
        assert!(parse_a1("Clientes").unwrap().r1.is_none());
        assert_eq!(col_name(0), "A");
        assert_eq!(col_name(25), "Z");
        assert_eq!(col_name(26), "AA");
        assert_eq!(sheet_ref("Hoja 1"), "'Hoja 1'");
    }
}
