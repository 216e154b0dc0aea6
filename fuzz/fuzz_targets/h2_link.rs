#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| push_h2::__fuzz::link_policy(data));
