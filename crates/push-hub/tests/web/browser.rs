//! Headless Chromium (Debian's `chromium`, from `cargo xtask setup`) driven over the Chrome
//! DevTools Protocol: the browser tests open pages in tabs and read what the pages recorded with
//! `Runtime.evaluate`, so nothing scrapes a DOM dump and no test server is needed to collect
//! results.
//!
//! The protocol client is these few lines on tokio-tungstenite (already the workspace's
//! WebSocket client) rather than a CDP crate: the tests send three commands
//! (`Target.createTarget`, `Target.attachToTarget`, `Runtime.evaluate`), and the CDP crates
//! carry the whole generated protocol, minutes of build on this machine for no gain.

use std::path::PathBuf;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long any one wait of the browser tests may take (starting Chromium takes seconds on a
/// loaded 2-core machine; reconnections back off up to a second in the tests).
pub(crate) const LIMIT: Duration = Duration::from_secs(60);

/// A running headless Chromium with its DevTools connection; killed (and its profile removed)
/// when dropped.
pub(crate) struct Browser {
    devtools: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
    /// The events read while waiting for answers (the most recent 256), for [`Browser::event`].
    events: std::collections::VecDeque<Value>,
    child: tokio::process::Child,
    profile: PathBuf,
}

/// A tab: the DevTools session attached to it.
#[derive(Clone, Debug)]
pub(crate) struct Tab {
    session: String,
}

impl Browser {
    /// Starts Chromium on a fresh profile with DevTools on a free loopback port.
    ///
    /// # Panics
    /// When `chromium` is not installed (the message says to run `cargo xtask setup`) or does not
    /// open DevTools within [`LIMIT`].
    pub(crate) async fn launch(name: &str) -> Self {
        let profile =
            std::env::temp_dir().join(format!("push-hub-chromium-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&profile);
        let mut command = push_test_support::tools::headless_chromium(&profile);
        command.args([
            // Background tabs keep their timers: the login test runs two tabs at once.
            "--disable-background-timer-throttling",
            "--disable-renderer-backgrounding",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            "about:blank",
        ]);
        let child = tokio::process::Command::from(command)
            .kill_on_drop(true)
            .spawn()
            .expect("chromium starts");
        // Chromium writes the port it chose and the browser target's path to this file.
        let active = profile.join("DevToolsActivePort");
        let endpoint = tokio::time::timeout(LIMIT, async {
            loop {
                if let Ok(text) = std::fs::read_to_string(&active) {
                    let mut lines = text.lines();
                    if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                        return format!("ws://127.0.0.1:{port}{path}");
                    }
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await
        .expect("chromium opened its DevTools port");
        let (devtools, _) = tokio_tungstenite::connect_async(endpoint.as_str())
            .await
            .expect("DevTools connection");
        Self {
            devtools,
            next_id: 0,
            events: std::collections::VecDeque::new(),
            child,
            profile,
        }
    }

    /// Sends one command (to a tab's session, or to the browser) and returns its `result`.
    ///
    /// # Panics
    /// When the connection fails, the browser answers with an error, or no answer comes in
    /// [`LIMIT`].
    pub(crate) async fn call(
        &mut self,
        session: Option<&Tab>,
        method: &str,
        params: Value,
    ) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let mut command = json!({ "id": id, "method": method, "params": params });
        if let Some(tab) = session {
            command["sessionId"] = json!(tab.session);
        }
        self.devtools
            .send(Message::text(command.to_string()))
            .await
            .expect("DevTools send");
        let devtools = &mut self.devtools;
        let events = &mut self.events;
        let answer = tokio::time::timeout(LIMIT, async {
            while let Some(message) = devtools.next().await {
                let Message::Text(text) = message.expect("DevTools read") else {
                    continue;
                };
                let value: Value = serde_json::from_str(&text).expect("DevTools JSON");
                // Events (no id) are kept for `event`; answers to nobody else are skipped.
                if value["id"] == json!(id) {
                    return value;
                }
                if value.get("method").is_some() {
                    if events.len() == 256 {
                        events.pop_front();
                    }
                    events.push_back(value);
                }
            }
            panic!("DevTools connection closed during {method}");
        })
        .await
        .unwrap_or_else(|_| panic!("no DevTools answer to {method}"));
        assert!(
            answer.get("error").is_none(),
            "{method} failed: {}",
            answer["error"]
        );
        answer["result"].clone()
    }

    /// The first event (kept, or read now) whose `method` is `method` and for which `matches`
    /// holds on its `params`, taken out of the kept ones.
    ///
    /// # Panics
    /// When none comes within [`LIMIT`].
    pub(crate) async fn event(&mut self, method: &str, matches: impl Fn(&Value) -> bool) -> Value {
        let fits = |e: &Value| e["method"] == method && matches(&e["params"]);
        if let Some(at) = self.events.iter().position(fits) {
            return self.events.remove(at).unwrap_or_default()["params"].clone();
        }
        let devtools = &mut self.devtools;
        tokio::time::timeout(LIMIT, async {
            while let Some(message) = devtools.next().await {
                let Message::Text(text) = message.expect("DevTools read") else {
                    continue;
                };
                let value: Value = serde_json::from_str(&text).expect("DevTools JSON");
                if fits(&value) {
                    return value["params"].clone();
                }
            }
            panic!("DevTools connection closed waiting for {method}");
        })
        .await
        .unwrap_or_else(|_| panic!("no {method} event"))
    }

    /// Opens `url` in a new tab.
    pub(crate) async fn open(&mut self, url: &str) -> Tab {
        let target = self
            .call(None, "Target.createTarget", json!({ "url": url }))
            .await;
        let attached = self
            .call(
                None,
                "Target.attachToTarget",
                json!({ "targetId": target["targetId"], "flatten": true }),
            )
            .await;
        Tab {
            session: attached["sessionId"]
                .as_str()
                .expect("a session id")
                .to_owned(),
        }
    }

    /// Evaluates `expression` in the tab (awaiting a promise) and returns its value as JSON; an
    /// exception is returned as `null` (the page may not have defined its state yet).
    pub(crate) async fn eval(&mut self, tab: &Tab, expression: &str) -> Value {
        let result = self
            .call(
                Some(tab),
                "Runtime.evaluate",
                json!({ "expression": expression, "returnByValue": true, "awaitPromise": true }),
            )
            .await;
        if result.get("exceptionDetails").is_some() {
            return Value::Null;
        }
        result["result"]["value"].clone()
    }

    /// Evaluates `expression` every 50 ms until it returns something other than `null`,
    /// `false` or `undefined`, and returns that.
    ///
    /// # Panics
    /// When that does not happen within [`LIMIT`]; the message names `what` and shows `report`,
    /// evaluated then (what the page saw).
    pub(crate) async fn until(
        &mut self,
        tab: &Tab,
        what: &str,
        expression: &str,
        report: &str,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + LIMIT;
        loop {
            let value = self.eval(tab, expression).await;
            if !matches!(value, Value::Null | Value::Bool(false)) {
                return value;
            }
            if tokio::time::Instant::now() >= deadline {
                let seen = self.eval(tab, report).await;
                panic!("timed out waiting for {what}; the page saw {seen}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // kill_on_drop ends the process; the profile goes with it.
        let _ = self.child.start_kill();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
