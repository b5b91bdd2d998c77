//! The circuit breaker in front of Gemini: after repeated outages it refuses calls at once,
//! then lets one probe through after a cooldown; the probe's result closes or reopens it.

use std::time::Duration;
use tokio::time::Instant;

/// How a call ended, for the breaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Gemini answered (even with something unusable: the service works).
    Answered,
    /// Gemini is unusable: timeout, 5xx, 429, refused, unreachable.
    Outage,
    /// Says nothing about Gemini: the call never reached it (no free slot in time).
    Neutral,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    Closed {
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// Probe `probe` is in flight; if it has not reported by `until`, another may go.
    HalfOpen {
        probe: u64,
        until: Instant,
    },
}

#[derive(Debug)]
pub struct Breaker {
    state: State,
    failures_to_open: u32,
    cooldown: Duration,
    probes: u64,
}

impl Breaker {
    pub fn new(failures_to_open: u32, cooldown: Duration) -> Breaker {
        Breaker {
            state: State::Closed { failures: 0 },
            failures_to_open: failures_to_open.max(1),
            cooldown,
            probes: 0,
        }
    }

    #[cfg(test)]
    pub fn state(&self) -> State {
        self.state
    }

    /// `redsol_llm_breaker_state`: 0 closed, 1 half-open, 2 open.
    pub fn gauge(&self) -> f64 {
        match self.state {
            State::Closed { .. } => 0.0,
            State::HalfOpen { .. } => 1.0,
            State::Open { .. } => 2.0,
        }
    }

    /// Whether a call may go now: `None` refused, `Some(None)` a call, `Some(Some(id))` the
    /// probe numbered `id`.
    pub fn admit(&mut self, now: Instant) -> Option<Option<u64>> {
        match self.state {
            State::Closed { .. } => Some(None),
            State::Open { until } | State::HalfOpen { until, .. } if now >= until => {
                self.probes += 1;
                tracing::info!("language model circuit breaker half-open: probing Gemini");
                self.state = State::HalfOpen {
                    probe: self.probes,
                    until: now + self.cooldown,
                };
                Some(Some(self.probes))
            }
            State::Open { .. } | State::HalfOpen { .. } => None,
        }
    }

    /// A call admitted earlier ended.
    pub fn finished(&mut self, verdict: Verdict, probe: Option<u64>, now: Instant) {
        match (self.state, verdict) {
            (State::Closed { failures }, Verdict::Outage) => {
                let failures = failures + 1;
                if failures >= self.failures_to_open {
                    self.open(now);
                } else {
                    self.state = State::Closed { failures };
                }
            }
            (State::Closed { .. }, Verdict::Answered) => self.state = State::Closed { failures: 0 },
            (State::HalfOpen { probe: current, .. }, _) if probe == Some(current) => {
                match verdict {
                    Verdict::Answered => {
                        tracing::info!("Gemini answers again: circuit breaker closed");
                        self.state = State::Closed { failures: 0 };
                    }
                    Verdict::Outage => self.open(now),
                    // The probe never reached Gemini: the next call probes instead.
                    Verdict::Neutral => self.state = State::Open { until: now },
                }
            }
            // Neutral results while closed, and late results of calls admitted before the
            // breaker opened or of an earlier probe: the current probe decides.
            _ => {}
        }
    }

    fn open(&mut self, now: Instant) {
        tracing::warn!(
            event = "llm_breaker_open",
            cooldown_secs = self.cooldown.as_secs(),
            "Gemini keeps failing: circuit breaker open, conversations answer with the offline NLU"
        );
        self.state = State::Open {
            until: now + self.cooldown,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COOLDOWN: Duration = Duration::from_secs(30);

    fn breaker() -> (Breaker, Instant) {
        (Breaker::new(3, COOLDOWN), Instant::now())
    }

    #[tokio::test]
    async fn opens_after_outages_in_a_row_only() {
        let (mut b, t) = breaker();
        for _ in 0..2 {
            b.finished(Verdict::Outage, None, t);
        }
        b.finished(Verdict::Answered, None, t);
        for _ in 0..2 {
            b.finished(Verdict::Outage, None, t);
        }
        // Calls that never reached Gemini neither count nor reset.
        b.finished(Verdict::Neutral, None, t);
        assert_eq!(b.state(), State::Closed { failures: 2 });
        b.finished(Verdict::Outage, None, t);
        assert_eq!(
            b.state(),
            State::Open {
                until: t + COOLDOWN
            }
        );
        assert_eq!(b.admit(t + Duration::from_secs(29)), None);
    }

    #[tokio::test]
    async fn one_probe_after_the_cooldown_decides() {
        let (mut b, t) = breaker();
        for _ in 0..3 {
            b.finished(Verdict::Outage, None, t);
        }
        let later = t + COOLDOWN;
        let probe = b.admit(later).expect("a probe").expect("numbered");
        assert_eq!(b.admit(later), None, "one probe at a time");
        // A late result of a call from before is ignored.
        b.finished(Verdict::Answered, None, later);
        assert_eq!(b.gauge(), 1.0);
        b.finished(Verdict::Outage, Some(probe), later);
        assert_eq!(
            b.state(),
            State::Open {
                until: later + COOLDOWN
            }
        );

        let again = later + COOLDOWN;
        let probe = b.admit(again).expect("a probe").expect("numbered");
        b.finished(Verdict::Answered, Some(probe), again);
        assert_eq!(b.state(), State::Closed { failures: 0 });
        assert_eq!(b.admit(again), Some(None));
    }

    #[tokio::test]
    async fn a_probe_that_never_reaches_gemini_or_never_reports_is_replaced() {
        let (mut b, t) = breaker();
        for _ in 0..3 {
            b.finished(Verdict::Outage, None, t);
        }
        let later = t + COOLDOWN;
        let busy = b.admit(later).expect("a probe");
        b.finished(Verdict::Neutral, busy, later);
        assert_eq!(b.gauge(), 2.0, "not closed by a probe that said nothing");
        let lost = b
            .admit(later)
            .expect("the next call probes")
            .expect("numbered");
        // That probe never reports; after a cooldown another goes, and the lost one's late
        // answer does not decide.
        assert_eq!(b.admit(later + Duration::from_secs(1)), None);
        let next = b
            .admit(later + COOLDOWN)
            .expect("a new probe")
            .expect("numbered");
        assert_ne!(next, lost);
        b.finished(Verdict::Answered, Some(lost), later + COOLDOWN);
        assert_eq!(b.gauge(), 1.0);
        b.finished(Verdict::Answered, Some(next), later + COOLDOWN);
        assert_eq!(b.gauge(), 0.0);
    }
}
