//! The daemon's one clock: monotonic microseconds since the daemon started, in the core's units. Every
//! instant the daemon hands the core, or compares with one, comes from here.

use tokio::time::Instant as TokioInstant;

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    origin: TokioInstant,
}

impl Clock {
    pub fn start() -> Clock {
        Clock {
            origin: TokioInstant::now(),
        }
    }

    pub fn now(&self) -> vrrp_core::Instant {
        self.to_core(TokioInstant::now())
    }

    pub fn to_core(self, at: TokioInstant) -> vrrp_core::Instant {
        let micros = at.saturating_duration_since(self.origin).as_micros();
        vrrp_core::Instant::from_micros(u64::try_from(micros).unwrap_or(u64::MAX))
    }

    pub fn to_tokio(self, at: vrrp_core::Instant) -> TokioInstant {
        self.origin + std::time::Duration::from_micros(at.as_micros())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_and_tokio_instants_convert_both_ways_to_the_microsecond() {
        let clock = Clock::start();
        let core = vrrp_core::Instant::from_micros(3_609_375);
        assert_eq!(clock.to_core(clock.to_tokio(core)), core);
    }
}
