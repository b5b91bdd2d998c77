//! Values from the environment: plain, secret (or from the file `NAME_FILE` names), URLs and
//! lists.

use super::*;

/// Where environment values come from (the process environment, or a map in tests).
pub trait Env {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Env for HashMap<String, String> {
    fn get(&self, name: &str) -> Option<String> {
        HashMap::get(self, name).cloned()
    }
}

pub(super) fn var(env: &dyn Env, name: &str) -> Option<String> {
    env.get(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// A secret from `NAME`, or from the file named by `NAME_FILE`.
pub(super) fn secret(env: &dyn Env, name: &str) -> anyhow::Result<Option<Secret>> {
    if let Some(v) = var(env, name) {
        return Ok(Some(Secret::new(v)));
    }
    let file_var = format!("{name}_FILE");
    match var(env, &file_var) {
        Some(path) => {
            let value = std::fs::read_to_string(&path)
                .with_context(|| format!("{file_var}: cannot read the file {path}"))?;
            let value = value.trim().to_string();
            if value.is_empty() {
                bail!("{file_var}: the file {path} is empty");
            }
            Ok(Some(Secret::new(value)))
        }
        None => Ok(None),
    }
}

pub(super) fn url(env: &dyn Env, name: &str) -> anyhow::Result<Option<String>> {
    match var(env, name) {
        Some(u) if is_http_url(&u) => Ok(Some(u.trim_end_matches('/').to_string())),
        Some(_) => Err(invalid_url(name)),
        None => Ok(None),
    }
}

pub(super) fn is_http_url(u: &str) -> bool {
    u.starts_with("http://") || u.starts_with("https://")
}

pub(super) fn list(env: &dyn Env, name: &str) -> Vec<String> {
    var(env, name)
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default()
}
