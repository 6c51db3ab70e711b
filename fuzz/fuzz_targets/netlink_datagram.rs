//! keepvip::fuzzing::netlink_datagram: its input and the properties it asserts are in src/fuzzing.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| keepvip::fuzzing::netlink_datagram(data));
