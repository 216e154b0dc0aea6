#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| push_http::__fuzz::grammar(data));
