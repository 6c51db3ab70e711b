//! Fuzzes `Repr::parse` with both families and arbitrary IP source/destination addresses.
//!
//! Input layout: byte 0 = flags, bytes 1..=16 source, 17..=32 destination, the rest the VRRP bytes.
//! Flags: bit 0 source is IPv6 (else the first 4 address bytes are IPv4), bit 1 destination is IPv6,
//! bit 2 rewrite the checksum field so it verifies (else random checksums would stop nearly every
//! input at the checksum check), bit 3 with bit 2: use the pseudo-header rather than message-only.
//!
//! Properties: parse never panics; a packet it accepts can be re-emitted with the reported mode, and
//! the re-emitted bytes parse back to the same `Repr` and mode.
#![no_main]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use libfuzzer_sys::fuzz_target;
use vrrp_wire::{Packet, Repr};

const PREFIX_LEN: usize = 33;

fuzz_target!(|data: &[u8]| {
    if data.len() < PREFIX_LEN {
        return;
    }
    let flags = data[0];
    let src = address(&data[1..17], flags & 1 != 0);
    let dst = address(&data[17..33], flags & 2 != 0);
    let mut message = data[PREFIX_LEN..].to_vec();
    if flags & 4 != 0 && message.len() >= 8 {
        fix_checksum(&mut message, src, dst, flags & 8 != 0);
    }

    // Accessors never panic after check_len, whatever the bytes.
    if let Ok(packet) = Packet::new_checked(&message[..]) {
        let _ = (packet.version(), packet.msg_type(), packet.vrid(), packet.priority());
        let _ = (packet.max_adver_int(), packet.v2_auth_type(), packet.v2_adver_int());
        let _ = (packet.checksum(), packet.v2_auth_data(), packet.address_count());
        for family in [vrrp_wire::Family::Ipv4, vrrp_wire::Family::Ipv6] {
            let _ = (packet.address_bytes(family), packet.needed_len(family));
            for index in 0..=usize::from(packet.address_count()) {
                let _ = packet.address(family, index);
            }
        }
    }

    let Ok((repr, mode)) = Repr::parse(&Packet::new_unchecked(&message[..]), src, dst) else {
        return;
    };
    let reemitted = match repr.to_bytes(src, dst, mode) {
        Ok(bytes) => bytes,
        Err(error) => panic!("accepted {repr:?} ({mode:?}) but emit refused: {error}"),
    };
    assert_eq!(reemitted.len(), repr.buffer_len());
    assert_eq!(
        Repr::parse_bytes(&reemitted, src, dst),
        Ok((repr, mode)),
        "re-emitted bytes parse differently"
    );
});

fn address(bytes: &[u8], ipv6: bool) -> IpAddr {
    let mut octets = [0u8; 16];
    octets.copy_from_slice(bytes);
    if ipv6 {
        IpAddr::V6(Ipv6Addr::from(octets))
    } else {
        IpAddr::V4(Ipv4Addr::new(octets[0], octets[1], octets[2], octets[3]))
    }
}

/// An RFC 1071 checksum written independently of the crate's, with the pseudo-header of the source's
/// family (skipped when the families are mixed: the parser must reject those anyway).
fn fix_checksum(message: &mut [u8], src: IpAddr, dst: IpAddr, pseudo_header: bool) {
    message[6] = 0;
    message[7] = 0;
    let mut bytes = Vec::new();
    if pseudo_header {
        match (src, dst) {
            (IpAddr::V4(src), IpAddr::V4(dst)) => {
                bytes.extend_from_slice(&src.octets());
                bytes.extend_from_slice(&dst.octets());
                bytes.extend_from_slice(&[0, 112]);
                bytes.extend_from_slice(&(message.len() as u16).to_be_bytes());
            }
            (IpAddr::V6(src), IpAddr::V6(dst)) => {
                bytes.extend_from_slice(&src.octets());
                bytes.extend_from_slice(&dst.octets());
                bytes.extend_from_slice(&(message.len() as u32).to_be_bytes());
                bytes.extend_from_slice(&[0, 0, 0, 112]);
            }
            _ => {}
        }
    }
    bytes.extend_from_slice(message);
    let mut sum: u64 = bytes
        .chunks(2)
        .map(|pair| u64::from(pair[0]) << 8 | u64::from(pair.get(1).copied().unwrap_or(0)))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    let checksum = !(sum as u16);
    message[6..8].copy_from_slice(&checksum.to_be_bytes());
}
