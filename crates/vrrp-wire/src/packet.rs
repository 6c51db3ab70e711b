//! A zero-copy view of VRRP bytes (RFC 5798 §5.1 figure, RFC 3768 §5.1 figure), after the IP header.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! |Version| Type  | Virtual Rtr ID|   Priority    |Count IPvX Addr|
//! v3: |(rsvd) |     Max Adver Int     |          Checksum             |
//! v2: |   Auth Type   |   Adver Int   |          Checksum             |
//! |                     IPvX Address(es) ...                          |
//! v2: |              Authentication Data (8 bytes)                    |
//! ```
//!
//! The bytes do not say which IP family they travel in, so address accessors take a `Family`.
//! Every accessor is total: after `check_len` (8 bytes) none can panic, and those reaching past the
//! header return `None` when the bytes are not there.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::{Family, WireError};

/// Length of the fixed header both versions share.
pub const HEADER_LEN: usize = 8;
/// Length of VRRPv2's authentication data after the addresses.
pub const AUTH_DATA_LEN: usize = 8;
/// The longest VRRP message: the header and 255 IPv6 addresses (a VRRPv2 message, 255 IPv4 addresses
/// and the authentication data, is shorter). A longer datagram cannot be an advertisement.
pub const MAX_MESSAGE_LEN: usize = HEADER_LEN + 255 * 16;
/// Type 1, ADVERTISEMENT: the only VRRP message type (RFC 5798 §5.2.2).
pub const TYPE_ADVERTISEMENT: u8 = 1;

mod field {
    pub const VERSION_TYPE: usize = 0;
    pub const VRID: usize = 1;
    pub const PRIORITY: usize = 2;
    pub const COUNT: usize = 3;
    /// v3: 4 reserved bits and the high 4 bits of Max Adver Int; v2: Auth Type.
    pub const INTERVAL_HI: usize = 4;
    /// v3: low 8 bits of Max Adver Int; v2: Adver Int in seconds.
    pub const INTERVAL_LO: usize = 5;
    pub const CHECKSUM: usize = 6;
    pub const ADDRESSES: usize = 8;
}

/// A VRRP packet over a byte buffer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Packet<T> {
    /// Wraps a buffer without checking it. Accessors never panic, but read zeros past the end.
    pub const fn new_unchecked(buffer: T) -> Packet<T> {
        Packet { buffer }
    }

    /// Wraps a buffer that holds at least the fixed header.
    pub fn new_checked(buffer: T) -> Result<Packet<T>, WireError> {
        let packet = Packet::new_unchecked(buffer);
        packet.check_len()?;
        Ok(packet)
    }

    /// RFC 5798 §7.1, first half of "contains the complete VRRP packet": the fixed header is there.
    /// The address part needs the IP family; `Repr::parse` checks it with `needed_len`.
    pub fn check_len(&self) -> Result<(), WireError> {
        let len = self.len();
        if len < HEADER_LEN {
            Err(WireError::Truncated { len })
        } else {
            Ok(())
        }
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    /// The whole buffer: the VRRP message as received (what the checksum covers).
    pub fn as_bytes(&self) -> &[u8] {
        self.buffer.as_ref()
    }

    pub fn len(&self) -> usize {
        self.as_bytes().len()
    }

    pub fn is_empty(&self) -> bool {
        self.as_bytes().is_empty()
    }

    fn byte(&self, index: usize) -> u8 {
        self.as_bytes().get(index).copied().unwrap_or(0)
    }

    /// High nibble of byte 0: 3 for VRRPv3, 2 for VRRPv2.
    pub fn version(&self) -> u8 {
        self.byte(field::VERSION_TYPE) >> 4
    }

    /// Low nibble of byte 0: 1 = advertisement.
    pub fn msg_type(&self) -> u8 {
        self.byte(field::VERSION_TYPE) & 0x0f
    }

    pub fn vrid(&self) -> u8 {
        self.byte(field::VRID)
    }

    pub fn priority(&self) -> u8 {
        self.byte(field::PRIORITY)
    }

    /// Count IPvX Addr: how many addresses follow the header.
    pub fn address_count(&self) -> u8 {
        self.byte(field::COUNT)
    }

    /// VRRPv3 Max Adver Int: the low 12 bits of bytes 4-5, in centiseconds. The 4 reserved bits are
    /// "ignored on reception" (RFC 5798 §5.2.6).
    pub fn max_adver_int(&self) -> u16 {
        u16::from_be_bytes([self.byte(field::INTERVAL_HI), self.byte(field::INTERVAL_LO)]) & 0x0fff
    }

    /// The 4 reserved bits before VRRPv3's Max Adver Int.
    pub fn v3_reserved(&self) -> u8 {
        self.byte(field::INTERVAL_HI) >> 4
    }

    /// VRRPv2 Auth Type (byte 4): 0 none, 1 simple text password.
    pub fn v2_auth_type(&self) -> u8 {
        self.byte(field::INTERVAL_HI)
    }

    /// VRRPv2 Adver Int (byte 5), in whole seconds.
    pub fn v2_adver_int(&self) -> u8 {
        self.byte(field::INTERVAL_LO)
    }

    pub fn checksum(&self) -> u16 {
        u16::from_be_bytes([self.byte(field::CHECKSUM), self.byte(field::CHECKSUM + 1)])
    }

    /// True for version 2, whose authentication data follows the addresses.
    fn has_auth_data(&self) -> bool {
        self.version() == 2
    }

    fn addresses_end(&self, family: Family) -> usize {
        field::ADDRESSES + usize::from(self.address_count()) * family.address_len()
    }

    /// The length the header implies for this family: header, `count` addresses, and for version 2
    /// the authentication data.
    pub fn needed_len(&self, family: Family) -> usize {
        let auth = if self.has_auth_data() {
            AUTH_DATA_LEN
        } else {
            0
        };
        self.addresses_end(family) + auth
    }

    /// The `count` addresses as bytes, or `None` if the buffer ends first.
    pub fn address_bytes(&self, family: Family) -> Option<&[u8]> {
        self.as_bytes()
            .get(field::ADDRESSES..self.addresses_end(family))
    }

    /// Address number `index` (0-based), or `None` past the count or the buffer.
    pub fn address(&self, family: Family, index: usize) -> Option<IpAddr> {
        if index >= usize::from(self.address_count()) {
            return None;
        }
        let start = field::ADDRESSES + index * family.address_len();
        let bytes = self.as_bytes().get(start..start + family.address_len())?;
        match family {
            Family::Ipv4 => {
                let octets: [u8; 4] = bytes.try_into().ok()?;
                Some(IpAddr::V4(Ipv4Addr::from(octets)))
            }
            Family::Ipv6 => {
                let octets: [u8; 16] = bytes.try_into().ok()?;
                Some(IpAddr::V6(Ipv6Addr::from(octets)))
            }
        }
    }

    /// VRRPv2 Authentication Data: the 8 bytes after the (IPv4) addresses, or `None` if the buffer
    /// ends first.
    pub fn v2_auth_data(&self) -> Option<[u8; AUTH_DATA_LEN]> {
        let start = self.addresses_end(Family::Ipv4);
        self.as_bytes()
            .get(start..start + AUTH_DATA_LEN)?
            .try_into()
            .ok()
    }
}

