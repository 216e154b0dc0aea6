//! A real browser's `EventSource` (headless Chromium) against the SSE response: resume from a
//! query cursor, live events, the `gap` event listener, and the browser's own reconnection with
//! `Last-Event-ID` after the server ends a stream (the scenario of `support`).
//!
//! Chromium comes from Debian's `chromium` package (`cargo xtask setup` installs it). The page posts
//! what it saw back to the test server, so nothing here scrapes the browser.

use crate::support;

fn chromium(url: &str, profile: &std::path::Path) -> tokio::process::Child {
    let mut command = push_test_support::tools::headless_chromium(profile);
    command.arg(url);
    tokio::process::Command::from(command)
        .kill_on_drop(true)
        .spawn()
        .expect("chromium starts")
}

/// Chromium's profile directory, removed when the test ends.
struct Profile(std::path::PathBuf);

impl Drop for Profile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_event_source_sees_gaps_resumes_and_reconnects() {
    support::resume_gap_reconnect(|addr, first| {
        let profile =
            std::env::temp_dir().join(format!("push-sse-chromium-{}", std::process::id()));
        let browser = chromium(&format!("http://{addr}/page#{first}"), &profile);
        (browser, Profile(profile))
    })
    .await;
}
