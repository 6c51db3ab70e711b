//! keepvip::fuzzing::control_request: its input and the properties it asserts are in src/fuzzing.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| keepvip::fuzzing::control_request(data));
