//! Addresses: VIPs marked as keepvip's own, listing, stale cleanup, and the interface's own primary
//! IPv4 and IPv6 link-local addresses.
//!
//! The marker: every VIP keepvip installs carries IFA_PROTO = 112 (VRRP's IP protocol number; the
//! kernel uses 1..3 for its own addresses and leaves the rest to user space). After a crash, only
//! addresses with this marker that are VIPs of the current configuration are removed, so an address an
//! operator configured by hand is never touched, even in the same subnet. iproute2 6.1 cannot show the
//! marker (`ip addr` ignores IFA_PROTO before 6.2); `Netlink::addresses` does.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use futures::stream::FuturesOrdered;
use futures::{StreamExt, TryStreamExt};
use netlink_packet_route::address::{
    AddressAttribute, AddressFlags, AddressHeaderFlags, AddressMessage, AddressProtocol,
    AddressScope,
};

use super::link::is_ipv6_link_local;
use super::{Netlink, NetlinkError};

/// The IFA_PROTO value marking an address as installed by keepvip.
pub const KEEPVIP_ADDRESS_PROTOCOL: u8 = 112;
/// IFNAMSIZ - 1: the kernel's limit for IFA_LABEL.
const LABEL_MAX: usize = 15;
/// Address requests in flight at once on the one netlink socket: their acks (about 100 bytes each,
/// the request echoed) stay far below the socket's receive buffer.
const PIPELINE: usize = 64;

/// The scope a VIP is installed with (`ip addr add ... scope`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VipScope {
    Global,
    Site,
    Link,
    Host,
}

impl From<VipScope> for AddressScope {
    fn from(scope: VipScope) -> Self {
        match scope {
            VipScope::Global => AddressScope::Universe,
            VipScope::Site => AddressScope::Site,
            VipScope::Link => AddressScope::Link,
            VipScope::Host => AddressScope::Host,
        }
    }
}

/// A virtual address to install.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Vip {
    pub address: IpAddr,
    pub prefix_len: u8,
    /// IPv4 only: the label `ip addr` shows (at most 15 bytes; keepalived uses `IFNAME:NAME`).
    pub label: Option<String>,
    /// Default: global, or link for an IPv6 link-local address.
    pub scope: Option<VipScope>,
}

/// One address on an interface, as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InterfaceAddress {
    pub index: u32,
    pub address: IpAddr,
    pub prefix_len: u8,
    pub scope: AddressScope,
    pub label: Option<String>,
    pub flags: AddressFlags,
    /// IFA_PROTO, if the kernel reported one.
    pub protocol: Option<u8>,
    message: AddressMessage,
}

impl InterfaceAddress {
    pub(crate) fn from_message(message: AddressMessage) -> Option<Self> {
        let mut address = None;
        let mut local = None;
        let mut label = None;
        let mut flags = None;
        let mut protocol = None;
        for attribute in &message.attributes {
            match attribute {
                AddressAttribute::Address(ip) => address = Some(*ip),
                AddressAttribute::Local(ip) => local = Some(*ip),
                AddressAttribute::Label(text) => label = Some(text.clone()),
                AddressAttribute::Flags(value) => flags = Some(*value),
                AddressAttribute::Protocol(value) => protocol = Some(u8::from(*value)),
                _ => {}
            }
        }
        // IFA_LOCAL is the interface's own address (it differs from IFA_ADDRESS on point-to-point links).
        let address = local.or(address)?;
        // IFA_FLAGS (32 bits) when present, else the header's 8 bits.
        let flags = flags.unwrap_or_else(|| {
            AddressFlags::from_bits_retain(u32::from(message.header.flags.bits()))
        });
        Some(Self {
            index: message.header.index,
            address,
            prefix_len: message.header.prefix_len,
            scope: message.header.scope,
            label,
            flags,
            protocol,
            message,
        })
    }

    /// Installed by keepvip (carries the IFA_PROTO marker).
    pub fn is_keepvip(&self) -> bool {
        self.protocol == Some(KEEPVIP_ADDRESS_PROTOCOL)
    }

    /// IPv6 DAD still running.
    pub fn is_tentative(&self) -> bool {
        self.flags.contains(AddressFlags::Tentative)
    }

    pub fn is_dad_failed(&self) -> bool {
        self.flags.contains(AddressFlags::Dadfailed)
    }

    pub fn is_secondary(&self) -> bool {
        self.flags.contains(AddressFlags::Secondary)
    }

