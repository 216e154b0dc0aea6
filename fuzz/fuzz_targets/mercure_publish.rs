#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| push_hub::mercure::__fuzz::mercure_publish(data));
