//! The interop matrix: keepvip paired with keepalived 2.2.7 or FRR 8.4 (the Debian packages) for one
//! VRID, in each VRRP mode, both ways round, measured on the lab switch's capture (kernel
//! timestamps). One run of a pair serves every cell: election, SIGSTOP/SIGCONT of the master, its
//! SIGTERM (priority 0), a restart, its SIGKILL, and one master past Master_Down_Interval throughout
//! (`run.rs`). `side.rs` starts and signals each implementation; `wire.rs` reads the capture.

pub mod run;
pub mod side;
pub mod wire;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use crate::daemon::timing::Tolerance;
use crate::daemon::{Interval, master_down_interval, skew_time};

/// The priorities of the pair: the higher one must be master whichever side it is on.
pub const HIGH: u8 = 200;
pub const LOW: u8 = 100;
/// VRRPv2 simple-password authentication (keepalived's `auth_type PASS`; 8 characters at most).
pub const AUTH_PASS: &str = "mtrx2pw";

const VIP_V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 100);
const VIP_V6: Ipv6Addr = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x254);

/// A row group of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// VRRPv3 over IPv4, the checksum over the IPv4 pseudo-header (every side's default), 100 ms.
    V3Ipv4,
    /// VRRPv3 over IPv6, 100 ms.
    V3Ipv6,
    /// VRRPv2 without authentication, 1 s (VRRPv2 carries whole seconds).
    V2,
    /// VRRPv2 with a simple password (keepalived's `auth_type PASS`); FRR has no authentication.
    V2Auth,
}

impl Mode {
    /// The smallest interval every side takes: centiseconds for VRRPv3 (keepalived's `advert_int
    /// 0.1`, FRR's `advertisement-interval 100`), whole seconds for VRRPv2.
    pub fn interval(self) -> Interval {
        match self {
            Self::V3Ipv4 | Self::V3Ipv6 => Interval::from_millis(100),
            Self::V2 | Self::V2Auth => Interval::from_millis(1000),
        }
    }

    pub fn version(self) -> u8 {
        match self {
            Self::V3Ipv4 | Self::V3Ipv6 => 3,
            Self::V2 | Self::V2Auth => 2,
        }
    }

    pub fn ipv6(self) -> bool {
        self == Self::V3Ipv6
    }

    pub fn auth_pass(self) -> Option<&'static str> {
        (self == Self::V2Auth).then_some(AUTH_PASS)
    }

    pub fn vip(self) -> IpAddr {
        if self.ipv6() {
            IpAddr::V6(VIP_V6)
        } else {
            IpAddr::V4(VIP_V4)
        }
    }

    pub fn vip_cidr(self) -> String {
        let prefix = if self.ipv6() { 64 } else { 24 };
        format!("{}/{prefix}", self.vip())
    }

    /// Skew_Time of `priority`: RFC 5798 §6.1 for VRRPv3; RFC 3768 §6.1's (256 - Priority) / 256 s
    /// for VRRPv2, the same figure at its 1 s interval.
    pub fn skew(self, priority: u8) -> Duration {
        skew_time(self.interval(), priority)
    }

    /// Master_Down_Interval of `priority`.
    pub fn mdi(self, priority: u8) -> Duration {
        master_down_interval(self.interval(), priority)
    }

    /// A short name for labs and MEASURE lines.
    pub fn name(self) -> &'static str {
        match self {
            Self::V3Ipv4 => "v3ipv4",
            Self::V3Ipv6 => "v3ipv6",
            Self::V2 => "v2",
            Self::V2Auth => "v2auth",
        }
    }

    /// keepvip's config for one side: VRID 1 on eth0 with the mode's version, interval, password and
    /// VIP; one GARP/NA burst, as the other lab configs.
    pub fn keepvip_config(self, router_id: &str, priority: u8, extra: &str) -> String {
        let auth = self
            .auth_pass()
            .map(|pass| format!("auth_pass = \"{pass}\"\n"))
            .unwrap_or_default();
        format!(
            "[global]\nrouter_id = \"{router_id}\"\ngarp_repeat = 1\ngarp_delay = \"0s\"\n\n\
             [[instance]]\nname = \"VI_1\"\ninterface = \"eth0\"\nvrid = 1\npriority = {priority}\n\
             version = {}\nadvert_interval = \"{}ms\"\n{auth}{extra}vips = [\"{}\"]\n",
            self.version(),
            self.interval().as_millis(),
            self.vip_cidr()
        )
    }
}

/// The other implementation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerKind {
    Keepalived,
    Frr,
}

impl PeerKind {
    pub fn name(self) -> &'static str {
        match self {
            Self::Keepalived => "keepalived",
            Self::Frr => "frr",
        }
    }
}

/// How far a measured handover may fall from the RFC figure (kernel capture timestamps).
///
/// keepvip taking over: `Tolerance::takeover` ([-1 ms, +27 ms] at 100 ms, [-5 ms, +50 ms] at 1 s).
/// A peer taking over: 20 ms early (FRR truncates Skew_Time to whole centiseconds: 9.4 ms early at
/// 1 s and priority 100) and `50 ms + interval / 10` late (60 ms at 100 ms, 150 ms at 1 s: their
/// timer threads on a loaded 2-core machine; measured 1-3 ms when idle).
pub fn handover_tolerance(keepvip_takes_over: bool, interval: Interval) -> Tolerance {
    if keepvip_takes_over {
        Tolerance::takeover(interval)
    } else {
        Tolerance {
            early: Duration::from_millis(20),
            late: Duration::from_millis(50) + interval.duration() / 10,
        }
    }
}

/// How long two routers may both advertise as master when one comes back (SIGCONT, a restart that
/// preempts): one advert interval, plus the lateness a peer's timers are allowed.
pub fn settle_bound(interval: Interval) -> Duration {
    interval.duration() + handover_tolerance(false, interval).late
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepvip_configs_carry_the_mode() {
        let text = Mode::V2Auth.keepvip_config("h0", 200, "");
        assert!(
            text.ends_with(
                "priority = 200\nversion = 2\nadvert_interval = \"1000ms\"\n\
                 auth_pass = \"mtrx2pw\"\nvips = [\"192.0.2.100/24\"]\n"
            ),
            "{text}"
        );
        let v6 = Mode::V3Ipv6.keepvip_config("h1", 100, "");
        assert!(
            v6.ends_with(
                "version = 3\nadvert_interval = \"100ms\"\nvips = [\"2001:db8::254/64\"]\n"
            ),
            "{v6}"
        );
    }

    #[test]
    fn timers_follow_the_rfcs() {
        // VRRPv2 at 1 s: Skew_Time (256 - 100) / 256 s = 609.375 ms; MDI 3.609375 s.
        assert_eq!(Mode::V2.skew(LOW), Duration::from_micros(609_375));
        assert_eq!(Mode::V2.mdi(LOW), Duration::from_micros(3_609_375));
        // VRRPv3 at 100 ms: 60.9375 ms and 360.9375 ms.
        assert_eq!(Mode::V3Ipv4.skew(LOW), Duration::from_nanos(60_937_500));
        assert_eq!(
            settle_bound(Mode::V3Ipv4.interval()),
            Duration::from_millis(160)
        );
    }
}