    /// Usable as a source address: neither tentative nor failed DAD (always so for IPv4).
    pub fn is_usable(&self) -> bool {
        !self.is_tentative() && !self.is_dad_failed()
    }
}

fn vip_message(
    ifindex: u32,
    vip: &Vip,
    mut message: AddressMessage,
) -> Result<AddressMessage, NetlinkError> {
    if let Some(label) = &vip.label {
        if vip.address.is_ipv6() {
            return Err(NetlinkError::InvalidVip(format!(
                "{}: IPv6 addresses have no label",
                vip.address
            )));
        }
        if label.is_empty() || label.len() > LABEL_MAX {
            return Err(NetlinkError::InvalidVip(format!(
                "label {label:?}: 1 to {LABEL_MAX} bytes"
            )));
        }
        message
            .attributes
            .push(AddressAttribute::Label(label.clone()));
    }
    let max_prefix = if vip.address.is_ipv4() { 32 } else { 128 };
    if vip.prefix_len > max_prefix {
        return Err(NetlinkError::InvalidVip(format!(
            "{}/{}",
            vip.address, vip.prefix_len
        )));
    }
    let default_scope = if is_ipv6_link_local(vip.address) {
        VipScope::Link
    } else {
        VipScope::Global
    };
    message.header.scope = vip.scope.unwrap_or(default_scope).into();
    message.header.index = ifindex;
    message
        .attributes
        .push(AddressAttribute::Protocol(AddressProtocol::from(
            KEEPVIP_ADDRESS_PROTOCOL,
        )));
    if vip.address.is_ipv6() {
        // No DAD for a VIP: a takeover cannot wait for it, and the old master may still hold the
        // address for a moment, which would fail DAD and lose the VIP (keepalived does the same).
        message.header.flags = AddressHeaderFlags::Nodad;
        message
            .attributes
            .push(AddressAttribute::Flags(AddressFlags::Nodad));
    }
    Ok(message)
}

impl Netlink {
    /// Install `vip` on `ifindex`, marked as keepvip's. Idempotent: adding an address keepvip already
    /// installed succeeds (NLM_F_REPLACE after the exclusive add's EEXIST) and leaves one copy. An address keepvip did not install (an
    /// owner's real address, say) is left exactly as it is: `Ok(false)`.
    pub async fn add_vip(&self, ifindex: u32, vip: &Vip) -> Result<bool, NetlinkError> {
        let mut outcomes = self.add_vips(ifindex, std::slice::from_ref(vip)).await?;
        outcomes.pop().unwrap_or(Ok(false))
    }

    /// `add_vip` for each of `vips`, the adds pipelined (up to `PIPELINE` requests in flight). Each
    /// add is exclusive (NLM_F_EXCL), so the add's acknowledgement is the only round trip before the
    /// VIP can be announced: the kernel refuses (EEXIST) an address that is already there, without
    /// touching it. Only those refused are then looked up, in one address dump: keepvip's own (a
    /// restart, a reload) is taken over with a replace, anyone else's is left exactly as it is. One
    /// outcome per VIP, in order; `Err` only if that dump failed.
    pub async fn add_vips(
        &self,
        ifindex: u32,
        vips: &[Vip],
    ) -> Result<Vec<Result<bool, NetlinkError>>, NetlinkError> {
        let mut outcomes = Vec::with_capacity(vips.len());
        let mut pending = FuturesOrdered::new();
        for vip in vips {
            pending.push_back(self.add_marked(ifindex, vip, false));
            if pending.len() >= PIPELINE
                && let Some(outcome) = pending.next().await
            {
                outcomes.push(outcome);
            }
        }
        while let Some(outcome) = pending.next().await {
            outcomes.push(outcome);
        }
        let exists = |outcome: &Result<(), NetlinkError>| matches!(outcome, Err(e) if e.errno() == Some(libc::EEXIST));
        if !outcomes.iter().any(exists) {
            return Ok(outcomes.into_iter().map(|o| o.map(|()| true)).collect());
        }
        let foreign: HashSet<IpAddr> = self
            .addresses(ifindex)
            .await?
            .into_iter()
            .filter(|a| !a.is_keepvip())
            .map(|a| a.address)
            .collect();
        let mut settled = Vec::with_capacity(vips.len());
        for (vip, outcome) in vips.iter().zip(outcomes) {
            settled.push(match outcome {
                Err(e) if e.errno() == Some(libc::EEXIST) => {
                    self.add_unless_foreign(ifindex, vip, foreign.contains(&vip.address))
                        .await
                }
                other => other.map(|()| true),
            });
        }
        Ok(settled)
    }