/// Setters. Like the accessors they never panic: header setters skip the write on a buffer shorter
/// than the header (call `check_len` first), and the address/auth setters report a short buffer.
impl<T: AsRef<[u8]> + AsMut<[u8]>> Packet<T> {
    fn set_byte(&mut self, index: usize, value: u8) {
        if let Some(byte) = self.buffer.as_mut().get_mut(index) {
            *byte = value;
        }
    }

    /// Sets the high nibble of byte 0 (only the low 4 bits of `version` are used).
    pub fn set_version(&mut self, version: u8) {
        let msg_type = self.msg_type();
        self.set_byte(field::VERSION_TYPE, (version << 4) | msg_type);
    }

    /// Sets the low nibble of byte 0 (only the low 4 bits of `msg_type` are used).
    pub fn set_msg_type(&mut self, msg_type: u8) {
        let version = self.version();
        self.set_byte(field::VERSION_TYPE, (version << 4) | (msg_type & 0x0f));
    }

    pub fn set_vrid(&mut self, vrid: u8) {
        self.set_byte(field::VRID, vrid);
    }

    pub fn set_priority(&mut self, priority: u8) {
        self.set_byte(field::PRIORITY, priority);
    }

    pub fn set_address_count(&mut self, count: u8) {
        self.set_byte(field::COUNT, count);
    }

    /// Writes VRRPv3 Max Adver Int (low 12 bits of `centiseconds`) and zeroes the reserved bits,
    /// which "MUST be set to zero on transmission" (RFC 5798 §5.2.6).
    pub fn set_max_adver_int(&mut self, centiseconds: u16) {
        let [hi, lo] = (centiseconds & 0x0fff).to_be_bytes();
        self.set_byte(field::INTERVAL_HI, hi);
        self.set_byte(field::INTERVAL_LO, lo);
    }

    pub fn set_v2_auth_type(&mut self, auth_type: u8) {
        self.set_byte(field::INTERVAL_HI, auth_type);
    }

    pub fn set_v2_adver_int(&mut self, seconds: u8) {
        self.set_byte(field::INTERVAL_LO, seconds);
    }

    pub fn set_checksum(&mut self, checksum: u16) {
        let [hi, lo] = checksum.to_be_bytes();
        self.set_byte(field::CHECKSUM, hi);
        self.set_byte(field::CHECKSUM + 1, lo);
    }

    /// The `count` address slots, for writing; `None` if the buffer ends first.
    pub fn address_bytes_mut(&mut self, family: Family) -> Option<&mut [u8]> {
        let end = self.addresses_end(family);
        self.buffer.as_mut().get_mut(field::ADDRESSES..end)
    }

    /// Writes VRRPv2 Authentication Data after the (IPv4) addresses; `None` if the buffer ends first.
    pub fn set_v2_auth_data(&mut self, data: [u8; AUTH_DATA_LEN]) -> Option<()> {
        let start = self.addresses_end(Family::Ipv4);
        let slot = self.buffer.as_mut().get_mut(start..start + AUTH_DATA_LEN)?;
        slot.copy_from_slice(&data);
        Some(())
    }
}

impl<T: AsRef<[u8]>> AsRef<[u8]> for Packet<T> {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}
