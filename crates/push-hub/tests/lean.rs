//! The lean path over real loopback sockets: a subscriber gets its events, other requests
//! reach hyper intact (pipelined ones too), the head limits and the head timeout hold, and a
//! peer that leaves frees its subscription.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use push_broker::MemoryBroker;
use push_core::{Access, Event, Topic};
use push_hub::lean::{self, Config};
use push_net::ServerConfig;
use push_sse::server::EventStream;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A bound on every wait, so a broken test fails instead of hanging.
const BOUND: Duration = Duration::from_secs(10);

type Refusal = Response<Full<Bytes>>;

/// The subscribe function of these tests: the `topic` query parameters, resumed from
/// `Last-Event-ID`, public events; a refusal is a 400 with a text body.
#[expect(
    clippy::result_large_err,
    reason = "the shape of Mercure::subscribe, which the lean path takes"
)]
fn subscriber(
    broker: MemoryBroker,
) -> impl Fn(
    &http::request::Parts,
) -> Result<
    (
        http::response::Parts,
        EventStream<push_broker::MemorySubscription>,
    ),
    Refusal,
> + Send
+ Clone
+ 'static {
    move |parts| {
        let refuse = |message: String| {
            let response = push_http::head::text_response(StatusCode::BAD_REQUEST, message);
            response.map(|text| Full::new(Bytes::from(text)))
        };
        let query = parts.uri.query().unwrap_or("").as_bytes();
        let selector =
            push_http::query::selector_from_query(query).map_err(|e| refuse(e.to_string()))?;
        let from = push_sse::server::resume(parts)
            .map_err(|e| refuse(e.to_string()))?
            .map(|resume| push_core::Broker::place(&broker, &resume));
        let subscription = broker
            .subscribe(&selector, from, &Access::public())
            .map_err(|e| refuse(e.to_string()))?;
        let events = EventStream::new(subscription, &push_sse::server::Config::default());
        let (head, ()) = push_http::head::event_stream_response(()).into_parts();
        Ok((head, events))
    }
}

/// The hyper side: answers `METHOD PATH BODY` as text.
async fn echo(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let text = format!(
        "{} {} {}",
        parts.method,
        parts.uri.path(),
        String::from_utf8_lossy(&body)
    );
    Ok(Response::new(Full::new(Bytes::from(text))))
}

/// A server on loopback serving every connection with the lean path.
async fn serve(broker: MemoryBroker, config: Config) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let subscribe = subscriber(broker);
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let (subscribe, config) = (subscribe.clone(), config.clone());
            tokio::spawn(async move {
                let service = hyper::service::service_fn(echo);
                let _ =
                    lean::serve_connection(stream, Bytes::new(), subscribe, service, &config, None)
                        .await;
            });
        }
    });
    addr
}

/// Reads from `stream` until `needle` has arrived; everything read so far.
async fn read_until(stream: &mut TcpStream, seen: &mut Vec<u8>, needle: &[u8]) -> String {
    let wait = async {
        while !seen.windows(needle.len()).any(|w| w == needle) {
            let mut chunk = [0u8; 4096];
            let n = stream.read(&mut chunk).await.expect("read");
            assert!(
                n > 0,
                "closed before {:?}: {:?}",
                String::from_utf8_lossy(needle),
                String::from_utf8_lossy(seen)
            );
            seen.extend_from_slice(&chunk[..n]);
        }
    };
    tokio::time::timeout(BOUND, wait).await.expect("in time");
    String::from_utf8_lossy(seen).into_owned()
}

