//! VRRP packets on the wire: VRRPv3 (RFC 5798 / RFC 9568) for IPv4 and IPv6, VRRPv2 (RFC 3768) for IPv4,
//! their checksums, and the gratuitous ARP / unsolicited Neighbor Advertisement frames a new master sends.
//! No IO: bytes in, typed values out, and back.
//!
//! Receive: `check_hop_limit(ttl)`, then `Repr::parse(&Packet::new_checked(bytes)?, src, dst)`; each
//! discard is a `WireError` whose `reason()` is a stable metrics label. Send: `Repr::to_bytes` or
//! `Repr::emit`, which refuse (with `EmitError`) anything `parse` would reject.
//!
//! ```
//! use std::net::IpAddr;
//! use vrrp_wire::{Addresses, Auth, Centisecs, ChecksumMode, Repr, Version, check_hop_limit};
//!
//! let src: IpAddr = "192.0.2.1".parse()?;
//! let dst: IpAddr = "224.0.0.18".parse()?;
//! let advert = Repr {
//!     version: Version::V3,
//!     vrid: 1,
//!     priority: 100,
//!     max_adver_int: Centisecs::new(100).ok_or("zero interval")?,
//!     addresses: Addresses::V4(vec!["192.0.2.100".parse()?]),
//!     auth: Auth::None,
//! };
//! let mode = advert.checksum_mode(ChecksumMode::default());
//! let bytes = advert.to_bytes(src, dst, mode)?;
//! assert_eq!(bytes, [0x31, 0x01, 0x64, 0x01, 0x00, 0x64, 0x05, 0xa4, 192, 0, 2, 100]);
//!
//! // Receiving: the TTL from the IP header, then the payload with the header's addresses.
//! check_hop_limit(255)?;
//! let (received, used_mode) = Repr::parse_bytes(&bytes, src, dst)?;
//! assert_eq!((received, used_mode), (advert, ChecksumMode::PseudoHeader));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod checksum;
mod error;
mod frames;
mod interval;
mod packet;
mod repr;
mod rules;
mod types;

pub use error::{EmitError, FamilyMismatchKind, WireError};
pub use frames::{FrameError, GratuitousArp, MacAddr, UnsolicitedNa};
pub use interval::Centisecs;
pub use packet::{AUTH_DATA_LEN, HEADER_LEN, MAX_MESSAGE_LEN, Packet, TYPE_ADVERTISEMENT};
pub use rules::{
    IP_PROTOCOL_VRRP, VRRP_HOP_LIMIT, VRRP_IPV4_GROUP, VRRP_IPV6_GROUP, check_hop_limit,
    is_link_local,
};
pub use types::{Addresses, Auth, ChecksumMode, Family, Repr, Version};
