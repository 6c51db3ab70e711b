//! Receiving an advert: the RFC 5798 §7.1 (and RFC 3768 §7.1) checks that need the router's
//! configuration, the once-per-change reports, then dispatch by state.

use std::net::IpAddr;

use vrrp_wire::{Addresses, Repr, Version};

use crate::input::{Action, Discard, Report};
use crate::time::Instant;

use super::split_brain::{self, same_addresses};
use super::{Router, State};

impl Router {
    pub(super) fn on_advert(
        &mut self,
        now: Instant,
        source: IpAddr,
        repr: &Repr,
        out: &mut Vec<Action>,
    ) {
        match self.state {
            State::Initialize => return out.push(Action::Discard(Discard::NotRunning)),
            State::Fault => return out.push(Action::Discard(Discard::InFault)),
            State::Backup { .. } | State::BackupAwaitingGroup | State::Master { .. } => {}
        }
        let was_master = matches!(self.state, State::Master { .. });
        let verdict = self
            .check(source, repr)
            .and_then(|()| self.interop_filter(now, source, repr, out));
        if let Err(discard) = verdict {
            out.push(Action::Discard(discard));
            // A master that ignores another master's adverts is in a split brain all the same.
            if was_master && split_brain::is_evidence(discard) {
                self.hear_other_master(now, source, repr, out);
            }
            return;
        }
        self.report_mismatches(source, repr, out);
        match self.state {
            State::Master { .. } => self.master_receives(now, source, repr, out),
            _ => self.backup_receives(now, source, repr, out),
        }
    }

    /// The receive checks that depend on configuration, in RFC order. The wire layer has already checked
    /// TTL, type, length, checksum, and a non-zero count and interval.
    fn check(&self, source: IpAddr, repr: &Repr) -> Result<(), Discard> {
        // RFC 5798 §7.1: the version must be ours (3, or 2 for a VRRPv2 router, RFC 3768 §7.1); a
        // VRRPv3 router in mixed mode takes both (§8.4.2, router/interop.rs).
        if !self.accepts_version(repr.version) {
            return Err(Discard::VersionMismatch);
        }
        // RFC 5798 §7.1: the VRID must be configured on this interface...
        if repr.vrid != self.config.vrid {
            return Err(Discard::VridMismatch);
        }
        // ...and the local router must not be the owner. RFC 9568 erratum 8298 drops that second
        // condition: an owner processes adverts (two owners then settle by address, §6.4.3 (735)).
        // VRRPv2 keeps RFC 3768 §7.1's rule.
        let owner_processes =
            self.config.owner_processes_adverts && self.config.version == Version::V3;
        if self.config.is_owner() && !owner_processes {
            return Err(Discard::OwnerIgnoresAdverts);
        }
        // RFC 9568 §1 / §7.1: IPv4 and IPv6 virtual routers are separate instances.
        if !same_family(&self.config.addresses, &repr.addresses)
            || source.is_ipv4() != self.config.primary_address.is_ipv4()
        {
            return Err(Discard::AddressFamilyMismatch);
        }
        // Our own advert looped back, or another router uses our address: never a peer.
        if source == self.config.primary_address {
            return Err(Discard::OwnAdvert);
        }
        // keepalived's unicast peers (beyond the RFC): with a peer list, only the listed routers
        // take part in the election. The destination does not matter: a listed peer still in
        // multicast mode is heard, so a pair can move to unicast one node at a time.
        if !self.config.unicast_peers.is_empty() && !self.config.unicast_peers.contains(&source) {
            return Err(Discard::SourceNotAUnicastPeer);
        }
        // RFC 3768 §7.1: the authentication type and data must match the configured ones. A router in
        // mixed mode has none, so a VRRPv2 peer with a password is dropped (it drops ours too).
        if repr.version == Version::V2 && repr.auth != self.config.auth {
            return Err(Discard::AuthMismatch);
        }
        if self.config.version == Version::V2 {
            // RFC 3768 §7.1: the Adver Interval must equal the locally configured one. Mixed mode
            // learns a VRRPv2 master's interval instead (RFC 5798 §8.4.2).
            if repr.max_adver_int != self.config.advert_interval {
                return Err(Discard::IntervalMismatch);
            }
            // RFC 3768 §7.1: an address list that differs is dropped unless the sender is the owner.
            if !same_addresses(&self.config.addresses, &repr.addresses) && repr.priority != 255 {
                return Err(Discard::AddressListMismatch);
            }
        }
        Ok(())
    }

    /// Logged-but-kept differences (RFC 5798 §7.1 address list; §6.4.2 (450) learns a different
    /// interval), each reported once per change and forgotten when a matching advert arrives.
    fn report_mismatches(&mut self, source: IpAddr, repr: &Repr, out: &mut Vec<Action>) {
        let ours = self.config.advert_interval;
        if repr.max_adver_int == ours {
            self.interval_mismatch = None;
        } else if self.interval_mismatch != Some((source, repr.max_adver_int)) {
            self.interval_mismatch = Some((source, repr.max_adver_int));
            let (from, theirs) = (source, repr.max_adver_int);
            // Mixed mode: that VRRPv2 router drops our adverts (RFC 3768 §7.1), which is worse.
            let report = if repr.version == Version::V2 && self.config.version == Version::V3 {
                Report::V2IntervalMismatch { from, ours, theirs }
            } else {
                Report::IntervalMismatch { from, ours, theirs }
            };
            out.push(Action::Report(report));
        }
        if same_addresses(&self.config.addresses, &repr.addresses) {
            self.address_mismatch = None;
        } else if self.address_mismatch.as_ref() != Some(&(source, repr.addresses.clone())) {
            self.address_mismatch = Some((source, repr.addresses.clone()));
            out.push(Action::Report(Report::AddressListMismatch {
                from: source,
                theirs: repr.addresses.clone(),
            }));
        }
    }
}

fn same_family(a: &Addresses, b: &Addresses) -> bool {
    matches!(
        (a, b),
        (Addresses::V4(_), Addresses::V4(_)) | (Addresses::V6(_), Addresses::V6(_))
    )
}
