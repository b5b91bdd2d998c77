//! A real Prometheus (and promtool) for the live check, and the small HTTP and process helpers
//! it needs.

use crate::WAIT;
use serde_json::Value;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A binary on PATH.
pub(crate) fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// A running Prometheus, killed on drop.
pub(crate) struct Prometheus {
    pub(crate) child: Child,
    pub(crate) addr: String,
    pub(crate) log: PathBuf,
}

impl Prometheus {
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Panics with the log if the process has exited.
    pub(crate) fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("prometheus exited ({status}); its log:\n{}", self.log());
        }
    }

    /// `GET /api/v1/query?query=EXPR`: the parsed JSON answer (whatever its status).
    pub(crate) fn query(&self, expr: &str) -> Value {
        let (_, body) = get(
            &self.addr,
            &format!("/api/v1/query?query={}", urlencode(expr)),
        );
        serde_json::from_str(&body).unwrap_or_else(|e| panic!("query {expr}: {e}: {body}"))
    }

    /// The value of a query that must return one sample.
    pub(crate) fn scalar(&self, expr: &str) -> Option<f64> {
        let answer = self.query(expr);
        let result = answer["data"]["result"].as_array()?;
        result.first()?["value"][1].as_str()?.parse().ok()
    }

    /// Polls (bounded) until `what` returns Some.
    pub(crate) fn wait_for<T>(
        &mut self,
        what: &str,
        mut check: impl FnMut(&Self) -> Option<T>,
    ) -> T {
        let started = Instant::now();
        loop {
            self.assert_running();
            if let Some(v) = check(self) {
                return v;
            }
            if started.elapsed() > WAIT {
                let (_, targets) = get(&self.addr, "/api/v1/targets");
                panic!(
                    "timed out waiting for {what}; targets: {targets}\nprometheus log:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until Prometheus has scraped redsol after `t` (Unix seconds).
    pub(crate) fn wait_for_scrape_after(&mut self, t: f64) {
        self.wait_for(&format!("a scrape of redsol after {t}"), |p| {
            p.scalar("timestamp(up{job=\"redsol\"})")
                .filter(|&ts| ts > t)
        });
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs_f64()
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// An HTTP/1.0 GET (so the answer is never chunked): the status and the body.
pub(crate) fn get(addr: &str, path: &str) -> (u16, String) {
    let mut s = match TcpStream::connect(addr) {
        Ok(s) => s,
        Err(_) => return (0, String::new()),
    };
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").expect("send");
    let mut raw = Vec::new();
    if s.read_to_end(&mut raw).is_err() {
        return (0, String::new());
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

pub(crate) fn urlencode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Runs a tool; panics with its output if it fails.
pub(crate) fn run_tool(tool: &Path, args: &[&str]) -> String {
    let out = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", tool.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{} {} failed:\n{text}",
        tool.display(),
        args.join(" ")
    );
    text
}
