//! Node's `eventsource` package (npm; the `EventSource` Node users reach for) against the SSE
//! response: the same scenario as the browser's (a `gap`, resume, the client's own reconnection
//! with `Last-Event-ID`, a live event).
//!
//! `cargo xtask setup` (run by `cargo xtask ci`) installs the package into the git-ignored
//! `.tools/node` at the workspace root; without it the test fails and says so.

use crate::support;

use std::process::Stdio;

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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_event_source_sees_gaps_resumes_and_reconnects() {
    let dir = push_test_support::tools::node_modules("eventsource");
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
