//! What push-hub's browser tests share: a headless browser driven over DevTools, and a
//! QR decoder. Each test binary uses part of it.
#![allow(dead_code)]

pub(crate) mod browser;
pub(crate) mod qr;
