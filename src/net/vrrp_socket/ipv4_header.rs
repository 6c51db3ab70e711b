//! The IPv4 header an IPv4 raw socket delivers in front of the payload (Linux keeps it in network byte
//! order, options included).

use std::net::Ipv4Addr;
use std::ops::Range;

use super::RecvError;

/// What the receive path needs from the header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ipv4Header {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub ttl: u8,
    /// Where the payload lies in the delivered bytes: after the header (IHL words, options included),
    /// up to the IP total length.
    pub payload: Range<usize>,
}

const MIN_HEADER_LEN: usize = 20;

/// `cut`: `packet` is the start of a longer datagram (the receive buffer was shorter), so the payload
/// runs to the end of `packet` rather than to the IP total length.
pub(crate) fn parse(packet: &[u8], cut: bool) -> Result<Ipv4Header, RecvError> {
    let fixed: &[u8; MIN_HEADER_LEN] = packet
        .get(..MIN_HEADER_LEN)
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(RecvError::Malformed("shorter than an IPv4 header"))?;
    if fixed[0] >> 4 != 4 {
        return Err(RecvError::Malformed("IP version is not 4"));
    }
    let header_len = usize::from(fixed[0] & 0x0f) * 4;
    let total_len = usize::from(u16::from_be_bytes([fixed[2], fixed[3]]));
    let beyond = total_len > packet.len() && !cut;
    if header_len < MIN_HEADER_LEN || header_len > total_len || header_len > packet.len() || beyond
    {
        return Err(RecvError::Malformed(
            "IPv4 header or total length out of bounds",
        ));
    }
    Ok(Ipv4Header {
        src: Ipv4Addr::new(fixed[12], fixed[13], fixed[14], fixed[15]),
        dst: Ipv4Addr::new(fixed[16], fixed[17], fixed[18], fixed[19]),
        ttl: fixed[8],
        payload: header_len..total_len.min(packet.len()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(ihl: u8, total_len: u16) -> Vec<u8> {
        let mut bytes = vec![0x40 | ihl, 0];
        bytes.extend_from_slice(&total_len.to_be_bytes());
        bytes.extend_from_slice(&[0, 0, 0, 0, 255, 112, 0, 0, 192, 0, 2, 1, 224, 0, 0, 18]);
        bytes
    }

    #[test]
    fn plain_header_gives_ttl_addresses_and_payload() {
        let mut packet = header(5, 32);
        packet.extend_from_slice(&[0x31; 12]);
        let parsed = parse(&packet, false).unwrap();
        assert_eq!(parsed.ttl, 255);
        assert_eq!(parsed.src, Ipv4Addr::new(192, 0, 2, 1));
        assert_eq!(parsed.dst, Ipv4Addr::new(224, 0, 0, 18));
        assert_eq!(parsed.payload, 20..32);
    }

    #[test]
    fn options_are_skipped_by_ihl() {
        let mut packet = header(6, 36);
        packet.extend_from_slice(&[0x94, 0x04, 0, 0]); // Router Alert option.
        packet.extend_from_slice(&[0x31; 12]);
        assert_eq!(parse(&packet, false).unwrap().payload, 24..36);
    }

    #[test]
    fn bytes_beyond_total_length_are_not_payload() {
        let mut packet = header(5, 24);
        packet.extend_from_slice(&[1; 10]);
        assert_eq!(parse(&packet, false).unwrap().payload, 20..24);
    }

    #[test]
    fn broken_headers_are_malformed() {
        assert!(matches!(
            parse(&[0x45; 10], false),
            Err(RecvError::Malformed(_))
        ));
        assert!(
            matches!(parse(&header(4, 20), false), Err(RecvError::Malformed(_))),
            "IHL below 5"
        );
        assert!(
            matches!(parse(&header(5, 40), false), Err(RecvError::Malformed(_))),
            "total beyond bytes"
        );
        let mut v6 = header(5, 20);
        v6[0] = 0x65;
        assert!(matches!(parse(&v6, false), Err(RecvError::Malformed(_))));
    }

    #[test]
    fn a_cut_datagram_runs_to_the_end_of_what_was_delivered() {
        let mut packet = header(5, 5000);
        packet.extend_from_slice(&[0x31; 12]);
        assert_eq!(parse(&packet, true).unwrap().payload, 20..32);
        assert!(parse(&packet, false).is_err());
    }
}
