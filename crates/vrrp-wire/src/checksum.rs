//! The Internet checksum (RFC 1071) and the pseudo-headers VRRP and ICMPv6 put in front of it.

use std::net::{Ipv4Addr, Ipv6Addr};

/// A running one's-complement sum of big-endian 16-bit words. Feed whole chunks in order; only the
/// last chunk may have an odd length (it is padded with a zero byte, RFC 1071 §4.1).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Sum(u64);

impl Sum {
    pub(crate) fn add_bytes(mut self, bytes: &[u8]) -> Sum {
        let mut words = bytes.chunks_exact(2);
        for word in &mut words {
            self.0 += u64::from(u16::from_be_bytes([word[0], word[1]]));
        }
        if let [last] = words.remainder() {
            self.0 += u64::from(u16::from_be_bytes([*last, 0]));
        }
        self
    }

    /// The folded 16-bit sum. A message whose checksum field is right folds to 0xffff.
    pub(crate) fn fold(self) -> u16 {
        let mut sum = self.0;
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        sum as u16
    }

    /// The value for the checksum field: the complement of the folded sum.
    pub(crate) fn checksum(self) -> u16 {
        !self.fold()
    }

    /// True when the sum, checksum field included, verifies.
    pub(crate) fn verifies(self) -> bool {
        self.fold() == 0xffff
    }
}

/// IPv4 pseudo-header as keepalived and FRR put it before a VRRPv3 message: source, destination, a
/// zero byte, protocol, and the VRRP message length. RFC 5798 §5.2.8's pseudo-header wording led them
/// there; RFC 9568 §5.2.8 covers the IPv4 message alone.
pub(crate) fn ipv4_pseudo_header(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, len: u16) -> Sum {
    Sum::default()
        .add_bytes(&src.octets())
        .add_bytes(&dst.octets())
        .add_bytes(&[0, protocol])
        .add_bytes(&len.to_be_bytes())
}

/// IPv6 pseudo-header (RFC 8200 §8.1): source, destination, upper-layer length as u32, three zero bytes
/// and the next header. VRRP (RFC 5798 §5.2.8) and ICMPv6 (RFC 4443 §2.3) both use it.
pub(crate) fn ipv6_pseudo_header(src: Ipv6Addr, dst: Ipv6Addr, next_header: u8, len: u32) -> Sum {
    Sum::default()
        .add_bytes(&src.octets())
        .add_bytes(&dst.octets())
        .add_bytes(&len.to_be_bytes())
        .add_bytes(&[0, 0, 0, next_header])
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 1071 §3 worked example: words 0001 f203 f4f5 f6f7 sum to 0x2ddf0, folded 0xddf2.
    #[test]
    fn rfc1071_example_folds_to_ddf2() {
        let sum = Sum::default().add_bytes(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
        assert_eq!(sum.fold(), 0xddf2);
        assert_eq!(sum.checksum(), 0x220d);
    }

    #[test]
    fn odd_trailing_byte_is_padded_with_zero() {
        let odd = Sum::default().add_bytes(&[0x12, 0x34, 0x56]);
        let padded = Sum::default().add_bytes(&[0x12, 0x34, 0x56, 0x00]);
        assert_eq!(odd.fold(), padded.fold());
        assert_eq!(odd.fold(), 0x1234 + 0x5600);
    }

    #[test]
    fn a_message_carrying_its_checksum_verifies() {
        let mut msg = [
            0x31, 0x01, 0x64, 0x01, 0x00, 0x64, 0x00, 0x00, 0xc0, 0x00, 0x02, 0x64,
        ];
        let checksum = Sum::default().add_bytes(&msg).checksum();
        msg[6..8].copy_from_slice(&checksum.to_be_bytes());
        assert_eq!(checksum, 0xa834);
        assert!(Sum::default().add_bytes(&msg).verifies());
        msg[2] = 0x65;
        assert!(!Sum::default().add_bytes(&msg).verifies());
    }
}
