//! Time as a parameter: a monotonic instant and a duration, both in microseconds. The core never reads
//! a clock; the caller passes `now` into every call and asks `next_deadline()` when to come back.

use std::ops::Add;

use vrrp_wire::Centisecs;

/// A point on the caller's monotonic clock, in microseconds since an epoch the caller chooses (process
/// start, a simulator's zero). Only differences and order matter to the core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Instant(u64);

impl Instant {
    pub const ZERO: Instant = Instant(0);

    pub const fn from_micros(micros: u64) -> Self {
        Instant(micros)
    }

    pub const fn as_micros(self) -> u64 {
        self.0
    }

    /// The time from `earlier` to `self`, zero if `earlier` is later.
    pub const fn saturating_since(self, earlier: Instant) -> Micros {
        Micros(self.0.saturating_sub(earlier.0))
    }
}

/// Adding a duration saturates at the end of time rather than wrapping: a deadline that far away is
/// simply never reached.
impl Add<Micros> for Instant {
    type Output = Instant;

    fn add(self, rhs: Micros) -> Instant {
        Instant(self.0.saturating_add(rhs.0))
    }
}

/// A span of time in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Micros(u64);

impl Micros {
    pub const ZERO: Micros = Micros(0);

    pub const fn from_micros(micros: u64) -> Self {
        Micros(micros)
    }

    pub const fn from_millis(millis: u64) -> Self {
        Micros(millis.saturating_mul(1_000))
    }

    pub const fn from_secs(secs: u64) -> Self {
        Micros(secs.saturating_mul(1_000_000))
    }

    pub const fn from_centisecs(interval: Centisecs) -> Self {
        Micros(interval.as_micros())
    }

    pub const fn as_micros(self) -> u64 {
        self.0
    }
}

impl Add for Micros {
    type Output = Micros;

    fn add(self, rhs: Micros) -> Micros {
        Micros(self.0.saturating_add(rhs.0))
    }
}
