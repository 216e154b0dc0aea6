//! `@stomp/stompjs` (7.x, the browser and Node STOMP client nobody here wrote) against the hub's
//! `/ws`: in Node with the `ws` package as its WebSocket, and in headless Chromium with the
//! library's UMD bundle evaluated in a page of the hub. One scenario for both
//! (`web/stompjs_scenario.js`): connect with a token as `passcode`, subscribe with a receipt,
//! receive, send with receipts, heart-beats both ways, and a cut connection that stompjs
//! reconnects, resubscribing with `x-resume-after`, so nothing is lost or repeated (the replay
//! comes as several `MESSAGE` frames per WebSocket message, which stompjs splits).

use crate::support;
use crate::web;

use std::path::PathBuf;
use std::time::Duration;

use push_hub::token::Claims;
use serde_json::{Value, json};
use support::{args, start};

/// The heart-beat of both sides, short so the test sees several.
const BEAT_MS: u64 = 200;

fn hub_args() -> push_hub::args::Args {
    let mut args = args();
    args.anonymous = false;
    args.stomp_heart_beat = Duration::from_millis(BEAT_MS);
    args
}

fn scenario_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/web")
}

/// What both runs must have seen.
fn check(seen: &Value) {
    assert!(seen.get("error").is_none(), "{seen}");
    assert_eq!(seen["errors"], json!([]), "{seen}");
    let large = format!("m3:{}", "x".repeat(3000));
    let mut bodies = vec!["m1".to_owned(), "m2".to_owned()];
    bodies.extend((0..10).map(|n| format!("b{n}")));
    bodies.push(large);
    assert_eq!(seen["bodies"], json!(bodies), "{seen}");
    assert_eq!(seen["versions"], json!(["1.2", "1.2"]), "{seen}");
    assert_eq!(seen["connects"], json!(2), "{seen}");
    assert_eq!(seen["sentWhileAway"], json!(true), "{seen}");
    // The second subscription resumed after m1's message-id.
    assert_eq!(seen["resumedWith"][0], Value::Null, "{seen}");
    assert_eq!(seen["resumedWith"][1], seen["ids"][0], "{seen}");
    let destinations = seen["destinations"].as_array().unwrap();
    assert!(destinations.iter().all(|d| d == "/topic/interop"), "{seen}");
    for receipt in [
        "subscribed-1",
        "subscribed-2",
        "sent-m1",
        "sent-m2",
        "sent-m3",
    ] {
        assert!(
            seen["receipts"]
                .as_array()
                .unwrap()
                .contains(&json!(receipt)),
            "{receipt}: {seen}"
        );
    }
    assert!(seen["pongs"].as_u64().unwrap() >= 2, "{seen}");
    assert!(seen["pings"].as_u64().unwrap() >= 2, "{seen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stompjs_in_node_with_ws() {
    let modules = push_test_support::tools::node_modules("@stomp/stompjs");
    push_test_support::tools::node_modules("ws");
    let hub = start(hub_args());
    let token = support::token(Claims::new().subscribe("interop").publish("interop"));
    let url = format!("ws://{}/ws", hub.addr);
    let mut node = tokio::process::Command::new("node");
    node.arg(scenario_dir().join("stompjs_node.js"))
        .args([url.as_str(), token.as_str(), &BEAT_MS.to_string()])
        .env("NODE_PATH", modules.join("node_modules"))
        .kill_on_drop(true);
    let output = tokio::time::timeout(Duration::from_secs(30), node.output())
        .await
        .expect("node finishes")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let seen: Value = serde_json::from_str(stdout.trim()).expect("one JSON line");
    check(&seen);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stompjs_in_chromium() {
    let modules = push_test_support::tools::node_modules("@stomp/stompjs");
    let bundle =
        std::fs::read_to_string(modules.join("node_modules/@stomp/stompjs/bundles/stomp.umd.js"))
            .unwrap();
    let scenario = std::fs::read_to_string(scenario_dir().join("stompjs_scenario.js")).unwrap();
    let hub = start(hub_args());
    let token = support::token(Claims::new().subscribe("interop").publish("interop"));
    let mut browser = web::browser::Browser::launch("stompjs").await;
    // A page of the hub, so the WebSocket's Origin is the hub's own.
    let page = format!("http://{}/healthz", hub.addr);
    let tab = browser.open(&page).await;
    // The tab starts on about:blank (already complete): wait for the hub's page itself, or the
    // navigation would destroy what is evaluated before it.
    let loaded = format!(
        "location.href === {} && document.readyState === 'complete'",
        json!(page)
    );
    browser
        .until(&tab, "the page", &loaded, "location.href")
        .await;
    // The test serves the library: its UMD bundle defines `StompJs` in the page.
    browser
        .eval(&tab, &format!("{bundle};\n{scenario}; true"))
        .await;
    assert_eq!(
        browser.eval(&tab, "typeof StompJs.Client").await,
        json!("function")
    );
    let run = format!(
        "stompScenario(StompJs, {url}, {token}, {BEAT_MS}).then((seen) => {{ window.seen = seen; return true; }})",
        url = json!(format!("ws://{}/ws", hub.addr)),
        token = json!(token),
    );
    browser.eval(&tab, &run).await;
    let seen = browser
        .until(&tab, "the scenario's end", "window.seen", "window.seen")
        .await;
    check(&seen);
}
