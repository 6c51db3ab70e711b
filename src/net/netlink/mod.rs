//! rtnetlink (pinned rtnetlink =0.24.0 / netlink-packet-route =0.34.0, docs/linux.md §rtnetlink):
//! interfaces, VIPs, virtual routes and rules, link-state and address events, the IPv6 link-local
//! readiness wait and vmac macvlans.

mod address;
mod address_events;
mod dad;
mod error;
mod link;
mod macvlan;
mod route;

use rtnetlink::Handle;
use tokio::task::JoinHandle;

pub use address::{InterfaceAddress, KEEPVIP_ADDRESS_PROTOCOL, Vip, VipScope, primary_ipv4_of};
pub use address_events::{AddressEvent, AddressEvents};
pub use error::NetlinkError;
pub(crate) use link::is_ipv6_link_local;
pub use link::{LinkEvent, LinkEvents, LinkInfo};
pub use macvlan::{Existing, MacvlanSpec, format_mac};
pub use route::{KEEPVIP_ROUTE_PROTOCOL, Removed, RouteKind, RouteSpec, RuleSpec};

/// A request connection to the kernel's routing netlink, in the caller's network namespace.
#[derive(Debug)]
pub struct Netlink {
    handle: Handle,
    connection: JoinHandle<()>,
}

impl Netlink {
    /// Open the connection; its IO task runs on the current tokio runtime until this is dropped.
    pub fn connect() -> Result<Self, NetlinkError> {
        let (connection, handle, _unsolicited) =
            rtnetlink::new_connection().map_err(NetlinkError::Connect)?;
        Ok(Self {
            handle,
            connection: tokio::spawn(connection),
        })
    }

    /// The underlying rtnetlink handle, for requests this module does not wrap.
    pub fn handle(&self) -> &Handle {
        &self.handle
    }
}

impl Drop for Netlink {
    fn drop(&mut self) {
        self.connection.abort();
    }
}
