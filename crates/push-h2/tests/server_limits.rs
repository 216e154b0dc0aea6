//! The push_server example's HTTP/2 settings, seen by `h2::client`: what the library gives by
//! default (`push_h2::handshake`), not what each user has to discover.

use crate::push_server;

use std::time::Duration;

use http::Request;
use tokio::net::{TcpListener, TcpStream};

const LIMIT: Duration = Duration::from_secs(20);

async fn connect() -> h2::client::SendRequest<bytes::Bytes> {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(push_server::run(listener, push_server::State::new()));
    let tcp = TcpStream::connect(addr).await.unwrap();
    let (send, connection) = h2::client::handshake(tcp).await.unwrap();
    tokio::spawn(async move {
        let _ = connection.await;
    });
    send
}

fn get(path: &str) -> Request<()> {
    Request::get(format!("http://localhost{path}"))
        .body(())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_advertises_a_stream_limit() {
    let mut send = connect().await;
    // One round trip: the server's SETTINGS have arrived by its response.
    let (response, _) = send.send_request(get("/style.css"), true).unwrap();
    let response = tokio::time::timeout(LIMIT, response)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(response.status(), 200);
    // h2's own default is no limit at all (usize::MAX here): 50,000 streams held 336 MB.
    assert_eq!(send.current_max_send_streams(), 100);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_header_list_is_refused() {
    let mut send = connect().await;
    let mut request = get("/style.css");
    let big = "a".repeat(20 * 1024);
    request.headers_mut().insert("x-big", big.parse().unwrap());
    let refused = match send.send_request(request, true) {
        Ok((response, _)) => match tokio::time::timeout(LIMIT, response).await.unwrap() {
            Ok(response) => response.status() == 431,
            Err(_reset) => true,
        },
        Err(_) => true,
    };
    assert!(refused, "a 20 KiB header list was served");
}
