//! The hub's demo pages in headless Chromium (over DevTools), against the `push-hub` binary:
//!
//! - `/`: a job's progress reaches the page over SSE, WebSocket and long polling; the hub is
//!   stopped (SIGTERM) and started again on the same data directory, and each transport resumes
//!   exactly where it was: every step once, in order, no gap. With `--in-memory` the same restart
//!   is an announced gap on every transport.
//! - `/login`: the desk page shows its code once subscribed; a second tab playing the phone
//!   (`/login?confirm=CODE#token=…`) publishes the confirmation and the desk page signs in.

use crate::web;

use push_hub::token::Claims;
use serde_json::{Value, json};
use web::browser::{Browser, Tab};
use web::hub::{DataDir, Hub, publish, token};

const TRANSPORTS: [&str; 3] = ["sse", "ws", "poll"];

/// Waits until every transport of the demo page satisfies `condition` (a JS expression over `t`,
/// one transport's state).
async fn until_all(browser: &mut Browser, tab: &Tab, what: &str, condition: &str) {
    let expression = format!(
        "window.demo && ['sse', 'ws', 'poll'].every((name) => {{ const t = demo[name]; return {condition}; }})"
    );
    browser
        .until(tab, what, &expression, "JSON.stringify(window.demo)")
        .await;
}

async fn publish_steps(
    hub: &Hub,
    token: &str,
    topic: &str,
    steps: std::ops::RangeInclusive<u32>,
    of: u32,
) {
    for step in steps {
        let data = json!({ "step": step, "of": of }).to_string();
        let (status, id) = publish(hub.addr, token, &[("topic", topic), ("data", &data)]).await;
        assert_eq!(status, 200, "publish step {step}: {id}");
    }
}

async fn demo(browser: &mut Browser, tab: &Tab) -> Value {
    browser
        .eval(tab, "JSON.parse(JSON.stringify(window.demo))")
        .await
}

/// The demo page over every transport, across a restart of the hub with (`persistent`) or
/// without its history; returns what each transport saw.
async fn restart_scenario(name: &str, persistent: bool) -> Value {
    let data = DataDir::new(name);
    let data_dir = data.path().display().to_string();
    let args: Vec<&str> = if persistent {
        vec!["--anonymous", "--data-dir", &data_dir]
    } else {
        vec!["--anonymous", "--in-memory"]
    };
    let publisher = token(Claims::new().publish("jobs/{id}"));
    let topic = format!("jobs/{name}");

    let hub = Hub::start("127.0.0.1:0".parse().unwrap(), &args).await;
    let addr = hub.addr;
    let mut browser = Browser::launch(name).await;
    let tab = browser.open(&format!("http://{addr}/?job={name}")).await;
    until_all(
        &mut browser,
        &tab,
        "every transport open",
        "t.status === 'open'",
    )
    .await;

    publish_steps(&hub, &publisher, &topic, 1..=3, 6).await;
    until_all(
        &mut browser,
        &tab,
        "three steps everywhere",
        "t.steps.length >= 3",
    )
    .await;

    // Stop the hub: every transport notices and retries.
    hub.stop().await;
    until_all(
        &mut browser,
        &tab,
        "every transport cut off",
        "t.status !== 'open'",
    )
    .await;
    let hub = Hub::start(addr, &args).await;
    until_all(
        &mut browser,
        &tab,
        "every transport open again",
        "t.status === 'open' && t.opens >= 2",
    )
    .await;

    publish_steps(&hub, &publisher, &topic, 4..=6, 6).await;
    until_all(
        &mut browser,
        &tab,
        "six steps everywhere",
        "t.steps.length >= 6",
    )
    .await;
    let seen = demo(&mut browser, &tab).await;
    hub.stop().await;
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_page_resumes_every_transport_after_a_restart() {
    let seen = restart_scenario("resume", true).await;
    for transport in TRANSPORTS {
        let t = &seen[transport];
        assert_eq!(t["steps"], json!([1, 2, 3, 4, 5, 6]), "{transport}: {seen}");
        assert_eq!(t["gaps"], json!([]), "{transport}: {seen}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_in_memory_restart_is_an_announced_gap_on_every_transport() {
    let seen = restart_scenario("gap", false).await;
    for transport in TRANSPORTS {
        let t = &seen[transport];
        // Nothing was published while the hub was down: the steps are all there, and the lost
        // history is announced (one gap) instead of passing in silence.
        assert_eq!(t["steps"], json!([1, 2, 3, 4, 5, 6]), "{transport}: {t}");
        assert_eq!(
            t["gaps"].as_array().map(Vec::len),
            Some(1),
            "{transport}: {t}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_page_is_confirmed_from_a_second_tab() {
    let hub = Hub::start(
        "127.0.0.1:0".parse().unwrap(),
        &["--anonymous", "--in-memory"],
    )
    .await;
    let mut browser = Browser::launch("login").await;
    let desk = browser.open(&format!("http://{}/login", hub.addr)).await;
    let report = "JSON.stringify(window.login)";
    let link = browser
        .until(
            &desk,
            "the desk page's code",
            "window.login?.status === 'waiting' && login.link",
            report,
        )
        .await;
    let link = link.as_str().expect("a link").to_owned();
    assert!(
        link.starts_with(&format!("http://{}/login?confirm=", hub.addr)),
        "{link}"
    );

    // The phone: a publisher token that may publish login confirmations only.
    let phone_token = token(Claims::new().publish("login/{code}"));
    let phone = browser.open(&format!("{link}#token={phone_token}")).await;
    browser
        .until(
            &phone,
            "the phone page",
            "window.phone?.status === 'idle'",
            "JSON.stringify(window.phone)",
        )
        .await;
    browser
        .eval(&phone, "document.getElementById('confirm').click(), true")
        .await;
    browser
        .until(
            &phone,
            "the confirmation sent",
            "window.phone.status === 'sent'",
            "JSON.stringify(window.phone)",
        )
        .await;
    let user = browser
        .until(
            &desk,
            "the desk page signed in",
            "window.login.status === 'confirmed' && login.user",
            report,
        )
        .await;
    assert_eq!(user, "alice");
    hub.stop().await;
}
