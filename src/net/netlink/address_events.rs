//! The address event stream: every IPv4 and IPv6 address added to or removed from an interface in this
//! network namespace (RTNLGRP_IPV4_IFADDR and RTNLGRP_IPV6_IFADDR), like `LinkEvents` for links.
//!
//! The kernel sends RTM_NEWADDR again when an address's flags change, notably when IPv6 DAD ends (the
//! tentative flag clears), so "added and not tentative" is the moment an IPv6 address becomes usable.

use futures::StreamExt;
use futures::channel::mpsc::UnboundedReceiver;
use netlink_packet_route::RouteNetlinkMessage;
use rtnetlink::MulticastGroup;
use rtnetlink::packet_core::{NetlinkMessage, NetlinkPayload};
use rtnetlink::sys::SocketAddr;
use tokio::task::JoinHandle;

use super::{InterfaceAddress, NetlinkError};

/// An address notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddressEvent {
    /// RTM_NEWADDR: the address is on the interface, with its flags now (tentative, dadfailed, ...).
    Added(InterfaceAddress),
    /// RTM_DELADDR: the address is gone from the interface.
    Removed(InterfaceAddress),
}

impl AddressEvent {
    /// The address the event is about (its ifindex, address and flags).
    pub fn address(&self) -> &InterfaceAddress {
        match self {
            Self::Added(address) | Self::Removed(address) => address,
        }
    }
}

impl AddressEvent {
    /// The event a notification carries: RTM_NEWADDR and RTM_DELADDR with an address attribute;
    /// `None` for anything else.
    pub fn from_payload(payload: NetlinkPayload<RouteNetlinkMessage>) -> Option<AddressEvent> {
        match payload {
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewAddress(address)) => {
                InterfaceAddress::from_message(address).map(AddressEvent::Added)
            }
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelAddress(address)) => {
                InterfaceAddress::from_message(address).map(AddressEvent::Removed)
            }
            _ => None,
        }
    }
}

/// A subscription to the IPv4 and IPv6 address groups.
#[derive(Debug)]
pub struct AddressEvents {
    messages: UnboundedReceiver<(NetlinkMessage<RouteNetlinkMessage>, SocketAddr)>,
    connection: JoinHandle<()>,
}

impl AddressEvents {
    /// Subscribe. Changes after this returns are delivered; read the current addresses with
    /// `Netlink::addresses` after subscribing, so nothing falls in between.
    pub fn subscribe() -> Result<Self, NetlinkError> {
        let (connection, _handle, messages) = rtnetlink::new_multicast_connection(&[
            MulticastGroup::Ipv4Ifaddr,
            MulticastGroup::Ipv6Ifaddr,
        ])
        .map_err(NetlinkError::Connect)?;
        Ok(Self {
            messages,
            connection: tokio::spawn(connection),
        })
    }

    /// The next address event; `EventsClosed` once the subscription has ended. Messages without an
    /// address attribute are skipped.
    pub async fn next(&mut self) -> Result<AddressEvent, NetlinkError> {
        while let Some((message, _)) = self.messages.next().await {
            if let Some(event) = AddressEvent::from_payload(message.payload) {
                return Ok(event);
            }
        }
        Err(NetlinkError::EventsClosed)
    }
}

impl Drop for AddressEvents {
    fn drop(&mut self) {
        self.connection.abort();
    }
}
