//! Split-brain detection (beyond the RFCs, which have none): while master, adverts from another
//! router claiming mastership of our VRID. One run of such adverts from one peer is an *episode*: it
//! starts with the first one (the moment a stall ended or a partition healed, when the master
//! announces its VIPs again, router/master.rs) and ends after [`QUIET_INTERVALS`] of the slower of
//! both intervals without one, or when we leave Master. Within an episode, adverts that resume after
//! [`RESUMED_AFTER_INTERVALS`] silent intervals announce again (a partition that healed twice);
//! a peer advertising every interval never does. The end is that long because keepalived 2.2.7, as
//! a master that drops our adverts, restarts its advert timer on each of them and so advertises
//! irregularly (gaps of 2 to 5 s at 1 s measured). An episode lasting [`CONFIRM_AFTER_INTERVALS`] intervals is
//! a split brain: reported once, with what differs in the peer's adverts and the likely cause.
//!
//! Evidence is every advert a master gets for its VRID with a non-zero priority, including those it
//! discards for a lower priority (RFC 5798 §6.4.3 (775)) or for a configuration mismatch (VRRPv2
//! authentication, interval or address list, version): a router that sends adverts thinks it is
//! master. Adverts from strangers (not a unicast peer), our own and a mixed-mode peer's VRRPv2
//! copies are not evidence.

use std::net::IpAddr;

use vrrp_wire::{Addresses, ChecksumMode, Family, Repr, Version};

use crate::config::Config;
use crate::input::{Action, Discard, Report};
use crate::split_brain_report::{Difference, LikelyCause, SplitBrain};
use crate::time::{Instant, Micros};

/// An episode is a split brain once it has lasted this many advert intervals (the slower of ours
/// and the peer's) with at least this many adverts: a stall that ends or a partition that heals
/// settles within one interval, so it never gets there.
pub const CONFIRM_AFTER_INTERVALS: u64 = 3;

/// An episode ends after this many intervals (the slower of ours and the peer's) without an advert
/// from the peer.
pub const QUIET_INTERVALS: u64 = 10;

/// Adverts from the peer after this many silent intervals are contact resumed: announce again.
pub const RESUMED_AFTER_INTERVALS: u64 = 3;

/// One episode in progress (confirmed or not).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Episode {
    pub(super) state: SplitBrain,
    adverts: u64,
    /// The slower of both intervals, for confirming and ending.
    slower_interval: Micros,
    pub(super) confirmed: bool,
}

/// What one advert did to the episodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Heard {
    /// A new episode, or the peer back after a silence: announce the VIPs again.
    Contact,
    /// Part of the running episode, or another peer's advert during it.
    Ongoing,
}

/// Discards that say "a router thinks it is master but one of us ignores the other".
pub(super) fn is_evidence(discard: Discard) -> bool {
    matches!(
        discard,
        Discard::VersionMismatch
            | Discard::AuthMismatch
            | Discard::IntervalMismatch
            | Discard::AddressListMismatch
    )
}

impl Episode {
    /// Whether the episode is over at `now` (no advert for QUIET_INTERVALS intervals).
    pub(super) fn is_over(&self, now: Instant) -> bool {
        now > self.state.last_heard + times(self.slower_interval, QUIET_INTERVALS)
    }
}

/// Takes one advert of another master into `episode`. `received_checksum`: the variant its checksum
/// verified with, when known. Pushes the report when the episode becomes a split brain.
pub(super) fn hear(
    episode: &mut Option<Episode>,
    config: &Config,
    our_priority: u8,
    now: Instant,
    (source, repr): (IpAddr, &Repr),
    received_checksum: Option<ChecksumMode>,
    out: &mut Vec<Action>,
) -> Heard {
    let differences = differences(config, repr, received_checksum);
    let cause = likely_cause(config, &differences);
    let slower = Micros::from_centisecs(repr.max_adver_int.max(config.advert_interval));
    let heard = match episode {
        Some(running) if !running.is_over(now) => {
            if running.state.peer != source {
                return Heard::Ongoing;
            }
            let resumed = now.saturating_since(running.state.last_heard)
                > times(running.slower_interval, RESUMED_AFTER_INTERVALS);
            running.state.last_heard = now;
            running.adverts += 1;
            running.slower_interval = slower;
            running.state.peer_priority = repr.priority;
            running.state.our_priority = our_priority;
            running.state.differences = differences;
            running.state.cause = cause;
            if resumed {
                Heard::Contact
            } else {
                Heard::Ongoing
            }
        }
        _ => {
            end(episode, out);
            *episode = Some(Episode {
                state: SplitBrain {
                    peer: source,
                    peer_priority: repr.priority,
                    our_priority,
                    since: now,
                    last_heard: now,
                    differences,
                    cause,
                },
                adverts: 1,
                slower_interval: slower,
                confirmed: false,
            });
            Heard::Contact
        }
    };
    if let Some(running) = episode.as_mut() {
        let lasted = now.saturating_since(running.state.since);
        let long_enough = lasted >= times(running.slower_interval, CONFIRM_AFTER_INTERVALS)
            && running.adverts >= CONFIRM_AFTER_INTERVALS;
        if long_enough && !running.confirmed {
            running.confirmed = true;
            out.push(Action::Report(Report::SplitBrain(running.state.clone())));
        }
    }
    heard
}

