//! What the push-hub integration tests share: a headless browser driven over DevTools.

pub(crate) mod browser;
