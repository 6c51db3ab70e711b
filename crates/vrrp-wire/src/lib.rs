//! VRRP packets on the wire: VRRPv3 (RFC 5798 / RFC 9568) for IPv4 and IPv6, VRRPv2 (RFC 3768) for IPv4,
//! their checksums, and the gratuitous ARP / unsolicited Neighbor Advertisement frames a new master sends.
//! No IO: bytes in, typed values out, and back.

mod interval;
mod types;

pub use interval::Centisecs;
pub use types::{Addresses, Auth, ChecksumMode, Repr, Version};
