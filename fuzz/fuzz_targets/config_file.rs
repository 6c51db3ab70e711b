//! keepvip::fuzzing::config_file: its input and the properties it asserts are in src/fuzzing.rs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| keepvip::fuzzing::config_file(data));
