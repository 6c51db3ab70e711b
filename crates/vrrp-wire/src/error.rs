//! Why a received advertisement was discarded, and why one could not be emitted.
//!
//! `WireError` has one variant per receive rule the wire layer can judge (RFC 5798 §7.1, RFC 3768 §7.1).
//! The VRID rule ("not configured on this interface") belongs to the daemon, not here.

use std::fmt;

/// A receive rule the packet broke. `Repr::parse` checks them in the order of docs/protocol.md §Receive
/// checks: version, type, length, checksum, count, interval, (v2 auth type), exact length. No rule on
/// which IPv6 address comes first: RFC 9568 §5.2.9 asks senders for the link-local one first, but §7.1
/// has no receive check for it, and keepalived and FRR send global-only lists (README, Interop).
/// A family rule whose answer the layout depends on (mixed src/dst families, VRRPv2 over IPv6) is judged
/// just before the length, because without one family the address size, and so the length, is
/// undefined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WireError {
    /// RFC 5798 §7.1: "MUST verify that the IPvX TTL/Hop Limit is 255". Judged by `check_hop_limit`,
    /// because the TTL lives in the IP header, not in the VRRP bytes.
    BadHopLimit { received: u8 },
    /// RFC 5798 §7.1: "MUST verify that the received packet contains the complete VRRP packet (including
    /// fixed fields ...)": shorter than the 8-byte fixed header.
    Truncated { len: usize },
    /// RFC 5798 §7.1: "MUST verify the VRRP version": only 2 and 3 exist (RFC 3768, RFC 5798).
    BadVersion { version: u8 },
    /// RFC 5798 §5.2.2: type 1 (ADVERTISEMENT) is the only type; "A packet with unknown type MUST be
    /// discarded."
    BadType { msg_type: u8 },
    /// RFC 5798 §7.1: "... contains the complete VRRP packet (including ... IPvX address(es))": the
    /// bytes end before the addresses (and, for VRRPv2, the authentication data) the count announces.
    TooShort { needed: usize, len: usize },
    /// RFC 5798 §7.1: "MUST verify the VRRP checksum". VRRPv3 over IPv4 accepts the checksum with or
    /// without the IPv4 pseudo-header; IPv6 needs its pseudo-header; VRRPv2 covers the message only.
    BadChecksum { received: u16 },
    /// RFC 5798 §5.2.9: the address field holds "one or more" addresses, so Count IPvX Addr (§5.2.5)
    /// is at least 1.
    AddressCountZero,
    /// RFC 5798 §5.2.7 (Max Adver Int, centiseconds) / RFC 3768 §5.3.7 (Adver Int, seconds) of zero:
    /// meaningless (every advertisement timer would fire at once), so discarded (docs/protocol.md
    /// §Receive checks).
    IntervalZero,
    /// RFC 3768 §5.3.6: type 0 is no authentication; 1 and 2 are reserved for compatibility with RFC
    /// 2338 (simple text password, IP Authentication Header). Accepted: 0 and 1 (keepalived's
    /// `auth_type PASS`). AH lives in its own IP header, which the wire layer never sees.
    UnknownAuthType { auth_type: u8 },
    /// RFC 5798 §5.2.9: "IPv4 and IPv6 MUST NOT both be carried in one IPvX Address field", and the
    /// addresses are of the family the packet travels in; see the kind for the rule broken.
    FamilyMismatch { kind: FamilyMismatchKind },
    /// Bytes follow the addresses (VRRPv3) or the authentication data (VRRPv2). RFC 5798 §7.1 only
    /// demands the packet be complete; keepalived discards any length other than the one the count
    /// implies ("vrrp packet too long"), and so do we: a count that disagrees with the length means the
    /// sender and we disagree about the layout, and keepalived peers would ignore that master anyway.
    TooLong { expected: usize, len: usize },
}

/// Which family rule a `WireError::FamilyMismatch` broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FamilyMismatchKind {
    /// The IP source and destination given to `parse` are of different families: no real IP header
    /// looks like that, so it is a caller bug, counted rather than guessed around.
    MixedIpHeader,
    /// RFC 3768 defines VRRPv2 for IPv4 only (keepalived's non-standard v2-over-IPv6 is not accepted).
    V2OverIpv6,
    /// An IPv4 packet whose length fits 16-byte (IPv6) addresses for its count, not 4-byte ones.
    Ipv6SizedAddresses,
}

