#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| push_hub::__fuzz::mercure_token(data));