    /// `Ok(false)` without a request for an address someone else configured.
    async fn add_unless_foreign(
        &self,
        ifindex: u32,
        vip: &Vip,
        foreign: bool,
    ) -> Result<bool, NetlinkError> {
        if foreign {
            return Ok(false);
        }
        self.add_marked(ifindex, vip, true).await.map(|()| true)
    }

    /// RTM_NEWADDR with keepvip's marker: NLM_F_REPLACE when `replace`, NLM_F_EXCL otherwise.
    async fn add_marked(&self, ifindex: u32, vip: &Vip, replace: bool) -> Result<(), NetlinkError> {
        let request = self
            .handle
            .address()
            .add(ifindex, vip.address, vip.prefix_len);
        let mut request = if replace { request.replace() } else { request };
        let message = vip_message(ifindex, vip, std::mem::take(request.message_mut()))?;
        *request.message_mut() = message;
        request.execute().await.map_err(|err| {
            NetlinkError::request(
                format!("add {}/{} on #{ifindex}", vip.address, vip.prefix_len),
                err,
            )
        })
    }

    /// Every address on `ifindex`, in the kernel's order (primary IPv4 addresses before secondaries).
    pub async fn addresses(&self, ifindex: u32) -> Result<Vec<InterfaceAddress>, NetlinkError> {
        let messages: Vec<AddressMessage> = self
            .handle
            .address()
            .get()
            .set_link_index_filter(ifindex)
            .execute()
            .try_collect()
            .await
            .map_err(|err| NetlinkError::request(format!("list addresses of #{ifindex}"), err))?;
        Ok(messages
            .into_iter()
            .filter_map(InterfaceAddress::from_message)
            .collect())
    }

    async fn delete(&self, address: &InterfaceAddress) -> Result<bool, NetlinkError> {
        match self
            .handle
            .address()
            .del(address.message.clone())
            .execute()
            .await
        {
            Ok(()) => Ok(true),
            // Gone already (someone else removed it in between): the goal is reached.
            Err(rtnetlink::Error::NetlinkError(message))
                if matches!(
                    message.raw_code().abs(),
                    libc::EADDRNOTAVAIL | libc::ENOENT | libc::ENODEV
                ) =>
            {
                Ok(false)
            }
            Err(err) => Err(NetlinkError::request(
                format!("delete {} from #{}", address.address, address.index),
                err,
            )),
        }
    }

    /// Remove each of `vips` that is on `ifindex` and carries keepvip's marker (whatever its prefix
    /// length). Addresses keepvip did not install are never removed. Returns the ones removed; absent
    /// ones are not an error.
    pub async fn remove_vips(
        &self,
        ifindex: u32,
        vips: &[IpAddr],
    ) -> Result<Vec<IpAddr>, NetlinkError> {
        let wanted: HashSet<IpAddr> = vips.iter().copied().collect();
        let ours: Vec<InterfaceAddress> = self
            .addresses(ifindex)
            .await?
            .into_iter()
            .filter(|a| wanted.contains(&a.address) && a.is_keepvip())
            .collect();
        let mut outcomes = Vec::with_capacity(ours.len());
        let mut pending = FuturesOrdered::new();
        for address in &ours {
            pending.push_back(self.delete(address));
            if pending.len() >= PIPELINE
                && let Some(outcome) = pending.next().await
            {
                outcomes.push(outcome);
            }
        }
        while let Some(outcome) = pending.next().await {
            outcomes.push(outcome);
        }
        let mut removed = Vec::new();
        for (address, outcome) in ours.iter().zip(outcomes) {
            if outcome? {
                removed.push(address.address);
            }
        }
        Ok(removed)
    }

    /// Remove one VIP; `false` if it was not there.
    pub async fn remove_vip(&self, ifindex: u32, vip: IpAddr) -> Result<bool, NetlinkError> {
        Ok(!self.remove_vips(ifindex, &[vip]).await?.is_empty())
    }

