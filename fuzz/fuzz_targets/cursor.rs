#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| push_core::__fuzz::cursor_roundtrip(data));
