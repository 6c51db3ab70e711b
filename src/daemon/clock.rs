//! The daemon's one clock: monotonic microseconds since the daemon started, in the core's units. Every
//! instant the daemon hands the core, or compares with one, comes from here. It reads CLOCK_MONOTONIC,
//! the clock of the loop's timerfd (timer.rs) and of tokio's `Instant`.

use std::time::Duration;

use nix::time::{ClockId, clock_gettime};
use tokio::time::Instant as TokioInstant;

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// CLOCK_MONOTONIC at the start.
    origin: Duration,
    /// The same instant as tokio sees it, for the few waits left to tokio's timer.
    tokio_origin: TokioInstant,
}

fn monotonic_now() -> Duration {
    // CLOCK_MONOTONIC cannot fail on Linux; zero would only make every deadline look due.
    clock_gettime(ClockId::CLOCK_MONOTONIC).map_or(Duration::ZERO, Duration::from)
}

impl Clock {
    pub fn start() -> Clock {
        Clock {
            origin: monotonic_now(),
            tokio_origin: TokioInstant::now(),
        }
    }

    pub fn now(&self) -> vrrp_core::Instant {
        let micros = monotonic_now().saturating_sub(self.origin).as_micros();
        vrrp_core::Instant::from_micros(u64::try_from(micros).unwrap_or(u64::MAX))
    }

    /// `at` as CLOCK_MONOTONIC's own reading (what an absolute timerfd expects).
    pub fn monotonic(self, at: vrrp_core::Instant) -> Duration {
        self.origin + Duration::from_micros(at.as_micros())
    }

    pub fn to_tokio(self, at: vrrp_core::Instant) -> TokioInstant {
        self.tokio_origin + Duration::from_micros(at.as_micros())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_follows_clock_monotonic_to_the_microsecond() {
        let clock = Clock::start();
        let before = monotonic_now();
        let now = clock.now();
        let after = monotonic_now();
        let at = clock.monotonic(now);
        // `now` is truncated to the microsecond.
        assert!(
            at + Duration::from_micros(1) > before && at <= after,
            "{before:?} {at:?} {after:?}"
        );
    }

    #[test]
    fn tokio_instants_are_offset_by_the_same_origin() {
        let clock = Clock::start();
        let core = vrrp_core::Instant::from_micros(3_609_375);
        assert_eq!(
            clock.to_tokio(core) - clock.tokio_origin,
            Duration::from_micros(3_609_375)
        );
    }
}
