#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| push_longpoll::__fuzz::longpoll_headers(data));
