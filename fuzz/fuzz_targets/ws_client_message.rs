#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| push_ws::__fuzz::ws_client_message(data));
