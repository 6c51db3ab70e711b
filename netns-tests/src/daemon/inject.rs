//! Hand-made VRRP packets sent from a lab host that runs no daemon: a plain raw IPv4 socket (protocol
//! 112, the kernel writes the IP header) whose multicast TTL the test picks, so that malformed adverts
//! reach the daemons exactly as a broken or hostile peer would send them.

use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};

use socket2::{Domain, Protocol, Socket, Type};

use crate::error::{HarnessError, Result};
use crate::lab::HOST_IF;
use crate::netns::in_netns;

const VRRP_GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);

/// Send each of `payloads` (the bytes after the IP header) once, in order, from `src` on `eth0` of
/// namespace `ns` to 224.0.0.18 with IP TTL `ttl`. Bounded: one datagram per payload.
pub fn send_vrrp_v4(ns: &str, src: Ipv4Addr, ttl: u32, payloads: &[Vec<u8>]) -> Result<()> {
    send_vrrp_v4_to(ns, src, VRRP_GROUP, ttl, payloads)
}

/// `send_vrrp_v4` to `dst`: the group, or a unicast address (a unicast VRRP peer, or a stranger
/// posing as one).
pub fn send_vrrp_v4_to(
    ns: &str,
    src: Ipv4Addr,
    dst: Ipv4Addr,
    ttl: u32,
    payloads: &[Vec<u8>],
) -> Result<()> {
    let send = || -> std::io::Result<()> {
        let socket = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(112)))?;
        socket.bind_device(Some(HOST_IF.as_bytes()))?;
        socket.bind(&SocketAddrV4::new(src, 0).into())?;
        socket.set_multicast_if_v4(&src)?;
        socket.set_multicast_ttl_v4(ttl)?;
        socket.set_ttl_v4(ttl)?;
        socket.set_multicast_loop_v4(false)?;
        let to = SocketAddrV4::new(dst, 0).into();
        for payload in payloads {
            let sent = socket.send_to(payload, &to)?;
            if sent != payload.len() {
                return Err(std::io::Error::other(format!(
                    "sent {sent} of {} bytes",
                    payload.len()
                )));
            }
        }
        Ok(())
    };
    in_netns(ns, send)?
        .map_err(|err| HarnessError::new(format!("{ns}: raw VRRP send from {src} to {dst}: {err}")))
}

/// Send each of `payloads` once from `src` (an address of `eth0` in namespace `ns`) to the unicast
/// IPv6 address `dst` with hop limit `hops`. The payloads carry their own checksum (the kernel does
/// not write it: no `IPV6_CHECKSUM` here). Bounded: one datagram per payload.
pub fn send_vrrp_v6_to(
    ns: &str,
    src: Ipv6Addr,
    dst: Ipv6Addr,
    hops: u32,
    payloads: &[Vec<u8>],
) -> Result<()> {
    let send = || -> std::io::Result<()> {
        let socket = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::from(112)))?;
        socket.bind_device(Some(HOST_IF.as_bytes()))?;
        socket.bind(&SocketAddrV6::new(src, 0, 0, 0).into())?;
        socket.set_unicast_hops_v6(hops)?;
        let to = SocketAddrV6::new(dst, 0, 0, 0).into();
        for payload in payloads {
            socket.send_to(payload, &to)?;
        }
        Ok(())
    };
    in_netns(ns, send)?
        .map_err(|err| HarnessError::new(format!("{ns}: raw VRRP send from {src} to {dst}: {err}")))
}

/// The Internet checksum (RFC 1071) of `bytes` as VRRP carries it (RFC 9568's message-only form for
/// VRRPv3 over IPv4, which receivers accept beside the pseudo-header form). The checksum field must be
/// zero in `bytes`.
pub fn internet_checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|pair| u32::from(u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Write the message-only checksum of `packet` into bytes 6-7.
pub fn seal_message_only(packet: &mut [u8]) {
    if packet.len() < 8 {
        return;
    }
    packet[6] = 0;
    packet[7] = 0;
    let checksum = internet_checksum(packet).to_be_bytes();
    packet[6] = checksum[0];
    packet[7] = checksum[1];
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_only_checksum_matches_the_golden_vector() {
        // docs/protocol.md §Golden vectors: v3 IPv4 message-only `310164010064a834c0000264`.
        let mut packet = [
            0x31, 0x01, 0x64, 0x01, 0x00, 0x64, 0, 0, 0xc0, 0x00, 0x02, 0x64,
        ];
        seal_message_only(&mut packet);
        assert_eq!(&packet[6..8], &[0xa8, 0x34]);
    }
}
