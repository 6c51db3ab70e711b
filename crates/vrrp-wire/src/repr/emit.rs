//! Send side: a `Repr` checked against everything `parse` would reject, then written.

use std::net::IpAddr;

use super::{applicable_mode, message_sum};
use crate::packet::{Packet, TYPE_ADVERTISEMENT};
use crate::{Addresses, Auth, Centisecs, ChecksumMode, EmitError, Family, Repr, Version};

/// Authentication types as written (RFC 3768 §5.3.6; type 1 as in RFC 2338 §5.3.6.2).
const AUTH_TYPE_NONE: u8 = 0;
const AUTH_TYPE_SIMPLE_PASSWORD: u8 = 1;

impl Repr {
    /// Checks that this advertisement can be sent from `src` to `dst` with `mode`: the checks `emit`
    /// makes before writing anything. A `Repr` that passes always parses back equal.
    pub fn check_emittable(
        &self,
        src: IpAddr,
        dst: IpAddr,
        mode: ChecksumMode,
    ) -> Result<(), EmitError> {
        let count = self.addresses.len();
        if count == 0 {
            return Err(EmitError::AddressCountZero);
        }
        if count > usize::from(u8::MAX) {
            return Err(EmitError::TooManyAddresses { count });
        }
        let family = self.family();
        if Family::of(src) != family
            || Family::of(dst) != family
            || (self.version == Version::V2 && family == Family::Ipv6)
        {
            return Err(EmitError::FamilyMismatch);
        }
        if self.version == Version::V3 && self.auth != Auth::None {
            return Err(EmitError::AuthOnV3);
        }
        wire_interval(self.version, self.max_adver_int)?;
        if applicable_mode(self.version, family).is_some_and(|only| only != mode) {
            return Err(EmitError::ChecksumModeNotApplicable);
        }
        Ok(())
    }

    /// Writes the advertisement into the first `buffer_len()` bytes of `packet`, checksum included;
    /// send exactly those bytes (the checksum covers them, not the rest of a larger buffer). `src` and
    /// `dst` are the IP header's addresses; `mode` must suit the version and family (see
    /// `checksum_mode`). Nothing is written when an error is returned.
    pub fn emit<T: AsRef<[u8]> + AsMut<[u8]> + ?Sized>(
        &self,
        packet: &mut Packet<&mut T>,
        src: IpAddr,
        dst: IpAddr,
        mode: ChecksumMode,
    ) -> Result<(), EmitError> {
        self.check_emittable(src, dst, mode)?;
        let needed = self.buffer_len();
        let available = packet.len();
        let too_short = EmitError::BufferTooShort { needed, available };
        if available < needed {
            return Err(too_short);
        }
        let version = match self.version {
            Version::V2 => 2,
            Version::V3 => 3,
        };
        packet.set_version(version);
        packet.set_msg_type(TYPE_ADVERTISEMENT);
        packet.set_vrid(self.vrid);
        packet.set_priority(self.priority);
        // check_emittable bounded the count to 1..=255.
        packet.set_address_count(u8::try_from(self.addresses.len()).unwrap_or(u8::MAX));
        match wire_interval(self.version, self.max_adver_int)? {
            WireInterval::V3Centiseconds(centiseconds) => packet.set_max_adver_int(centiseconds),
            WireInterval::V2Seconds(seconds) => packet.set_v2_adver_int(seconds),
        }
        packet.set_checksum(0);
        let slots = packet.address_bytes_mut(self.family()).ok_or(too_short)?;
        write_addresses(&self.addresses, slots);
        if self.version == Version::V2 {
            let (auth_type, data) = match self.auth {
                Auth::None => (AUTH_TYPE_NONE, [0; 8]),
                Auth::SimplePassword(password) => (AUTH_TYPE_SIMPLE_PASSWORD, password),
            };
            packet.set_v2_auth_type(auth_type);
            packet.set_v2_auth_data(data).ok_or(too_short)?;
        }
        let message = packet.as_bytes().get(..needed).ok_or(too_short)?;
        let sum = message_sum(message, src, dst, mode).ok_or(EmitError::FamilyMismatch)?;
        packet.set_checksum(sum.checksum());
        Ok(())
    }

    /// `emit` into a new buffer of exactly `buffer_len()` bytes.
    pub fn to_bytes(
        &self,
        src: IpAddr,
        dst: IpAddr,
        mode: ChecksumMode,
    ) -> Result<Vec<u8>, EmitError> {
        let mut bytes = vec![0; self.buffer_len()];
        self.emit(&mut Packet::new_unchecked(&mut bytes[..]), src, dst, mode)?;
        Ok(bytes)
    }
}

enum WireInterval {
    V3Centiseconds(u16),
    V2Seconds(u8),
}

/// The interval as the version carries it: VRRPv3 1..=4095 centiseconds in 12 bits (RFC 5798
/// §5.2.7), VRRPv2 whole seconds in one byte (RFC 3768 §5.3.7). `Centisecs` is never zero.
fn wire_interval(version: Version, interval: Centisecs) -> Result<WireInterval, EmitError> {
    let centiseconds = interval.get();
    match version {
        Version::V3 if centiseconds > Centisecs::V3_MAX => {
            Err(EmitError::V3IntervalTooLarge { centiseconds })
        }
        Version::V3 => Ok(WireInterval::V3Centiseconds(centiseconds)),
        Version::V2 if !centiseconds.is_multiple_of(100) => {
            Err(EmitError::V2IntervalNotWholeSeconds { centiseconds })
        }
        Version::V2 => u8::try_from(centiseconds / 100)
            .map(WireInterval::V2Seconds)
            .map_err(|_| EmitError::V2IntervalTooLarge { centiseconds }),
    }
}

fn write_addresses(addresses: &Addresses, slots: &mut [u8]) {
    match addresses {
        Addresses::V4(list) => {
            for (slot, address) in slots.chunks_exact_mut(4).zip(list) {
                slot.copy_from_slice(&address.octets());
            }
        }
        Addresses::V6(list) => {
            for (slot, address) in slots.chunks_exact_mut(16).zip(list) {
                slot.copy_from_slice(&address.octets());
            }
        }
    }
}
