//! The QR-code login across two hubs on one Redis, in headless Chromium: the desk page holds
//! its subscription on hub A, the phone opens the confirmation link on hub B and publishes
//! there, and the desk page on A signs in — the "client on A, event on B" problem, solved by
//! `push-hub --redis`.

use crate::web;

use push_hub::token::Claims;
use push_test_support::redis::RedisServer;
use web::browser::Browser;
use web::hub::{Hub, token};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_login_page_on_hub_a_is_confirmed_through_hub_b() {
    let redis = RedisServer::start();
    let url = redis.url();
    // Each hub keeps its own local files (callbacks registry, Web Push key) in its own data
    // directory, as two hubs on one machine must; the topics are shared through Redis.
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let flags = |dir: &std::path::Path| {
        let dir = dir.to_str().expect("a UTF-8 temp path").to_owned();
        [
            "--anonymous".to_owned(),
            "--redis".to_owned(),
            url.clone(),
            "--data-dir".to_owned(),
            dir,
        ]
    };
    let (flags_a, flags_b) = (flags(dir_a.path()), flags(dir_b.path()));
    let flags_a: Vec<&str> = flags_a.iter().map(String::as_str).collect();
    let flags_b: Vec<&str> = flags_b.iter().map(String::as_str).collect();
    let a = Hub::start("127.0.0.1:0".parse().unwrap(), &flags_a).await;
    let b = Hub::start("127.0.0.1:0".parse().unwrap(), &flags_b).await;
    let mut browser = Browser::launch("login-redis").await;
    let desk = browser.open(&format!("http://{}/login", a.addr)).await;
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
    let on_a = format!("http://{}/", a.addr);
    let path = link.strip_prefix(&on_a).expect("a link to hub A");
    // The phone reaches another hub of the deployment (as a load balancer would send it).
    let on_b = format!("http://{}/{path}", b.addr);

    let phone_token = token(Claims::new().publish("login/{code}"));
    let phone = browser.open(&format!("{on_b}#token={phone_token}")).await;
    let phone_report = "JSON.stringify(window.phone)";
    browser
        .until(
            &phone,
            "the phone page",
            "window.phone?.status === 'idle'",
            phone_report,
        )
        .await;
    browser
        .eval(&phone, "document.getElementById('confirm').click(), true")
        .await;
    browser
        .until(
            &phone,
            "the confirmation sent to hub B",
            "window.phone.status === 'sent'",
            phone_report,
        )
        .await;
    let user = browser
        .until(
            &desk,
            "the desk page on hub A signed in",
            "window.login.status === 'confirmed' && login.user",
            report,
        )
        .await;
    assert_eq!(user, "alice");
    a.stop().await;
    b.stop().await;
}
