#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| push_sse::__fuzz::client(data));
