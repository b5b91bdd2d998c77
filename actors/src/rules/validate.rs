//! The checks a configuration passes at start: plans, zones, priority rules and templates
//! that make sense, each refusal naming its key.

use super::{Rules, TEMPLATE_NAMES};
use crate::text;
use std::collections::HashSet;

/// A configuration value that does not make sense, naming the key.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid configuration: {key}: {problem}")]
pub struct RulesError {
    pub key: String,
    pub problem: String,
}

fn bad(key: impl Into<String>, problem: impl Into<String>) -> RulesError {
    RulesError {
        key: key.into(),
        problem: problem.into(),
    }
}

impl Rules {
    /// Checks every value; the error names the offending key.
    pub fn validate(&self) -> Result<(), RulesError> {
        let l = &self.limits;
        if !(100..=4096).contains(&l.max_reply_chars) {
            return Err(bad(
                "rules.limits.max_reply_chars",
                "must be between 100 and 4096",
            ));
        }
        if l.max_input_chars == 0 {
            return Err(bad("rules.limits.max_input_chars", "must be positive"));
        }
        if l.inbound_per_minute == 0 {
            return Err(bad("rules.limits.inbound_per_minute", "must be positive"));
        }
        if l.inbound_burst == 0 {
            return Err(bad("rules.limits.inbound_burst", "must be positive"));
        }
        if l.idle_timeout_secs == 0 {
            return Err(bad("rules.limits.idle_timeout_secs", "must be positive"));
        }
        if l.restart_window_secs == 0 {
            return Err(bad("rules.limits.restart_window_secs", "must be positive"));
        }
        if !(0.0..=1.0).contains(&self.min_confidence) {
            return Err(bad("rules.min_confidence", "must be between 0 and 1"));
        }
        if self.plans.is_empty() {
            return Err(bad("rules.plans", "at least one plan is needed"));
        }
        let mut seen = HashSet::new();
        for (i, p) in self.plans.iter().enumerate() {
            if p.mbps == 0 || p.price == 0 || p.name.trim().is_empty() {
                return Err(bad(
                    format!("rules.plans[{i}]"),
                    "mbps, name and price are required",
                ));
            }
            if !seen.insert(p.mbps) {
                return Err(bad(format!("rules.plans[{i}].mbps"), "duplicated speed"));
            }
        }
        if self.zones.is_empty() {
            return Err(bad("rules.zones", "at least one zone is needed"));
        }
        let mut names = HashSet::new();
        for (i, z) in self.zones.iter().enumerate() {
            let folded = text::fold(&z.name);
            if folded.is_empty() {
                return Err(bad(format!("rules.zones[{i}].name"), "empty zone name"));
            }
            for alias in std::iter::once(&z.name).chain(z.aliases.iter()) {
                let a = text::fold(alias);
                if !names.insert(a.clone()) {
                    return Err(bad(
                        format!("rules.zones[{i}]"),
                        format!("the name or alias \"{alias}\" is used twice"),
                    ));
                }
            }
        }
        for (i, r) in self.priority_rules.iter().enumerate() {
            if r.keywords.iter().any(|k| text::fold(k).is_empty()) {
                return Err(bad(
                    format!("rules.priority_rules[{i}].keywords"),
                    "empty keyword",
                ));
            }
        }
        if let Some((key, problem)) = self.handoff.problem() {
            return Err(bad(key, problem));
        }
        if let Some((key, problem)) = self.notices.problem() {
            return Err(bad(key, problem));
        }
        if let Some((key, problem)) = self.billing.problem() {
            return Err(bad(key, problem));
        }
        for name in TEMPLATE_NAMES {
            if !self.templates.contains_key(*name) {
                return Err(bad(format!("rules.templates.{name}"), "missing template"));
            }
        }
        Ok(())
    }
}