/// Ends the episode, reporting the end of a confirmed one.
pub(super) fn end(episode: &mut Option<Episode>, out: &mut Vec<Action>) {
    if let Some(over) = episode.take().filter(|e| e.confirmed) {
        out.push(Action::Report(Report::SplitBrainEnded {
            from: over.state.peer,
        }));
    }
}

/// What differs between the peer's advert and the ones `config` makes us send.
fn differences(
    config: &Config,
    repr: &Repr,
    received_checksum: Option<ChecksumMode>,
) -> Vec<Difference> {
    let mut found = Vec::new();
    if repr.version != config.version && !(config.v2_interop && repr.version == Version::V2) {
        found.push(Difference::Version {
            ours: config.version,
            theirs: repr.version,
        });
    }
    if repr.version == Version::V2 && repr.auth != config.auth {
        found.push(Difference::Authentication);
    }
    if repr.max_adver_int != config.advert_interval {
        found.push(Difference::Interval {
            ours: config.advert_interval,
            theirs: repr.max_adver_int,
        });
    }
    let (ours, theirs) = (config.addresses.len(), repr.addresses.len());
    if ours != theirs {
        found.push(Difference::AddressCount { ours, theirs });
    } else if !same_addresses(&config.addresses, &repr.addresses) {
        found.push(Difference::AddressList {
            theirs: repr.addresses.clone(),
        });
    }
    // Only VRRPv3 over IPv4 has a choice (docs/protocol.md §Checksums).
    let v3_ipv4 = config.version == Version::V3
        && repr.version == Version::V3
        && Family::of(config.primary_address) == Family::Ipv4;
    if let Some(theirs) = received_checksum.filter(|&mode| v3_ipv4 && mode != config.checksum_mode)
    {
        found.push(Difference::Checksum {
            ours: config.checksum_mode,
            theirs,
        });
    }
    found
}

/// The difference that best explains two masters: one that makes a side drop the other's adverts,
/// the most certain first.
fn likely_cause(config: &Config, differences: &[Difference]) -> LikelyCause {
    let v2 = config.version == Version::V2;
    let has = |label: &str| differences.iter().any(|d| d.label() == label);
    if has("checksum") {
        LikelyCause::ChecksumVariant
    } else if has("version") {
        LikelyCause::Version
    } else if has("authentication") {
        LikelyCause::Authentication
    } else if has("interval") && v2 {
        LikelyCause::Interval
    } else if has("address_count") || (has("address_list") && v2) {
        LikelyCause::AddressList
    } else {
        LikelyCause::PeerDoesNotHearUs
    }
}

fn times(interval: Micros, count: u64) -> Micros {
    Micros::from_micros(interval.as_micros().saturating_mul(count))
}

/// The same set of addresses, in any order.
pub(super) fn same_addresses(a: &Addresses, b: &Addresses) -> bool {
    match (a, b) {
        (Addresses::V4(x), Addresses::V4(y)) => sorted(x) == sorted(y),
        (Addresses::V6(x), Addresses::V6(y)) => sorted(x) == sorted(y),
        _ => false,
    }
}

fn sorted<T: Ord + Copy>(list: &[T]) -> Vec<T> {
    let mut copy = list.to_vec();
    copy.sort_unstable();
    copy.dedup();
    copy
}
