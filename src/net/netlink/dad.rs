//! Waiting until the interface's IPv6 link-local address is usable: present and no longer tentative
//! (Duplicate Address Detection done). Sends from it fail until then (docs/linux.md §IPv6 DAD).

use std::net::Ipv6Addr;
use std::time::Duration;

use futures::StreamExt;
use netlink_packet_route::RouteNetlinkMessage;
use rtnetlink::MulticastGroup;
use rtnetlink::packet_core::NetlinkPayload;

use super::address::{InterfaceAddress, ready_link_local};
use super::{Netlink, NetlinkError};

/// A re-read of the address list this often guards against a missed notification (netlink multicast
/// drops messages when the socket buffer overflows).
const RECHECK_EVERY: Duration = Duration::from_millis(500);

impl Netlink {
    /// Wait (at most `timeout`) until `ifindex` has a link-local address that is not tentative; returns
    /// it. Driven by RTNLGRP_IPV6_IFADDR notifications: subscribes first, then reads the current list,
    /// so a change in between is not missed. `DadFailed` if DAD found a duplicate.
    pub async fn wait_ipv6_link_local_ready(
        &self,
        ifindex: u32,
        timeout: Duration,
    ) -> Result<Ipv6Addr, NetlinkError> {
        let (connection, handle, mut messages) =
            rtnetlink::new_multicast_connection(&[MulticastGroup::Ipv6Ifaddr])
                .map_err(NetlinkError::Connect)?;
        let connection = tokio::spawn(connection);
        let subscribed = Netlink { handle, connection };
        let wait = async {
            loop {
                if let Some(ready) = subscribed.check_link_local(ifindex).await? {
                    return Ok(ready);
                }
                // Sleep until a notification for this interface (or the recheck period) and look again.
                let event = tokio::time::timeout(RECHECK_EVERY, async {
                    while let Some((message, _)) = messages.next().await {
                        if let NetlinkPayload::InnerMessage(
                            RouteNetlinkMessage::NewAddress(address)
                            | RouteNetlinkMessage::DelAddress(address),
                        ) = message.payload
                            && address.header.index == ifindex
                        {
                            return Ok(());
                        }
                    }
                    Err(NetlinkError::EventsClosed)
                })
                .await;
                if let Ok(Err(closed)) = event {
                    return Err(closed);
                }
            }
        };
        tokio::time::timeout(timeout, wait)
            .await
            .unwrap_or_else(|_| {
                Err(NetlinkError::Timeout {
                    what: format!("IPv6 link-local address on #{ifindex} leaving DAD"),
                    after: timeout,
                })
            })
    }

    /// The usable link-local address, `None` while absent or tentative, `DadFailed` if DAD failed.
    async fn check_link_local(&self, ifindex: u32) -> Result<Option<Ipv6Addr>, NetlinkError> {
        let addresses: Vec<InterfaceAddress> = self.addresses(ifindex).await?;
        if let Some(ready) = addresses.iter().find_map(ready_link_local) {
            return Ok(Some(ready));
        }
        match addresses
            .iter()
            .find(|address| address.is_dad_failed() && !address.is_keepvip())
        {
            Some(failed) => match failed.address {
                std::net::IpAddr::V6(v6) if v6.is_unicast_link_local() => {
                    Err(NetlinkError::DadFailed(v6))
                }
                _ => Ok(None),
            },
            None => Ok(None),
        }
    }
}
