//! Node's `eventsource` package (npm; the `EventSource` Node users reach for) against the SSE
//! response: the same scenario as the browser's (a `gap`, resume, the client's own reconnection
//! with `Last-Event-ID`, a live event).
//!
//! The package is installed on first use into the git-ignored `.tools/node` at the workspace
//! root (`npm install --prefix .tools/node eventsource@3`). Set `PUSH_SSE_SKIP_NODE=1` to skip
//! this test on a machine without Node.js or a registry.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// What the client does: exactly what the browser test's page does, with Node's `EventSource`.
const CLIENT: &str = r#"
import { EventSource } from 'eventsource';
const [base, first] = process.argv.slice(1);
const seen = [];
const es = new EventSource(`${base}/events?topic=news&last_event_id=${first}`);
const record = (e) => {
  seen.push({type: e.type, data: e.data, id: e.lastEventId});
  fetch(`${base}/progress`, {method: 'POST', body: String(seen.length)});
  if (seen.length === 4) {
    es.close();
    fetch(`${base}/result`, {method: 'POST', body: JSON.stringify(seen)});
  }
};
es.onmessage = record;
es.addEventListener('gap', record);
setTimeout(() => process.exit(1), 60000);
"#;

/// The folder whose `node_modules` holds `eventsource`, installed there when missing; `None`
/// when the test is skipped.
fn node_eventsource() -> Option<PathBuf> {
    if std::env::var_os("PUSH_SSE_SKIP_NODE").is_some() {
        return None;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.tools/node");
    if !dir.join("node_modules/eventsource/package.json").exists() {
        std::fs::create_dir_all(&dir).expect("create .tools/node");
        let ok = Command::new("npm")
            .args(["install", "--no-audit", "--no-fund", "--silent", "--prefix"])
            .arg(&dir)
            .arg("eventsource@3")
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            ok,
            "could not install the eventsource package into {}; \
             set PUSH_SSE_SKIP_NODE=1 to skip this test",
            dir.display()
        );
    }
    Some(dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_event_source_sees_gaps_resumes_and_reconnects() {
    let Some(dir) = node_eventsource() else {
        return;
    };
    support::resume_gap_reconnect(|addr, first| {
        tokio::process::Command::new("node")
            .args(["--input-type=module", "-e", CLIENT])
            .arg(format!("http://{addr}"))
            .arg(first.to_string())
            .current_dir(&dir)
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("node is installed")
    })
    .await;
}