impl WireError {
    /// A short, stable label for metrics and logs. Never change one: dashboards key on them.
    pub const fn reason(&self) -> &'static str {
        match self {
            WireError::BadHopLimit { .. } => "bad_hop_limit",
            WireError::Truncated { .. } => "truncated",
            WireError::BadVersion { .. } => "bad_version",
            WireError::BadType { .. } => "bad_type",
            WireError::TooShort { .. } => "too_short",
            WireError::BadChecksum { .. } => "bad_checksum",
            WireError::AddressCountZero => "address_count_zero",
            WireError::IntervalZero => "interval_zero",
            WireError::UnknownAuthType { .. } => "unknown_auth_type",
            WireError::FamilyMismatch { .. } => "family_mismatch",
            WireError::TooLong { .. } => "too_long",
        }
    }

    /// Every label `reason` can return, for pre-registering metric series.
    pub const ALL_REASONS: [&'static str; 11] = [
        "bad_hop_limit",
        "truncated",
        "bad_version",
        "bad_type",
        "too_short",
        "bad_checksum",
        "address_count_zero",
        "interval_zero",
        "unknown_auth_type",
        "family_mismatch",
        "too_long",
    ];
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::BadHopLimit { received } => {
                write!(f, "TTL/hop limit {received}, must be 255")
            }
            WireError::Truncated { len } => {
                write!(f, "{len} bytes, shorter than the 8-byte VRRP header")
            }
            WireError::BadVersion { version } => write!(f, "unknown VRRP version {version}"),
            WireError::BadType { msg_type } => {
                write!(
                    f,
                    "unknown VRRP type {msg_type}, only 1 (advertisement) exists"
                )
            }
            WireError::TooShort { needed, len } => {
                write!(f, "{len} bytes, the address count needs {needed}")
            }
            WireError::BadChecksum { received } => write!(f, "bad checksum {received:#06x}"),
            WireError::AddressCountZero => write!(f, "address count 0"),
            WireError::IntervalZero => write!(f, "advertisement interval 0"),
            WireError::UnknownAuthType { auth_type } => {
                write!(f, "unknown VRRPv2 authentication type {auth_type}")
            }
            WireError::FamilyMismatch { kind } => match kind {
                FamilyMismatchKind::MixedIpHeader => {
                    write!(f, "IP source and destination are of different families")
                }
                FamilyMismatchKind::V2OverIpv6 => write!(f, "VRRPv2 over IPv6"),
                FamilyMismatchKind::Ipv6SizedAddresses => {
                    write!(f, "IPv4 packet sized for IPv6 addresses")
                }
            },
            WireError::TooLong { expected, len } => {
                write!(
                    f,
                    "{len} bytes, the address count implies exactly {expected}"
                )
            }
        }
    }
}

impl std::error::Error for WireError {}

/// Why `Repr::emit` refused: the representation cannot be put on the wire as asked. Emit checks
/// everything `parse` would reject, so a packet `emit` wrote always parses back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EmitError {
    /// The buffer is shorter than `Repr::buffer_len()`.
    BufferTooShort { needed: usize, available: usize },
    /// RFC 5798 §5.2.9: "one or more" addresses.
    AddressCountZero,
    /// The count is one byte: at most 255 addresses.
    TooManyAddresses { count: usize },
    /// RFC 5798 §5.2.7: VRRPv3 carries 1..=4095 centiseconds in 12 bits.
    V3IntervalTooLarge { centiseconds: u16 },
    /// RFC 3768 §5.3.7: VRRPv2 carries whole seconds, 1..=255.
    V2IntervalNotWholeSeconds { centiseconds: u16 },
    /// RFC 3768 §5.3.7: VRRPv2 carries whole seconds, 1..=255.
    V2IntervalTooLarge { centiseconds: u16 },
    /// The addresses, the IP source and the IP destination must be one family, and VRRPv2 is IPv4 only.
    FamilyMismatch,
    /// VRRPv3 has no authentication (RFC 5798 §1.1): `auth` must be `Auth::None`.
    AuthOnV3,
    /// The mode does not apply: IPv6 always uses the pseudo-header, VRRPv2 never does. Use
    /// `Repr::checksum_mode` to pick the applicable one.
    ChecksumModeNotApplicable,
}

impl fmt::Display for EmitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EmitError::BufferTooShort { needed, available } => {
                write!(
                    f,
                    "buffer of {available} bytes, the advertisement needs {needed}"
                )
            }
            EmitError::AddressCountZero => write!(f, "no addresses to advertise"),
            EmitError::TooManyAddresses { count } => {
                write!(f, "{count} addresses, at most 255 fit the count field")
            }
            EmitError::V3IntervalTooLarge { centiseconds } => {
                write!(f, "interval {centiseconds} cs exceeds VRRPv3's 4095 cs")
            }
            EmitError::V2IntervalNotWholeSeconds { centiseconds } => {
                write!(
                    f,
                    "interval {centiseconds} cs is not whole seconds, as VRRPv2 needs"
                )
            }
            EmitError::V2IntervalTooLarge { centiseconds } => {
                write!(f, "interval {centiseconds} cs exceeds VRRPv2's 255 s")
            }
            EmitError::FamilyMismatch => {
                write!(
                    f,
                    "addresses, IP source and destination are not one family (or v2 over IPv6)"
                )
            }
            EmitError::AuthOnV3 => write!(f, "VRRPv3 carries no authentication"),
            EmitError::ChecksumModeNotApplicable => {
                write!(f, "checksum mode does not apply to this version and family")
            }
        }
    }
}

impl std::error::Error for EmitError {}
