//! The redsol under test: started (under callgrind when asked) and stopped, and what the
//! kernel and callgrind say it used.

use super::{ADMIN_TOKEN, PHONE_ID, SECRET, TOKEN};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The CPU time (user + system) a process has used so far.
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // utime and stime are fields 14 and 15 of the line, in clock ticks (100 a second).
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|i| fields.get(*i).and_then(|v| v.parse::<u64>().ok()))
        .sum();
    Duration::from_millis(ticks * 10)
}

pub fn peak_rss_mib(pid: u32) -> f64 {
    status_kib(pid, "VmHWM:") / 1024.0
}

/// The resident memory of a process now.
pub fn rss_mib(pid: u32) -> f64 {
    status_kib(pid, "VmRSS:") / 1024.0
}

fn status_kib(pid: u32, field: &str) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .unwrap_or(0.0)
}

/// Starts redsol (under callgrind, writing to `callgrind_out`, when given) in `data` with
/// `config` and the variables `env`, listening on `port` (0: any); the process and the
/// address it listens on.
pub fn start_redsol(
    redsol: &Path,
    data: &Path,
    config: &str,
    graph_url: &str,
    callgrind_out: Option<&Path>,
    port: u16,
    env: &[(&str, String)],
) -> anyhow::Result<(Child, String)> {
    std::fs::create_dir_all(data)?;
    let config_file = data.join("bench.toml");
    std::fs::write(&config_file, config)?;
    let mut command = match callgrind_out {
        Some(out) => {
            let mut c = Command::new("valgrind");
            c.arg("--tool=callgrind")
                .arg(format!("--callgrind-out-file={}", out.display()))
                .arg(redsol);
            c
        }
        None => Command::new(redsol),
    };
    let mut child = command
        .args(["run", "--mode", "whatsapp"])
        .env("REDSOL_DATA_DIR", data)
        .env("REDSOL_CONFIG", &config_file)
        .env("MESSAGING_PORT", port.to_string())
        .env("REDSOL_ADMIN_TOKEN", ADMIN_TOKEN)
        .env("RUST_LOG", "warn,redsol::app=info")
        .env("WHATSAPP_PHONE_NUMBER_ID", PHONE_ID)
        .env("WHATSAPP_ACCESS_TOKEN", TOKEN)
        .env("WHATSAPP_VERIFY_TOKEN", "bench")
        .env("WHATSAPP_APP_SECRET", SECRET)
        .env("WHATSAPP_API_URL", graph_url)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot start {}: {e} (build it with cargo build --release --bins; --callgrind 1 needs valgrind)",
                redsol.display()
            )
        })?;
    let stderr = child
        .stderr
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stderr"))?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Events already shown: a warning repeated for every user is shown once.
        let mut shown = std::collections::HashSet::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            // redsol's warnings and errors are part of the result.
            if line.contains(" WARN ") || line.contains(" ERROR ") {
                let event = line
                    .split_whitespace()
                    .find(|w| w.starts_with("event="))
                    .map(str::to_string);
                if event.is_none_or(|e| shown.insert(e)) {
                    eprintln!("redsol: {line}");
                }
            }
            if let Some(i) = line.find("local=") {
                let _ = tx.send(
                    line[i + 6..]
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_string(),
                );
            }
        }
    });
    // Under callgrind the start takes some fifty times longer.
    let addr = rx.recv_timeout(Duration::from_secs(300))?;
    Ok((child, addr))
}

/// SIGTERM, and the exit waited for (callgrind writes its counts then).
pub fn stop_gracefully(child: &mut Child) -> anyhow::Result<()> {
    Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()?;
    child.wait()?;
    Ok(())
}

/// The instructions (Ir) callgrind counted, from its output's `summary:` line.
pub fn instructions_in(out: &Path) -> anyhow::Result<u64> {
    let text = std::fs::read_to_string(out)?;
    text.lines()
        .find_map(|l| {
            l.strip_prefix("summary:")
                .or_else(|| l.strip_prefix("totals:"))
        })
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no summary line in {}", out.display()))
}

/// The values of redsol's `/metrics` (at `addr`) whose lines start with each of `names`
/// (summed over their label sets; 0 when missing or unreadable).
pub async fn metrics<const N: usize>(
    http: &reqwest::Client,
    addr: &str,
    names: [&str; N],
) -> [f64; N] {
    let text = match http.get(format!("http://{addr}/metrics")).send().await {
        Ok(r) => r.text().await.unwrap_or_default(),
        Err(_) => String::new(),
    };
    names.map(|name| {
        text.lines()
            .filter(|l| l.starts_with(name))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    })
}

/// One metric of [`metrics`].
pub async fn metric(http: &reqwest::Client, addr: &str, name: &str) -> f64 {
    metrics(http, addr, [name]).await[0]
}
