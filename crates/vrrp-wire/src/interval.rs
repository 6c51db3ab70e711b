//! Advertisement intervals in centiseconds, the unit VRRPv3 puts on the wire.

/// An advertisement interval in centiseconds. VRRPv3 carries 1..=4095 in 12 bits; VRRPv2 carries whole
/// seconds (1..=255), which this type holds as multiples of 100. Range checks belong to the version that
/// puts the value on the wire, so this type itself only guarantees a non-zero value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Centisecs(u16);

impl Centisecs {
    /// The largest interval a VRRPv3 header can carry (12 bits).
    pub const V3_MAX: u16 = 4095;

    /// `None` for zero: an interval of zero is never valid (RFC 5798 §7.1).
    pub const fn new(centiseconds: u16) -> Option<Self> {
        if centiseconds == 0 {
            None
        } else {
            Some(Centisecs(centiseconds))
        }
    }

    pub const fn get(self) -> u16 {
        self.0
    }

    /// Microseconds, the unit timers are computed in (1 cs = 10 000 us).
    pub const fn as_micros(self) -> u64 {
        self.0 as u64 * 10_000
    }
}
