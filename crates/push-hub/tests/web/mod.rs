//! What push-hub's browser tests share: a headless browser driven over DevTools, the hub binary
//! started and stopped with a minimal publishing client, and a
//! QR decoder. Each test file uses part of it.
#![allow(dead_code)]

pub(crate) mod browser;
pub(crate) mod hub;
pub(crate) mod qr;
