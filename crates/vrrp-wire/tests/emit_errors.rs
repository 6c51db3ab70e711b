//! `EmitError`: emit refuses every advertisement `parse` would reject, and writes nothing then.

// Helpers outside #[test] fns unwrap too: a failed unwrap is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use vrrp_wire::{Addresses, Auth, Centisecs, ChecksumMode, EmitError, Packet, Repr, Version};

fn v3_repr() -> Repr {
    Repr {
        version: Version::V3,
        vrid: 1,
        priority: 100,
        max_adver_int: Centisecs::new(100).unwrap(),
        addresses: Addresses::V4(vec![VIP4]),
        auth: Auth::None,
    }
}

fn emit4(repr: &Repr, mode: ChecksumMode) -> Result<Vec<u8>, EmitError> {
    repr.to_bytes(SRC4, DST4, mode)
}

#[test]
fn emit_refuses_what_parse_would_reject() {
    let pseudo = ChecksumMode::PseudoHeader;
    let mut repr = v3_repr();
    repr.addresses = Addresses::V4(vec![]);
    assert_eq!(emit4(&repr, pseudo), Err(EmitError::AddressCountZero));
    repr.addresses = Addresses::V4(vec![VIP4; 256]);
    assert_eq!(
        emit4(&repr, pseudo),
        Err(EmitError::TooManyAddresses { count: 256 })
    );
    repr.addresses = Addresses::V4(vec![VIP4; 255]);
    assert_eq!(emit4(&repr, pseudo).map(|b| b.len()), Ok(8 + 255 * 4));

    let mut repr = v3_repr();
    repr.max_adver_int = Centisecs::new(4096).unwrap();
    assert_eq!(
        emit4(&repr, pseudo),
        Err(EmitError::V3IntervalTooLarge { centiseconds: 4096 })
    );
    repr.max_adver_int = Centisecs::new(4095).unwrap();
    assert!(emit4(&repr, pseudo).is_ok());

    let mut repr = v3_repr();
    repr.auth = Auth::SimplePassword(*b"secret\0\0");
    assert_eq!(emit4(&repr, pseudo), Err(EmitError::AuthOnV3));
}

#[test]
fn emit_refuses_v2_intervals_it_cannot_carry() {
    let mut repr = v3_repr();
    repr.version = Version::V2;
    let message_only = ChecksumMode::MessageOnly;
    repr.max_adver_int = Centisecs::new(150).unwrap();
    assert_eq!(
        emit4(&repr, message_only),
        Err(EmitError::V2IntervalNotWholeSeconds { centiseconds: 150 })
    );
    repr.max_adver_int = Centisecs::new(25_600).unwrap();
    assert_eq!(
        emit4(&repr, message_only),
        Err(EmitError::V2IntervalTooLarge {
            centiseconds: 25_600
        })
    );
    repr.max_adver_int = Centisecs::new(25_500).unwrap();
    let bytes = emit4(&repr, message_only).unwrap();
    assert_eq!(bytes[5], 255);
}

#[test]
fn emit_refuses_family_and_mode_mismatches() {
    let repr = v3_repr();
    let pseudo = ChecksumMode::PseudoHeader;
    assert_eq!(
        repr.to_bytes(SRC6, DST6, pseudo),
        Err(EmitError::FamilyMismatch)
    );
    assert_eq!(
        repr.to_bytes(SRC4, DST6, pseudo),
        Err(EmitError::FamilyMismatch)
    );

    let mut v2 = v3_repr();
    v2.version = Version::V2;
    assert_eq!(
        emit4(&v2, pseudo),
        Err(EmitError::ChecksumModeNotApplicable)
    );
    v2.addresses = Addresses::V6(vec![VIP6_LL]);
    assert_eq!(
        v2.to_bytes(SRC6, DST6, ChecksumMode::MessageOnly),
        Err(EmitError::FamilyMismatch)
    );

    let mut v6 = v3_repr();
    v6.addresses = Addresses::V6(vec![VIP6_LL]);
    let message_only = ChecksumMode::MessageOnly;
    assert_eq!(
        v6.to_bytes(SRC6, DST6, message_only),
        Err(EmitError::ChecksumModeNotApplicable)
    );
    // No link-local first: emitted as listed (keepvip sends exactly the configured VIPs).
    v6.addresses = Addresses::V6(vec![VIP6_GLOBAL]);
    assert!(v6.to_bytes(SRC6, DST6, pseudo).is_ok());
}

#[test]
fn emit_refuses_a_short_buffer_and_writes_nothing() {
    let mut buffer = [0xaa; 11];
    let result = v3_repr().emit(
        &mut Packet::new_unchecked(&mut buffer[..]),
        SRC4,
        DST4,
        ChecksumMode::MessageOnly,
    );
    assert_eq!(
        result,
        Err(EmitError::BufferTooShort {
            needed: 12,
            available: 11
        })
    );
    assert_eq!(buffer, [0xaa; 11]);
}
