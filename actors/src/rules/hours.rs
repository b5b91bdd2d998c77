//! The `[handoff]` settings: when people answer (business hours in the company's time zone)
//! and how long a silent handoff stays with a person.

use serde::Deserialize;

/// The days of the week as the config names them, Monday first.
const DAYS: [&str; 7] = ["lun", "mar", "mie", "jue", "vie", "sab", "dom"];
/// How they are said to customers.
const DAY_NAMES: [&str; 7] = [
    "lunes",
    "martes",
    "miércoles",
    "jueves",
    "viernes",
    "sábado",
    "domingo",
];

/// `[handoff]` in the config.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields, default)]
pub struct Handoff {
    /// Minutes of silence on both sides after which a held conversation returns to the bot.
    pub idle_release_mins: u64,
    /// Opening and closing time, `HH:MM`, local (`00:00` to `24:00`: all day).
    pub open: String,
    pub close: String,
    /// Days with people: `lun`, `mar`, `mie`, `jue`, `vie`, `sab`, `dom`.
    pub days: Vec<String>,
    /// The company's offset from UTC in hours (America/Mexico_City is -6, with no daylight
    /// saving time since 2022).
    pub utc_offset_hours: i32,
    /// The wait a customer is told in business hours, in minutes.
    pub expected_wait_mins: u64,
}

impl Default for Handoff {
    fn default() -> Self {
        Self {
            idle_release_mins: 30,
            open: "09:00".into(),
            close: "19:00".into(),
            days: DAYS[..6].iter().map(|d| d.to_string()).collect(),
            utc_offset_hours: -6,
            expected_wait_mins: 10,
        }
    }
}

/// Minutes after midnight of `HH:MM` (`24:00` is the end of the day).
fn minutes(hhmm: &str) -> Option<u32> {
    let (h, m) = hhmm.trim().split_once(':')?;
    let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
    (h < 24 && m < 60 || h == 24 && m == 0).then_some(h * 60 + m)
}

impl Handoff {
    /// What is wrong with the settings, as `(key, problem)`.
    pub fn problem(&self) -> Option<(&'static str, String)> {
        let (Some(open), Some(close)) = (minutes(&self.open), minutes(&self.close)) else {
            return Some(("handoff.open", "open and close must be HH:MM".into()));
        };
        if open >= close {
            return Some(("handoff.close", "must be later than handoff.open".into()));
        }
        if let Some(d) = self.days.iter().find(|d| !DAYS.contains(&d.as_str())) {
            return Some((
                "handoff.days",
                format!("unknown day \"{d}\" (lun, mar, mie, jue, vie, sab, dom)"),
            ));
        }
        if self.days.is_empty() {
            return Some(("handoff.days", "at least one day is needed".into()));
        }
        if !(-12..=14).contains(&self.utc_offset_hours) {
            return Some((
                "handoff.utc_offset_hours",
                "must be between -12 and 14".into(),
            ));
        }
        if self.idle_release_mins == 0 {
            return Some(("handoff.idle_release_mins", "must be positive".into()));
        }
        None
    }

    /// The local weekday (0 = Monday) and minute of the day at Unix time `now`.
    fn local(&self, now: u64) -> (usize, u32) {
        let local = now as i64 + i64::from(self.utc_offset_hours) * 3600;
        let days = local.div_euclid(86_400);
        // 1970-01-01 was a Thursday (3, Monday first).
        let weekday = (days + 3).rem_euclid(7) as usize;
        (weekday, (local.rem_euclid(86_400) / 60) as u32)
    }

    fn works_on(&self, weekday: usize) -> bool {
        self.days.iter().any(|d| d == DAYS[weekday])
    }

    /// Whether people answer at Unix time `now`.
    pub fn open_at(&self, now: u64) -> bool {
        let (Some(open), Some(close)) = (minutes(&self.open), minutes(&self.close)) else {
            return true;
        };
        let (day, minute) = self.local(now);
        self.works_on(day) && (open..close).contains(&minute)
    }

    /// When people answer next, said to a customer ("hoy a las 09:00", "el lunes a las 09:00").
    pub fn next_opening(&self, now: u64) -> String {
        let open = minutes(&self.open).unwrap_or(0);
        let (day, minute) = self.local(now);
        let ahead = (0..8)
            .find(|&d| self.works_on((day + d) % 7) && (d > 0 || minute < open))
            .unwrap_or(1);
        let when = match ahead {
            0 => "hoy".to_string(),
            1 => "mañana".to_string(),
            d => format!("el {}", DAY_NAMES[(day + d) % 7]),
        };
        format!("{when} a las {}", self.open.trim())
    }

    /// The hours, said to a customer ("lunes a sábado de 09:00 a 19:00").
    pub fn describe(&self) -> String {
        let worked: Vec<usize> = (0..7).filter(|&d| self.works_on(d)).collect();
        let consecutive = worked.windows(2).all(|w| w[1] == w[0] + 1);
        let days = match (worked.first(), worked.last()) {
            (Some(&a), Some(&b)) if consecutive && b > a => {
                format!("{} a {}", DAY_NAMES[a], DAY_NAMES[b])
            }
            _ => worked
                .iter()
                .map(|&d| DAY_NAMES[d])
                .collect::<Vec<_>>()
                .join(", "),
        };
        format!("{days} de {} a {}", self.open.trim(), self.close.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-12-07 00:00 UTC, a Monday.
    const MONDAY_UTC: u64 = 1_796_601_600;

    #[test]
    fn hours_are_local_to_the_company() {
        let h = Handoff::default();
        // Monday 00:00 UTC is Sunday 18:00 in Mexico City: closed (no Sunday).
        assert!(!h.open_at(MONDAY_UTC));
        assert_eq!(h.next_opening(MONDAY_UTC), "mañana a las 09:00");
        // Monday 15:00 UTC is 09:00 local: open.
        assert!(h.open_at(MONDAY_UTC + 15 * 3600));
        // Tuesday 01:00 UTC is Monday 19:00 local: closed, open again on Tuesday.
        let monday_evening = MONDAY_UTC + 25 * 3600;
        assert!(!h.open_at(monday_evening));
        assert_eq!(h.next_opening(monday_evening), "mañana a las 09:00");
        // Saturday 20:00 local: next is Monday, two days ahead.
        let saturday_evening = MONDAY_UTC - 86_400 + 2 * 3600;
        assert!(!h.open_at(saturday_evening));
        assert_eq!(h.next_opening(saturday_evening), "el lunes a las 09:00");
        // Early on a workday: today.
        assert_eq!(h.next_opening(MONDAY_UTC + 12 * 3600), "hoy a las 09:00");
        assert_eq!(h.describe(), "lunes a sábado de 09:00 a 19:00");
    }

    #[test]
    fn bad_hours_name_their_key() {
        let mut h = Handoff {
            close: "08:00".into(),
            ..Handoff::default()
        };
        assert_eq!(h.problem().map(|p| p.0), Some("handoff.close"));
        h.close = "19:00".into();
        h.days = vec!["lunes".into()];
        assert_eq!(h.problem().map(|p| p.0), Some("handoff.days"));
        assert_eq!(Handoff::default().problem(), None);
        let always = Handoff {
            open: "00:00".into(),
            close: "24:00".into(),
            days: DAYS.iter().map(|d| d.to_string()).collect(),
            ..Handoff::default()
        };
        assert_eq!(always.problem(), None);
        assert!((0..7 * 24).all(|h| always.open_at(MONDAY_UTC + h * 3600 + 1799)));
    }
}
