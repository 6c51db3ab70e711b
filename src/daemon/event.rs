//! What the feeder tasks tell the protocol loop, and the ids that name sockets.

use std::net::{IpAddr, Ipv6Addr};

use crate::net::netlink::{AddressEvent, InterfaceAddress, LinkEvent};

/// One raw socket (interface and family) of the daemon, by its index in `Io::sockets`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SocketId(pub usize);

pub enum Event {
    Link(LinkEvent),
    Address(AddressEvent),
    /// A periodic re-read of an interface's addresses, started at `read_at` (the daemon's clock).
    Addresses {
        ifindex: u32,
        read_at: vrrp_core::Instant,
        addresses: Vec<InterfaceAddress>,
    },
    /// An instance's VIPs are installed after it became master, `took` after the decision.
    TakeoverDone {
        id: vrrp_core::InstanceId,
        took: std::time::Duration,
    },
    /// A master's VIPs found missing from its interface and added again (`vip_repair`).
    VipsRestored {
        id: vrrp_core::InstanceId,
        addresses: Vec<IpAddr>,
    },
    /// An interface's IPv6 link-local address left DAD after the link came back.
    Ipv6Ready {
        ifindex: u32,
        link_local: Ipv6Addr,
        /// Which link-up this answers (`interfaces::DadWaits`).
        generation: u64,
    },
}