    /// Startup cleanup after a crash: remove the addresses on `ifindex` that carry keepvip's marker AND
    /// are VIPs of this configuration. Anything keepvip did not install, or that another configuration
    /// owns, stays. Returns what was removed.
    pub async fn remove_stale_vips(
        &self,
        ifindex: u32,
        configured: &[IpAddr],
    ) -> Result<Vec<IpAddr>, NetlinkError> {
        let configured: HashSet<IpAddr> = configured.iter().copied().collect();
        let mut removed = Vec::new();
        for address in self.addresses(ifindex).await? {
            if address.is_keepvip()
                && configured.contains(&address.address)
                && self.delete(&address).await?
            {
                removed.push(address.address);
            }
        }
        Ok(removed)
    }

    /// Remove the copies of `vips` on `ifindex` that keepvip did not install, for a non-owner: an
    /// address equal to a VIP put there by hand or by another tool would leave the VIP on two hosts.
    /// Never touched: the interface's primary IPv4 address (the VRRP source), any other primary IPv4
    /// address that has secondaries in its subnet (deleting it would take them along), a link-local
    /// address. Returns what was removed.
    pub async fn remove_unmanaged_copies(
        &self,
        ifindex: u32,
        vips: &[IpAddr],
    ) -> Result<Vec<IpAddr>, NetlinkError> {
        let addresses = self.addresses(ifindex).await?;
        let source = primary_ipv4_of(&addresses).map(IpAddr::V4);
        let mut removed = Vec::new();
        for address in &addresses {
            let copy = match address.address {
                IpAddr::V4(_) => {
                    Some(address.address) != source
                        && (address.is_secondary() || !has_secondaries(address, &addresses))
                }
                IpAddr::V6(v6) => !v6.is_unicast_link_local(),
            };
            if copy
                && !address.is_keepvip()
                && vips.contains(&address.address)
                && self.delete(address).await?
            {
                removed.push(address.address);
            }
        }
        Ok(removed)
    }

    /// The interface's primary IPv4 address (the VRRP source, RFC 5798 §5.1.1.1): see
    /// [`primary_ipv4_of`].
    pub async fn primary_ipv4(&self, ifindex: u32) -> Result<Option<Ipv4Addr>, NetlinkError> {
        Ok(primary_ipv4_of(&self.addresses(ifindex).await?))
    }

    /// The interface's own IPv6 link-local address (not a keepvip VIP), tentative or not.
    pub async fn ipv6_link_local(
        &self,
        ifindex: u32,
    ) -> Result<Option<InterfaceAddress>, NetlinkError> {
        Ok(self
            .addresses(ifindex)
            .await?
            .into_iter()
            .find(|address| is_ipv6_link_local(address.address) && !address.is_keepvip()))
    }
}

/// Whether deleting the primary IPv4 `primary` would take secondaries with it: another IPv4 address
/// of `addresses` flagged secondary lies in its subnet.
fn has_secondaries(primary: &InterfaceAddress, addresses: &[InterfaceAddress]) -> bool {
    let IpAddr::V4(network) = primary.address else {
        return false;
    };
    let mask = u32::MAX
        .checked_shl(32 - u32::from(primary.prefix_len.min(32)))
        .unwrap_or(0);
    addresses.iter().any(|other| match other.address {
        IpAddr::V4(v4) => {
            other.is_secondary() && (u32::from(v4) & mask) == (u32::from(network) & mask)
        }
        IpAddr::V6(_) => false,
    })
}

/// The primary IPv4 address among an interface's `addresses`: the first non-secondary IPv4 address
/// that keepvip did not install, preferring global scope.
pub fn primary_ipv4_of(addresses: &[InterfaceAddress]) -> Option<Ipv4Addr> {
    let candidates: Vec<(Ipv4Addr, AddressScope)> = addresses
        .iter()
        .filter(|address| !address.is_keepvip() && !address.is_secondary())
        .filter_map(|address| match address.address {
            IpAddr::V4(v4) => Some((v4, address.scope)),
            IpAddr::V6(_) => None,
        })
        .collect();
    candidates
        .iter()
        .find(|(_, scope)| *scope == AddressScope::Universe)
        .or(candidates.first())
        .map(|(address, _)| *address)
}

