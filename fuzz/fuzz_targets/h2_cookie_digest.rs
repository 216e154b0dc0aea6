#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| push_h2::__fuzz::cookie_digest(data));
