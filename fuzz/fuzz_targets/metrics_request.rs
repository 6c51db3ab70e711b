//! keepvip::fuzzing::metrics_request: its input and the properties it asserts are in src/fuzzing.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| keepvip::fuzzing::metrics_request(data));