/// The link-local address of `address` if it is one, usable (not tentative) and not keepvip's.
pub(crate) fn ready_link_local(address: &InterfaceAddress) -> Option<Ipv6Addr> {
    match address.address {
        IpAddr::V6(v6)
            if v6.is_unicast_link_local() && !address.is_keepvip() && !address.is_tentative() =>
        {
            Some(v6)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vip(address: &str, label: Option<&str>) -> Vip {
        Vip {
            address: address.parse().unwrap(),
            prefix_len: 24,
            label: label.map(str::to_owned),
            scope: None,
        }
    }

    #[test]
    fn vip_message_carries_the_marker_label_and_scope() {
        let message = vip_message(
            7,
            &vip("192.0.2.100", Some("eth0:vip")),
            AddressMessage::default(),
        )
        .unwrap();
        assert_eq!(message.header.index, 7);
        assert_eq!(message.header.scope, AddressScope::Universe);
        assert!(
            message
                .attributes
                .contains(&AddressAttribute::Protocol(AddressProtocol::Other(112)))
        );
        assert!(
            message
                .attributes
                .contains(&AddressAttribute::Label("eth0:vip".into()))
        );
    }

    #[test]
    fn ipv6_vips_skip_dad_and_link_local_ones_get_link_scope() {
        let mut ll = vip("fe80::100", None);
        ll.prefix_len = 64;
        let message = vip_message(3, &ll, AddressMessage::default()).unwrap();
        assert_eq!(message.header.scope, AddressScope::Link);
        assert!(
            message
                .attributes
                .contains(&AddressAttribute::Flags(AddressFlags::Nodad))
        );
    }

    #[test]
    fn invalid_labels_and_prefixes_are_refused() {
        let long = vip("192.0.2.100", Some("eth0:far-too-long-label"));
        assert!(matches!(
            vip_message(1, &long, AddressMessage::default()),
            Err(NetlinkError::InvalidVip(_))
        ));
        let v6_label = vip("2001:db8::100", Some("eth0:x"));
        assert!(matches!(
            vip_message(1, &v6_label, AddressMessage::default()),
            Err(NetlinkError::InvalidVip(_))
        ));
        let mut wide = vip("192.0.2.100", None);
        wide.prefix_len = 33;
        assert!(matches!(
            vip_message(1, &wide, AddressMessage::default()),
            Err(NetlinkError::InvalidVip(_))
        ));
    }

    #[test]
    fn reported_addresses_prefer_local_and_read_the_marker() {
        let mut message = AddressMessage::default();
        message.header.index = 2;
        message.header.prefix_len = 24;
        message.attributes = vec![
            AddressAttribute::Address("192.0.2.9".parse().unwrap()),
            AddressAttribute::Local("192.0.2.100".parse().unwrap()),
            AddressAttribute::Flags(AddressFlags::Secondary),
            AddressAttribute::Protocol(AddressProtocol::Other(112)),
        ];
        let address = InterfaceAddress::from_message(message).unwrap();
        assert_eq!(address.address, "192.0.2.100".parse::<IpAddr>().unwrap());
        assert!(address.is_keepvip() && address.is_secondary() && !address.is_tentative());
    }

    fn reported(
        address: &str,
        scope: AddressScope,
        flags: AddressFlags,
        ours: bool,
    ) -> InterfaceAddress {
        let mut message = AddressMessage::default();
        message.header.scope = scope;
        message.attributes = vec![
            AddressAttribute::Local(address.parse().unwrap()),
            AddressAttribute::Flags(flags),
        ];
        if ours {
            let marker = AddressProtocol::Other(KEEPVIP_ADDRESS_PROTOCOL);
            message.attributes.push(AddressAttribute::Protocol(marker));
        }
        InterfaceAddress::from_message(message).unwrap()
    }

    #[test]
    fn the_primary_ipv4_address_is_the_operators_first_non_secondary_global_one_first() {
        let none = AddressFlags::empty();
        let host = reported("198.51.100.7", AddressScope::Host, none, false);
        let vip = reported("192.0.2.100", AddressScope::Universe, none, true);
        let secondary = reported(
            "203.0.113.2",
            AddressScope::Universe,
            AddressFlags::Secondary,
            false,
        );
        let global = reported("192.0.2.1", AddressScope::Universe, none, false);
        let all = [host.clone(), vip.clone(), secondary.clone(), global];
        assert_eq!(primary_ipv4_of(&all), Some(Ipv4Addr::new(192, 0, 2, 1)));
        assert_eq!(
            primary_ipv4_of(&[vip, secondary, host]),
            Some(Ipv4Addr::new(198, 51, 100, 7)),
            "no global one: the first non-secondary"
        );
        assert_eq!(primary_ipv4_of(&[]), None);
    }
}
