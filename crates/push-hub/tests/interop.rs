//! Interop with a Mercure client nobody here wrote: Symfony's Mercure component (Debian's
//! `php-symfony-mercure`, `tests/interop/symfony_publish.php`) publishes a public and a private
//! update to the `push-hub` binary with a static token, as a Symfony application does; browser
//! `EventSource`s in headless Chromium receive them: an anonymous one the public update only,
//! one authorized by the `mercureAuthorization` cookie the private one too.

use crate::web;

use push_hub::token::Claims;
use serde_json::json;
use web::browser::Browser;
use web::hub::{Hub, publish, token};

/// The subscribers, opened in the page: anonymous ones first, then the cookie is set and the
/// cookie-authorized one opens (EventSource cannot send headers; the cookie is how a browser
/// presents a subscriber token). `TOKEN` is replaced by the subscriber token.
const SUBSCRIBE: &str = r#"
(() => {
  const hub = '/.well-known/mercure?topic=';
  const sym = window.sym = { open: 0, books: [], anonymous: [], cookie: [] };
  const record = (list) => (e) => list.push({ type: e.type, data: e.data, id: e.lastEventId });
  const listen = (url, list) => {
    const source = new EventSource(url, { withCredentials: true });
    source.onopen = () => { sym.open += 1; };
    source.onmessage = record(list);
    source.addEventListener('secret', record(list));
    return source;
  };
  listen(hub + encodeURIComponent('https://example.com/books/1'), sym.books);
  listen(hub + encodeURIComponent('https://example.com/users/{name}'), sym.anonymous);
  sym.cookie_opens = () => {
    document.cookie = 'mercureAuthorization=TOKEN; path=/.well-known/mercure; SameSite=Strict';
    listen(hub + encodeURIComponent('https://example.com/users/{name}'), sym.cookie);
  };
  return true;
})()
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symfony_publishes_public_and_private_updates_to_browser_event_sources() {
    let php = push_test_support::tools::php_symfony_mercure();
    let hub = Hub::start(
        "127.0.0.1:0".parse().unwrap(),
        &["--anonymous", "--in-memory"],
    )
    .await;
    let mut browser = Browser::launch("interop").await;
    // Any page of the hub gives the tab the hub's origin; the phone page with no valid code
    // subscribes to nothing and publishes nothing.
    let tab = browser
        .open(&format!("http://{}/login?confirm=none", hub.addr))
        .await;
    browser
        .until(
            &tab,
            "the tab",
            "window.phone?.status === 'failed'",
            "document.readyState",
        )
        .await;

    let subscriber = token(Claims::new().subscribe("https://example.com/users/{name}"));
    let report = "JSON.stringify(window.sym)";
    browser
        .eval(&tab, &SUBSCRIBE.replace("TOKEN", &subscriber))
        .await;
    browser
        .until(&tab, "the anonymous subscribers", "sym.open === 2", report)
        .await;
    browser.eval(&tab, "sym.cookie_opens(), true").await;
    browser
        .until(&tab, "the cookie subscriber", "sym.open === 3", report)
        .await;

    // Symfony publishes, with a token from the hub's own minting (what `pushcat token` prints).
    let publisher = token(Claims::new().publish("https://example.com/{+path}"));
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/interop/symfony_publish.php"
    );
    let output = tokio::process::Command::new(&php)
        .arg(script)
        .arg(format!("http://{}/.well-known/mercure", hub.addr))
        .arg(&publisher)
        .output()
        .await
        .expect("php runs");
    assert!(
        output.status.success(),
        "Symfony's publish failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).expect("ids are text");
    let ids: Vec<&str> = stdout.lines().collect();
    assert_eq!(ids.len(), 2, "{stdout}");
    // The publisher's id is the update's id; the hub makes a random IRI for the other.
    assert_eq!(ids[0], "urn:example:books:1:v2");
    assert!(ids[1].starts_with("urn:uuid:"), "{}", ids[1]);

    browser
        .until(&tab, "the public update", "sym.books.length === 1", report)
        .await;
    browser
        .until(
            &tab,
            "the private update",
            "sym.cookie.length === 1",
            report,
        )
        .await;
    // A public marker on the private update's topic: once the anonymous subscriber has it, it
    // would have had the private update before it (one subscription delivers in order).
    let (status, marker) = publish(
        hub.addr,
        &publisher,
        &[
            ("topic", "https://example.com/users/alice"),
            ("data", "public marker"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{marker}");
    browser
        .until(
            &tab,
            "the marker",
            "sym.anonymous.length >= 1 && sym.cookie.length >= 2",
            report,
        )
        .await;

    let sym = browser
        .eval(&tab, "JSON.parse(JSON.stringify(window.sym))")
        .await;
    assert_eq!(
        sym["books"],
        json!([{ "type": "message", "data": r#"{"status":"OutOfStock"}"#, "id": ids[0] }])
    );
    assert_eq!(
        sym["anonymous"],
        json!([{ "type": "message", "data": "public marker", "id": marker }]),
        "an anonymous subscriber gets public updates only"
    );
    assert_eq!(
        sym["cookie"],
        json!([
            { "type": "secret", "data": r#"{"message":"for alice only"}"#, "id": ids[1] },
            { "type": "message", "data": "public marker", "id": marker },
        ])
    );
    hub.stop().await;
}
