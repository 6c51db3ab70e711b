//! Protocol constants and the receive rules that depend on the IP header rather than the VRRP bytes.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::WireError;

/// IP protocol / IPv6 next header number of VRRP (RFC 5798 §5.1.1.4, §5.1.2.4).
pub const IP_PROTOCOL_VRRP: u8 = 112;

/// IPv4 multicast group advertisements go to (RFC 5798 §5.1.1.2).
pub const VRRP_IPV4_GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);

/// IPv6 multicast group advertisements go to (RFC 5798 §5.1.2.2).
pub const VRRP_IPV6_GROUP: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);

/// TTL / hop limit advertisements are sent and must arrive with (RFC 5798 §5.1.1.3, §5.1.2.3, §7.1).
pub const VRRP_HOP_LIMIT: u8 = 255;

/// RFC 5798 §7.1: "MUST verify that the IPvX TTL/Hop Limit is 255." A packet that crossed a router
/// arrives with less, so this keeps advertisements on the link they were sent on.
pub fn check_hop_limit(ttl_or_hop_limit: u8) -> Result<(), WireError> {
    if ttl_or_hop_limit == VRRP_HOP_LIMIT {
        Ok(())
    } else {
        Err(WireError::BadHopLimit {
            received: ttl_or_hop_limit,
        })
    }
}

/// fe80::/10, the link-local unicast prefix (RFC 4291 §2.5.6). `Ipv6Addr::is_unicast_link_local` is
/// the same test; spelled out so the rule has one visible home here.
pub const fn is_link_local(addr: Ipv6Addr) -> bool {
    addr.segments()[0] & 0xffc0 == 0xfe80
}
