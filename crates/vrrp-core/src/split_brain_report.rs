//! What a split-brain report carries (router/split_brain.rs detects it): the peer, what differs in
//! its adverts and the likely cause. Plain data, shared by the router's detection and the reports.

use std::net::IpAddr;

use vrrp_wire::{Addresses, Centisecs, ChecksumMode, Version};

use crate::time::Instant;

/// What differs between the peer's adverts and ours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Difference {
    /// VRRPv2 against VRRPv3: each side drops the other's adverts (RFC 5798 §7.1).
    Version { ours: Version, theirs: Version },
    /// VRRPv2 authentication type or password (never shown).
    Authentication,
    /// The advert interval (VRRPv2 drops a different one, RFC 3768 §7.1; VRRPv3 learns it).
    Interval { ours: Centisecs, theirs: Centisecs },
    /// The number of addresses (keepalived drops an advert whose count differs from its own).
    AddressCount { ours: usize, theirs: usize },
    /// The address list, same count (VRRPv2 drops it, RFC 3768 §7.1; VRRPv3 only logs).
    AddressList { theirs: Addresses },
    /// The VRRPv3-over-IPv4 checksum variant (keepalived 2.2.7 and FRR 8.4 drop the RFC 9568
    /// message-only form).
    Checksum {
        ours: ChecksumMode,
        theirs: ChecksumMode,
    },
}

impl Difference {
    /// A stable label for logs and `status`.
    pub fn label(&self) -> &'static str {
        match self {
            Difference::Version { .. } => "version",
            Difference::Authentication => "authentication",
            Difference::Interval { .. } => "interval",
            Difference::AddressCount { .. } => "address_count",
            Difference::AddressList { .. } => "address_list",
            Difference::Checksum { .. } => "checksum",
        }
    }
}

/// Why the peer most likely does not yield to us (or we to it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LikelyCause {
    /// It drops our adverts for their checksum variant.
    ChecksumVariant,
    /// Different VRRP versions: each drops the other's adverts.
    Version,
    /// Different VRRPv2 authentication: each drops the other's adverts.
    Authentication,
    /// VRRPv2 with different intervals: each drops the other's adverts.
    Interval,
    /// Different address counts or (VRRPv2) lists: the peer drops ours.
    AddressList,
    /// Nothing differs: our adverts do not reach it (filtering, one-way loss, a unicast peer list
    /// without us) or it ignores them.
    PeerDoesNotHearUs,
}

impl LikelyCause {
    /// A stable label for logs and `status`.
    pub fn label(self) -> &'static str {
        match self {
            LikelyCause::ChecksumVariant => "checksum_variant",
            LikelyCause::Version => "version",
            LikelyCause::Authentication => "authentication",
            LikelyCause::Interval => "interval",
            LikelyCause::AddressList => "address_list",
            LikelyCause::PeerDoesNotHearUs => "peer_does_not_hear_us",
        }
    }

    /// One sentence for the operator.
    pub fn explanation(self) -> &'static str {
        match self {
            LikelyCause::ChecksumVariant => {
                "the peer uses the other VRRPv3 checksum variant and drops our adverts \
                 (keepalived and FRR reject the RFC 9568 message-only form): set checksum_mode \
                 to the peer's"
            }
            LikelyCause::Version => "different VRRP versions drop each other's adverts",
            LikelyCause::Authentication => {
                "VRRPv2 authentication differs, so each side drops the other's adverts"
            }
            LikelyCause::Interval => {
                "VRRPv2 requires equal advert intervals (RFC 3768 §7.1), so each side drops the \
                 other's adverts"
            }
            LikelyCause::AddressList => {
                "the address lists differ and the peer drops adverts whose list differs from its own"
            }
            LikelyCause::PeerDoesNotHearUs => {
                "nothing differs: our adverts do not reach the peer (a firewall, multicast \
                 filtering, one-way loss, a unicast peer list without us)"
            }
        }
    }
}

/// A confirmed split brain, as reported and shown by `status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitBrain {
    /// The other master's source address.
    pub peer: IpAddr,
    /// The priority in its last advert.
    pub peer_priority: u8,
    /// Our effective priority when it was last heard.
    pub our_priority: u8,
    /// When the episode started (its first advert).
    pub since: Instant,
    /// Its latest advert.
    pub last_heard: Instant,
    /// What differs in its last advert.
    pub differences: Vec<Difference>,
    pub cause: LikelyCause,
}
