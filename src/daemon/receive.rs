//! The receive path before the core: RFC 5798 §7.1's checks that need no router state, in order, each
//! failure counted by reason; then dispatch by VRID. What survives becomes `Input::Advert`.

use std::net::IpAddr;

use vrrp_wire::{ChecksumMode, Packet, Repr, check_hop_limit};

/// Where a received packet goes.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// For the instance with this VRID on the socket: parsed and wire-valid, with the checksum variant
    /// the sender used (keepalived/FRR include the IPv4 pseudo-header, RFC 9568 does not).
    Advert {
        vrid: u8,
        repr: Repr,
        checksum: ChecksumMode,
    },
    /// Dropped before the core. `vrid` is known when the header got that far, so the drop can be
    /// counted against the instance the packet was aimed at.
    Dropped {
        vrid: Option<u8>,
        reason: &'static str,
    },
}

/// Label for a VRID no instance on this interface and family is configured with (RFC 5798 §7.1).
pub const UNKNOWN_VRID: &str = "vrid_not_configured";

/// Judges one packet. `vrid_configured` says whether an instance on this socket owns a VRID.
pub fn judge(
    payload: &[u8],
    src: IpAddr,
    dst: IpAddr,
    ttl: u8,
    vrid_configured: impl Fn(u8) -> bool,
) -> Verdict {
    let vrid = payload.get(1).copied();
    let dropped = |reason: &'static str| Verdict::Dropped { vrid, reason };
    // RFC 5798 §7.1: TTL / Hop Limit MUST be 255.
    if let Err(e) = check_hop_limit(ttl) {
        return dropped(e.reason());
    }
    let packet = match Packet::new_checked(payload) {
        Ok(packet) => packet,
        Err(e) => return dropped(e.reason()),
    };
    match Repr::parse(&packet, src, dst) {
        Ok((repr, checksum)) if vrid_configured(repr.vrid) => Verdict::Advert {
            vrid: repr.vrid,
            repr,
            checksum,
        },
        Ok(_) => dropped(UNKNOWN_VRID),
        Err(e) => dropped(e.reason()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;
    use vrrp_wire::{Addresses, Auth, Centisecs, Version};

    const SRC: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    const DST: IpAddr = IpAddr::V4(Ipv4Addr::new(224, 0, 0, 18));

    fn advert(vrid: u8) -> Vec<u8> {
        Repr {
            version: Version::V3,
            vrid,
            priority: 100,
            max_adver_int: Centisecs::new(100).unwrap(),
            addresses: Addresses::V4(vec![Ipv4Addr::new(192, 0, 2, 100)]),
            auth: Auth::None,
        }
        .to_bytes(SRC, DST, ChecksumMode::PseudoHeader)
        .unwrap()
    }

    #[test]
    fn a_valid_advert_for_a_configured_vrid_is_dispatched() {
        let verdict = judge(&advert(7), SRC, DST, 255, |v| v == 7);
        assert!(
            matches!(verdict, Verdict::Advert { vrid: 7, .. }),
            "{verdict:?}"
        );
    }

    #[test]
    fn the_senders_checksum_variant_is_reported() {
        let message_only = Repr::parse_bytes(&advert(7), SRC, DST).unwrap().0;
        let bytes = message_only
            .to_bytes(SRC, DST, ChecksumMode::MessageOnly)
            .unwrap();
        let verdict = judge(&bytes, SRC, DST, 255, |_| true);
        assert!(
            matches!(
                verdict,
                Verdict::Advert {
                    checksum: ChecksumMode::MessageOnly,
                    ..
                }
            ),
            "{verdict:?}"
        );
        let verdict = judge(&advert(7), SRC, DST, 255, |_| true);
        assert!(
            matches!(
                verdict,
                Verdict::Advert {
                    checksum: ChecksumMode::PseudoHeader,
                    ..
                }
            ),
            "{verdict:?}"
        );
    }

    #[test]
    fn ttl_other_than_255_is_dropped_before_parsing() {
        let verdict = judge(&advert(7), SRC, DST, 64, |_| true);
        let Verdict::Dropped { vrid, reason } = verdict else {
            panic!("{verdict:?}")
        };
        assert_eq!(vrid, Some(7));
        assert!(reason.contains("ttl") || reason.contains("hop"), "{reason}");
    }

    #[test]
    fn unknown_vrid_is_dropped_with_its_own_reason() {
        assert_eq!(
            judge(&advert(9), SRC, DST, 255, |v| v == 7),
            Verdict::Dropped {
                vrid: Some(9),
                reason: UNKNOWN_VRID
            }
        );
    }

    #[test]
    fn corrupted_checksum_is_dropped() {
        let mut bytes = advert(7);
        bytes[6] ^= 0xff;
        let Verdict::Dropped { reason, .. } = judge(&bytes, SRC, DST, 255, |_| true) else {
            panic!()
        };
        assert!(reason.contains("checksum"), "{reason}");
    }

    #[test]
    fn truncated_packet_is_dropped_without_a_vrid_when_too_short() {
        let Verdict::Dropped { vrid, .. } = judge(&[0x31], SRC, DST, 255, |_| true) else {
            panic!()
        };
        assert_eq!(vrid, None);
    }
}