/// Reads until the peer closes; what it sent.
async fn read_to_close(stream: &mut TcpStream) -> String {
    let mut all = Vec::new();
    let read = tokio::time::timeout(BOUND, stream.read_to_end(&mut all)).await;
    read.expect("closed in time").expect("read");
    String::from_utf8_lossy(&all).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_receives_events_after_a_close_delimited_head() {
    let broker = MemoryBroker::default();
    let addr = serve(broker.clone(), Config::default()).await;
    let mut client = TcpStream::connect(addr).await.unwrap();
    client
        .write_all(b"GET /.well-known/mercure?topic=news HTTP/1.1\r\nHost: hub\r\n\r\n")
        .await
        .unwrap();
    let mut seen = Vec::new();
    let head = read_until(&mut client, &mut seen, b": ok\n\n").await;
    assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
    assert!(
        head.contains("content-type: text/event-stream\r\n"),
        "{head}"
    );
    assert!(head.contains("connection: close\r\n"), "{head}");
    assert!(!head.contains("transfer-encoding"), "{head}");
    let news = Topic::new("news").unwrap();
    let first = broker.publish_now(&news, Event::new("one")).unwrap();
    let second = broker.publish_now(&news, Event::new("two")).unwrap();
    let text = read_until(&mut client, &mut seen, b"data: two\n\n").await;
    assert!(
        text.contains(&format!("id: {first}\ndata: one\n\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!("id: {second}\ndata: two\n\n")),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_requests_reach_hyper_intact_pipelined_ones_too() {
    let addr = serve(MemoryBroker::default(), Config::default()).await;
    // A request with a body, and two more pipelined in the same write.
    let mut client = TcpStream::connect(addr).await.unwrap();
    client
        .write_all(
            b"POST /publish HTTP/1.1\r\nHost: hub\r\nContent-Length: 5\r\n\r\nhello\
              GET /a HTTP/1.1\r\nHost: hub\r\n\r\n\
              GET /b HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n",
        )
        .await
        .unwrap();
    let text = read_to_close(&mut client).await;
    let answers: Vec<_> = text.match_indices("HTTP/1.1 200 OK").collect();
    assert_eq!(answers.len(), 3, "{text}");
    let posted = text.find("POST /publish hello").expect(&text);
    let a = text.find("GET /a ").expect(&text);
    let b = text.find("GET /b ").expect(&text);
    assert!(posted < a && a < b, "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_subscribe_is_answered_and_the_next_request_served() {
    let addr = serve(MemoryBroker::default(), Config::default()).await;
    let mut client = TcpStream::connect(addr).await.unwrap();
    // No topic: refused with a 400 and a length; the HEAD after it and the hyper request
    // after that are served on the same connection.
    client
        .write_all(
            b"GET /.well-known/mercure HTTP/1.1\r\nHost: hub\r\n\r\n\
              HEAD /.well-known/mercure?topic=x HTTP/1.1\r\nHost: hub\r\n\r\n\
              GET /after HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n",
        )
        .await
        .unwrap();
    let text = read_to_close(&mut client).await;
    let refused = text.find("HTTP/1.1 400 Bad Request\r\n").expect(&text);
    let head = text.find("HTTP/1.1 200 OK\r\n").expect(&text);
    let after = text.find("GET /after ").expect(&text);
    assert!(refused < head && head < after, "{text}");
    let head_answer = &text[head..after];
    assert!(
        head_answer.contains("content-type: text/event-stream"),
        "{text}"
    );
    assert!(!head_answer.contains(": ok"), "a HEAD gets no body: {text}");
    assert!(!text[..head].contains("connection: close"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_head_gets_431() {
    let config = Config::default();
    let addr = serve(MemoryBroker::default(), config.clone()).await;
    let mut client = TcpStream::connect(addr).await.unwrap();
    let big = format!(
        "GET /.well-known/mercure?topic=a HTTP/1.1\r\nCookie: {}\r\n\r\n",
        "c".repeat(config.max_head_bytes())
    );
    // The server may stop reading before the whole head is written.
    let _ = client.write_all(big.as_bytes()).await;
    let text = read_to_close(&mut client).await;
    assert!(
        text.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"),
        "{text}"
    );
    assert!(text.contains("connection: close\r\n"), "{text}");

    let mut client = TcpStream::connect(addr).await.unwrap();
    let fields: String = (0..=lean::MAX_HEADERS)
        .map(|i| format!("x-{i}: y\r\n"))
        .collect();
    let many = format!("GET /other HTTP/1.1\r\n{fields}\r\n");
    client.write_all(many.as_bytes()).await.unwrap();
    let text = read_to_close(&mut client).await;
    assert!(text.starts_with("HTTP/1.1 431 "), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slowloris_head_is_closed_at_the_handshake_timeout() {
    let server = ServerConfig::default().with_handshake_timeout(Duration::from_millis(300));
    let addr = serve(MemoryBroker::default(), Config::new(server)).await;
    let mut client = TcpStream::connect(addr).await.unwrap();
    let head = b"GET /.well-known/mercure?topic=a HTTP/1.1\r\nHost: hub\r\nX-Slow: 0123456789012345678901234567890123456789\r\n\r\n";
    // One byte every 50 ms: the whole head would take over 5 s, 17 times the timeout.
    let mut closed = false;
    for byte in head.chunks(1) {
        if client.write_all(byte).await.is_err() {
            closed = true;
            break;
        }
        let mut probe = [0u8; 64];
        match tokio::time::timeout(Duration::from_millis(50), client.read(&mut probe)).await {
            Err(_) => {}
            Ok(Ok(0) | Err(_)) => {
                closed = true;
                break;
            }
            Ok(Ok(n)) => panic!("answered a partial head: {:?}", &probe[..n]),
        }
    }
    assert!(closed, "the slow head was let through");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_peer_that_leaves_frees_its_subscription() {
    let broker = MemoryBroker::default();
    let addr = serve(broker.clone(), Config::default()).await;
    let topic = Topic::new("leaving").unwrap();
    let mut clients = Vec::new();
    for _ in 0..3 {
        let mut client = TcpStream::connect(addr).await.unwrap();
        client
            .write_all(b"GET /.well-known/mercure?topic=leaving HTTP/1.1\r\n\r\n")
            .await
            .unwrap();
        read_until(&mut client, &mut Vec::new(), b": ok\n\n").await;
        clients.push(client);
    }
    assert_eq!(broker.subscriber_count(&topic), 3);
    // One leaves without a word (no event is published: only the close can tell).
    drop(clients.pop());
    let freed = async {
        while broker.subscriber_count(&topic) != 2 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(BOUND, freed)
        .await
        .expect("the subscription was freed");
    // One half-closes (an end of stream is a peer that left, as hyper reads it).
    clients.pop().unwrap().shutdown().await.unwrap();
    let freed = async {
        while broker.subscriber_count(&topic) != 1 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    tokio::time::timeout(BOUND, freed)
        .await
        .expect("the subscription was freed");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_task_is_small() {
    let broker = MemoryBroker::default();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let stream = TcpStream::connect(listener.local_addr().unwrap())
        .await
        .unwrap();
    let service = hyper::service::service_fn(echo);
    let config = Config::default();
    let task = lean::serve_connection(
        stream,
        Bytes::new(),
        subscriber(broker),
        service,
        &config,
        None,
    );
    let size = size_of_val(&task);
    println!("serve_connection future: {size} bytes");
    // The socket, the event stream and a few words: no buffer, no hyper state inline.
    assert!(size <= 1024, "the connection future holds {size} bytes");
}
