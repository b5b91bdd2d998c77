//! The engine's wall clock. In production it is the system's; a test may anchor it at a time
//! of its choosing, after which it follows tokio's clock, so that paused time
//! (`tokio::time::advance`) moves business hours and idle limits along with it.

use tokio::time::Instant;

/// Unix seconds, from the system or from an anchor.
#[derive(Clone, Copy, Debug, Default)]
pub enum Clock {
    #[default]
    System,
    /// Reads `unix` at `at`, and tokio's time since.
    Anchored { unix: u64, at: Instant },
}

impl Clock {
    /// A clock that reads `unix` now (tests: a Monday at 10:00).
    pub fn starting_at(unix: u64) -> Self {
        Clock::Anchored {
            unix,
            at: Instant::now(),
        }
    }

    /// Unix seconds now.
    pub fn now(&self) -> u64 {
        match self {
            Clock::System => crate::store::unix_now(),
            Clock::Anchored { unix, at } => unix + at.elapsed().as_secs(),
        }
    }
}
