//! VRRP packets on the wire: VRRPv3 (RFC 5798 / RFC 9568) for IPv4 and IPv6, VRRPv2 (RFC 3768) for IPv4,
//! their checksums, and the gratuitous ARP / unsolicited Neighbor Advertisement frames a new master sends.
//! No IO: bytes in, typed values out, and back.
//!
//! Receive: `check_hop_limit(ttl)`, then `Repr::parse(&Packet::new_checked(bytes)?, src, dst)`; each
//! discard is a `WireError` whose `reason()` is a stable metrics label. Send: `Repr::to_bytes` or
//! `Repr::emit`, which refuse (with `EmitError`) anything `parse` would reject.

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
pub use packet::{AUTH_DATA_LEN, HEADER_LEN, Packet, TYPE_ADVERTISEMENT};
pub use rules::{
    IP_PROTOCOL_VRRP, VRRP_HOP_LIMIT, VRRP_IPV4_GROUP, VRRP_IPV6_GROUP, check_hop_limit,
    is_link_local,
};
pub use types::{Addresses, Auth, ChecksumMode, Family, Repr, Version};
