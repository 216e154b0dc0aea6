#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| push_stomp::__fuzz::stomp_decode(data));
