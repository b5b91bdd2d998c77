//! Shared by the integration-test binaries (included with `#[path]`): the `redsol` binary as a
//! child process with a clean environment, started and stopped as a user would.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// The test database's URL (`REDSOL_TEST_DATABASE_URL`); without it, says the test was
/// skipped (the README's test command lists those) and gives `None`.
pub fn test_database_url() -> Option<String> {
    let url = std::env::var("REDSOL_TEST_DATABASE_URL").ok();
    if url.is_none() {
        eprintln!(
            "skipped: REDSOL_TEST_DATABASE_URL is not set (a PostgreSQL database; .ci/run sets it)"
        );
    }
    url
}

/// `redsol` with none of the contract's variables inherited from the machine.
pub fn redsol() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_redsol"));
    for (var, _) in std::env::vars() {
        let ours = [
            "TELEGRAM_",
            "WHATSAPP_",
            "GEMINI_",
            "GOOGLE_",
            "SHEETS_",
            "REDSOL_",
            "MESSAGING_",
            "RUST_LOG",
        ];
        if ours.iter().any(|p| var.starts_with(p)) {
            cmd.env_remove(var);
        }
    }
    cmd
}

/// Runs a prepared `redsol` command to its end with `stdin` piped in.
pub fn run_piped(mut cmd: Command, stdin: &str) -> std::process::Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("redsol starts");
    let mut input = child.stdin.take().expect("stdin");
    // The process may exit before reading everything (a usage error): that is its answer.
    if let Err(e) = input.write_all(stdin.as_bytes()) {
        assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "write stdin: {e}");
    }
    drop(input);
    child.wait_with_output().expect("redsol exits")
}

/// A running `redsol run`, killed on drop if the test did not stop it.
pub struct Server {
    pub child: Child,
    pub addr: String,
    pub stdin: Option<ChildStdin>,
    pub stdout: mpsc::Receiver<String>,
    pub log: mpsc::Receiver<String>,
    /// The log lines read while starting.
    pub startup_log: Vec<String>,
}

impl Server {
    /// Starts `redsol run ARGS` with `REDSOL_DATA_DIR=data`, `MESSAGING_PORT=0` and `envs`, and
    /// waits (bounded) for the log lines that say where it listens and that it is running.
    pub fn start(args: &[&str], data: &Path, envs: &[(&str, &str)]) -> Server {
        let mut cmd = redsol();
        cmd.arg("run")
            .args(args)
            .env("REDSOL_DATA_DIR", data)
            .env("MESSAGING_PORT", "0")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("redsol starts");
        let log = lines_of(child.stderr.take().expect("stderr"));
        let stdout = lines_of(child.stdout.take().expect("stdout"));
        let stdin = child.stdin.take();
        let mut startup_log = Vec::new();
        let mut server = Server {
            child,
            addr: String::new(),
            stdin,
            stdout,
            log,
            startup_log: Vec::new(),
        };
        loop {
            let line = match server.log.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => line,
                Err(_) => panic!(
                    "redsol did not start; log so far:\n{}",
                    startup_log.join("\n")
                ),
            };
            startup_log.push(line.clone());
            if let Some(i) = line.find("local=") {
                server.addr = line[i + 6..]
                    .split_whitespace()
                    .next()
                    .unwrap_or_default()
                    .to_string();
            }
            // Said once every channel is up and `/ready` answers 200.
            if !server.addr.is_empty() && line.contains("redsol is running") {
                break;
            }
        }
        server.startup_log = startup_log;
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Sends SIGTERM and waits for the exit; returns whether it exited successfully and the
    /// rest of its log.
    pub fn terminate(mut self) -> (bool, Vec<String>) {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill");
        assert!(sent.success());
        let status = self.child.wait().expect("exits");
        let rest: Vec<String> = self.log.try_iter().collect();
        (status.success(), rest)
    }

    pub fn write_stdin(&mut self, text: &str) {
        if let Some(stdin) = self.stdin.as_mut() {
            stdin.write_all(text.as_bytes()).expect("write stdin");
        }
    }

    /// Reads stdout (bounded) until a line contains `needle`; returns everything read.
    pub fn read_stdout_until(&self, needle: &str) -> String {
        let mut seen = String::new();
        while !seen.contains(needle) {
            match self.stdout.recv_timeout(Duration::from_secs(30)) {
                Ok(line) => {
                    seen.push_str(&line);
                    seen.push('\n');
                }
                Err(_) => panic!("{needle:?} never appeared on stdout:\n{seen}"),
            }
        }
        seen
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn lines_of(stream: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// A plain HTTP/1.1 GET; returns the whole response (status line, headers, body).
pub fn http_get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut body = String::new();
    s.read_to_string(&mut body).expect("read");
    body
}

/// The value of a counter's series in Prometheus text; 0 when it was never incremented (the
/// exporter shows no series until then).
#[allow(dead_code)]
pub fn counter(text: &str, series: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// The value of one series in Prometheus text.
pub fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find(|l| l.starts_with(series))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no series {series} in:\n{text}"))
}

/// One WhatsApp text message as Meta delivers it to the webhook (the body to sign).
pub fn whatsapp_text(phone_id: &str, from: &str, name: &str, id: &str, text: &str) -> String {
    serde_json::json!({
        "object": "whatsapp_business_account",
        "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "524640000000", "phone_number_id": phone_id},
            "contacts": [{"profile": {"name": name}, "wa_id": from}],
            "messages": [{"from": from, "id": id, "timestamp": "1764000000", "type": "text",
                          "text": {"body": text}}]
        }}]}]
    })
    .to_string()
}
