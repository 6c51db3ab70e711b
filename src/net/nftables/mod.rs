//! Accept_Mode False (RFC 5798 §6.4.3 (650)) through nf_tables: a master that is not the address owner
//! and does not accept must drop packets addressed to its VIPs. keepvip keeps one table of its own,
//! talking to the kernel over nfnetlink (no `nft` binary at run time):
//!
//! ```text
//! table inet keepvip {
//!     set vips4 { type ipv4_addr; }
//!     set vips6 { type ipv6_addr; }
//!     chain prerouting {
//!         type filter hook prerouting priority filter; policy accept;
//!         icmpv6 type nd-neighbor-solicit accept
//!         icmpv6 type nd-neighbor-advert accept
//!         ip daddr @vips4 drop
//!         ip6 daddr @vips6 drop
//!     }
//! }
//! ```
//!
//! Prerouting, so a packet to a VIP is neither delivered locally nor forwarded; at filter priority (0),
//! after NAT (-100), so what NAT rewrites passes as it does through keepalived's input-hook drop: the
//! replies of connections masqueraded to a VIP (back to their LAN destination) and traffic DNAT-ed from
//! a VIP to a server behind. Traffic routed *through* the master (the VIP as a next hop) has another
//! destination and passes. ARP is not IP and passes; IPv6 neighbor solicitations and advertisements
//! addressed to a VIP (unicast NUD probes) are accepted, so the VIP still resolves. The table exists while keepvip runs with an instance that needs it; the sets hold
//! the VIPs of the masters that drop.

mod message;
mod socket;

use std::net::IpAddr;

pub use message::Batch;
use message::{
    BASE_NETWORK, BASE_TRANSPORT, DROP, Expr, HOOK_PREROUTING, KEY_TYPE_IPV4, KEY_TYPE_IPV6,
    META_L4PROTO, META_NFPROTO, NFPROTO_IPV4, NFPROTO_IPV6,
};
pub use socket::NftError;
use socket::NftSocket;
pub(crate) use socket::answers;

/// keepvip's table (family inet).
pub const TABLE: &str = "keepvip";
const CHAIN: &str = "prerouting";
const SET_V4: &str = "vips4";
const SET_V6: &str = "vips6";
/// NF_IP_PRI_FILTER: after connection tracking (-200) and destination NAT (-100).
const PRIORITY_FILTER: i32 = 0;
const ICMPV6: u8 = 58;
const ND_NEIGHBOR_SOLICIT: u8 = 135;
const ND_NEIGHBOR_ADVERT: u8 = 136;

/// The connection to nf_tables that installs and removes the drop for VIPs. Calls block (at most the
/// socket's receive timeout): run them off the protocol loop.
#[derive(Debug)]
pub struct VipFilter {
    socket: NftSocket,
}

impl VipFilter {
    /// Opens the nfnetlink socket in the caller's network namespace.
    pub fn open() -> Result<VipFilter, NftError> {
        Ok(VipFilter {
            socket: NftSocket::open()?,
        })
    }

    /// Creates the table empty, replacing one an earlier run left (after a crash) in the same batch,
    /// so no packet ever sees a half-built table.
    pub fn create(&mut self) -> Result<(), NftError> {
        let mut batch = self.socket.batch();
        replace_table(&mut batch);
        self.socket.apply(batch)
    }

    /// Deletes the table if it exists (at exit, or at startup when no instance needs it).
    pub fn delete(&mut self) -> Result<(), NftError> {
        let mut batch = self.socket.batch();
        batch.new_table(TABLE);
        batch.delete_table(TABLE);
        self.socket.apply(batch)
    }

    /// Packets addressed to `addresses` are dropped from now on.
    pub fn drop_traffic_to(&mut self, addresses: &[IpAddr]) -> Result<(), NftError> {
        let mut batch = self.socket.batch();
        for_each_family(addresses, |set, family| {
            batch.add_elements(TABLE, set, family)
        });
        self.socket.apply(batch)
    }

    /// Packets addressed to `addresses` are no longer dropped. An address that is not in the set (the
    /// table flushed by someone else) is no error.
    pub fn stop_dropping(&mut self, addresses: &[IpAddr]) -> Result<(), NftError> {
        let mut batch = self.socket.batch();
        for_each_family(addresses, |set, family| {
            batch.delete_elements(TABLE, set, family)
        });
        match self.socket.apply(batch) {
            // One absent element fails the whole batch: retry one address at a time.
            Err(e) if e.errno() == Some(libc::ENOENT) && addresses.len() > 1 => {
                for address in addresses {
                    self.stop_dropping(std::slice::from_ref(address))?;
                }
                Ok(())
            }
            Err(e) if e.errno() == Some(libc::ENOENT) => Ok(()),
            other => other,
        }
    }
}

/// The whole table, empty sets included: add (so the delete cannot fail), delete, add anew.
pub fn replace_table(batch: &mut Batch) {
    batch.new_table(TABLE);
    batch.delete_table(TABLE);
    batch.new_table(TABLE);
    batch.new_set(TABLE, SET_V4, KEY_TYPE_IPV4, 4, 1);
    batch.new_set(TABLE, SET_V6, KEY_TYPE_IPV6, 16, 2);
    batch.new_chain(TABLE, CHAIN, HOOK_PREROUTING, PRIORITY_FILTER);
    for rule in rules() {
        batch.new_rule(TABLE, CHAIN, &rule);
    }
}

/// The chain's rules, in order (module doc).
fn rules() -> [Vec<Expr>; 4] {
    let neighbor = |icmp_type: u8| {
        vec![
            Expr::Meta { key: META_NFPROTO },
            Expr::CmpEq {
                data: vec![NFPROTO_IPV6],
            },
            Expr::Meta { key: META_L4PROTO },
            Expr::CmpEq { data: vec![ICMPV6] },
            Expr::Payload {
                base: BASE_TRANSPORT,
                offset: 0,
                len: 1,
            },
            Expr::CmpEq {
                data: vec![icmp_type],
            },
            Expr::Verdict(message::ACCEPT),
        ]
    };
    // The destination address: offset 16 in an IPv4 header, 24 in an IPv6 header.
    let drop_to = |nfproto: u8, offset: u32, len: u32, set: &str| {
        vec![
            Expr::Meta { key: META_NFPROTO },
            Expr::CmpEq {
                data: vec![nfproto],
            },
            Expr::Payload {
                base: BASE_NETWORK,
                offset,
                len,
            },
            Expr::Lookup { set: set.into() },
            Expr::Verdict(DROP),
        ]
    };
    [
        neighbor(ND_NEIGHBOR_SOLICIT),
        neighbor(ND_NEIGHBOR_ADVERT),
        drop_to(NFPROTO_IPV4, 16, 4, SET_V4),
        drop_to(NFPROTO_IPV6, 24, 16, SET_V6),
    ]
}

/// Calls `each` with the set and the addresses of each family that has some.
fn for_each_family(addresses: &[IpAddr], mut each: impl FnMut(&str, &[IpAddr])) {
    let (v4, v6): (Vec<IpAddr>, Vec<IpAddr>) = addresses.iter().partition(|a| a.is_ipv4());
    if !v4.is_empty() {
        each(SET_V4, &v4);
    }
    if !v6.is_empty() {
        each(SET_V6, &v6);
    }
}

#[cfg(test)]
mod tests;
