//! The sign-in page's QR encoder (`assets/login.html`, written here, no library) read back by a
//! real decoder (zbarimg): texts of every length that selects each of the versions 1 to 10 the
//! encoder supports, and `null` beyond. The page runs in headless Chromium; the test server
//! serves it alone (the page's subscription is not needed to encode).

use crate::web;

use axum::Router;
use axum::routing::get;
use serde_json::Value;
use web::browser::Browser;

const LOGIN: &str = include_str!("../assets/login.html");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_page_qr_codes_decode_at_every_version() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().route("/login", get(|| async { axum::response::Html(LOGIN) }));
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let mut browser = Browser::launch("qr").await;
    let tab = browser.open(&format!("http://{addr}/login")).await;
    browser
        .until(
            &tab,
            "the encoder",
            "typeof window.login?.encode === 'function'",
            "String(window.login)",
        )
        .await;

    // The byte capacities of versions 1 to 10 at level M are 14, 26, 42, 62, 84, 106, 122,
    // 152, 180 and 213: each length below is the last or first of a version.
    let alphabet = "abcdefghijklmnopqrstuvwxyz0123456789:/?=.-";
    for length in [
        1, 14, 15, 26, 27, 42, 43, 62, 63, 84, 85, 106, 107, 122, 123, 152, 153, 180, 181, 213,
    ] {
        let text: String = (0..length)
            .map(|i| alphabet.as_bytes()[(i * 5 + length) % alphabet.len()] as char)
            .collect();
        let modules = browser
            .eval(
                &tab,
                &format!(
                    "login.encode({text:?}).map((row) => row.map((d) => (d ? '1' : '0')).join(''))"
                ),
            )
            .await;
        let side = modules.as_array().map_or(0, Vec::len);
        assert_eq!(
            web::qr::decode(&modules, &length.to_string()),
            text,
            "{length} bytes ({side} modules)"
        );
    }
    let too_long = browser
        .eval(
            &tab,
            &format!("login.encode({:?}) === null", "x".repeat(214)),
        )
        .await;
    assert_eq!(too_long, Value::Bool(true));
    server.abort();
}
