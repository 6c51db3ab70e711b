//! Interfaces: lookup by name or index (index, MAC, state) and the link-state event stream.
//!
//! "Up" means what keepalived means: `IFF_UP` (administratively up) and `IFF_RUNNING`. The kernel sets
//! IFF_RUNNING only while the carrier is present and the operational state is UP (or UNKNOWN, for
//! drivers that do not report one), so "down" covers `ip link set down`, a pulled cable / peer veth down
//! (LOWERLAYERDOWN) and DORMANT. IFF_LOWER_UP alone (carrier) is not enough: an admin-down link keeps it.

use std::net::IpAddr;

use futures::StreamExt;
use futures::channel::mpsc::UnboundedReceiver;
use netlink_packet_route::RouteNetlinkMessage;
use netlink_packet_route::link::{LinkAttribute, LinkFlags, LinkMessage, State};
use rtnetlink::MulticastGroup;
use rtnetlink::packet_core::{NetlinkMessage, NetlinkPayload};
use rtnetlink::sys::SocketAddr;
use tokio::task::JoinHandle;

use super::{Netlink, NetlinkError};

/// One interface as the kernel describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LinkInfo {
    pub index: u32,
    pub name: String,
    /// The hardware address, if it is a 6-byte (Ethernet) one.
    pub mac: Option<[u8; 6]>,
    pub admin_up: bool,
    /// IFF_LOWER_UP: the carrier.
    pub lower_up: bool,
    pub oper_state: State,
    /// IFF_UP and IFF_RUNNING: usable for VRRP (see the module docs).
    pub up: bool,
}

impl LinkInfo {
    pub(crate) fn from_message(message: &LinkMessage) -> Self {
        let mut name = String::new();
        let mut mac = None;
        let mut oper_state = State::Unknown;
        for attribute in &message.attributes {
            match attribute {
                LinkAttribute::IfName(ifname) => name = ifname.clone(),
                LinkAttribute::Address(bytes) => mac = <[u8; 6]>::try_from(bytes.as_slice()).ok(),
                LinkAttribute::OperState(state) => oper_state = *state,
                _ => {}
            }
        }
        let flags = message.header.flags;
        Self {
            index: message.header.index,
            name,
            mac,
            admin_up: flags.contains(LinkFlags::Up),
            lower_up: flags.contains(LinkFlags::LowerUp),
            oper_state,
            up: flags.contains(LinkFlags::Up) && flags.contains(LinkFlags::Running),
        }
    }
}

fn no_such_link(err: &rtnetlink::Error) -> bool {
    matches!(err, rtnetlink::Error::NetlinkError(message) if message.raw_code().abs() == libc::ENODEV)
}

impl Netlink {
    /// The interface called `name`: its index, MAC address and state.
    pub async fn link_by_name(&self, name: &str) -> Result<LinkInfo, NetlinkError> {
        let mut replies = self
            .handle
            .link()
            .get()
            .match_name(name.to_owned())
            .execute();
        match replies.next().await {
            Some(Ok(message)) => Ok(LinkInfo::from_message(&message)),
            Some(Err(err)) if no_such_link(&err) => Err(NetlinkError::NoSuchLink(name.to_owned())),
            Some(Err(err)) => Err(NetlinkError::request(format!("get link {name}"), err)),
            None => Err(NetlinkError::NoSuchLink(name.to_owned())),
        }
    }

    /// The interface with index `index`.
    pub async fn link_by_index(&self, index: u32) -> Result<LinkInfo, NetlinkError> {
        let mut replies = self.handle.link().get().match_index(index).execute();
        match replies.next().await {
            Some(Ok(message)) => Ok(LinkInfo::from_message(&message)),
            Some(Err(err)) if no_such_link(&err) => {
                Err(NetlinkError::NoSuchLink(format!("#{index}")))
            }
            Some(Err(err)) => Err(NetlinkError::request(format!("get link #{index}"), err)),
            None => Err(NetlinkError::NoSuchLink(format!("#{index}"))),
        }
    }
}

/// A link notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkEvent {
    /// RTM_NEWLINK: the link's state now. The kernel also sends these for changes that leave `up` as it
    /// was (MTU, promiscuity, ...): compare with the previous state.
    Changed(LinkInfo),
    /// RTM_DELLINK: the interface is gone.
    Removed { index: u32, name: String },
}

impl LinkEvent {
    pub fn index(&self) -> u32 {
        match self {
            Self::Changed(info) => info.index,
            Self::Removed { index, .. } => *index,
        }
    }
}

/// A subscription to RTNLGRP_LINK: every link change in this network namespace.
#[derive(Debug)]
pub struct LinkEvents {
    messages: UnboundedReceiver<(NetlinkMessage<RouteNetlinkMessage>, SocketAddr)>,
    connection: JoinHandle<()>,
}

impl LinkEvents {
    /// Subscribe. Events that happen after this returns are delivered; read the current state with
    /// `Netlink::link_by_name` after subscribing, so nothing falls in between.
    pub fn subscribe() -> Result<Self, NetlinkError> {
        let (connection, _handle, messages) =
            rtnetlink::new_multicast_connection(&[MulticastGroup::Link])
                .map_err(NetlinkError::Connect)?;
        Ok(Self {
            messages,
            connection: tokio::spawn(connection),
        })
    }

    /// The next link event; `EventsClosed` once the subscription has ended.
    pub async fn next(&mut self) -> Result<LinkEvent, NetlinkError> {
        while let Some((message, _)) = self.messages.next().await {
            if let Some(event) = LinkEvent::from_payload(message.payload) {
                return Ok(event);
            }
        }
        Err(NetlinkError::EventsClosed)
    }
}

impl LinkEvent {
    /// The event a notification carries: RTM_NEWLINK and RTM_DELLINK; `None` for anything else.
    pub fn from_payload(payload: NetlinkPayload<RouteNetlinkMessage>) -> Option<LinkEvent> {
        match payload {
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::NewLink(link)) => {
                Some(LinkEvent::Changed(LinkInfo::from_message(&link)))
            }
            NetlinkPayload::InnerMessage(RouteNetlinkMessage::DelLink(link)) => {
                let info = LinkInfo::from_message(&link);
                Some(LinkEvent::Removed {
                    index: info.index,
                    name: info.name,
                })
            }
            _ => None,
        }
    }
}

impl Drop for LinkEvents {
    fn drop(&mut self) {
        self.connection.abort();
    }
}

/// Whether `address` is an IPv6 link-local unicast address (fe80::/10).
pub(crate) fn is_ipv6_link_local(address: IpAddr) -> bool {
    matches!(address, IpAddr::V6(v6) if v6.is_unicast_link_local())
}
