//! RFC 8441 extended CONNECT through `drive`: the service answers the request, the driver hands
//! it the stream (`OnConnect`) after a 2xx, resets a 2xx nobody claimed, and sends any other
//! answer as it is.

use crate::support;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use h2::RecvStream;
use h2::client::SendRequest;
use http::uri::Scheme;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use push_h2::{Error, OnConnect, ParentStream, PushConfig, Pusher, RequestBody, ServerConfig};
use support::{LIMIT, read_body};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::time::timeout;

/// Pushes for nothing.
#[derive(Clone)]
struct NoPush;

impl Pusher for NoPush {
    fn accepts(&self, _: &Request<RecvStream>) -> bool {
        false
    }

    async fn push(&self, _: Request<RecvStream>, _: ParentStream) -> Result<(), Error> {
        Ok(())
    }
}

/// `/echo` takes the tunnel and echoes what it reads; `/unclaimed` answers 200 but lets the
/// `OnConnect` go; anything else is a 404 with a body.
#[derive(Clone)]
struct Tunnels;

type Answer = Pin<Box<dyn Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send>>;

impl tower_service::Service<Request<RequestBody>> for Tunnels {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Answer;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut request: Request<RequestBody>) -> Answer {
        let on_connect = request.extensions_mut().remove::<OnConnect>();
        let path = request.uri().path().to_owned();
        Box::pin(async move {
            let body = request.into_body().collect().await.unwrap().to_bytes();
            assert!(
                body.is_empty(),
                "an extended CONNECT's body is the tunnel's"
            );
            match (path.as_str(), on_connect) {
                ("/echo", Some(on_connect)) => {
                    tokio::spawn(async move {
                        let mut stream = on_connect.await.unwrap();
                        let mut buf = [0; 64];
                        loop {
                            let n = stream.read(&mut buf).await.unwrap();
                            if n == 0 {
                                stream.shutdown().await.unwrap();
                                return;
                            }
                            stream.write_all(&buf[..n]).await.unwrap();
                        }
                    });
                    Ok(Response::new(Full::default()))
                }
                ("/unclaimed", _) => Ok(Response::new(Full::default())),
                _ => {
                    let mut response = Response::new(Full::new(Bytes::from_static(b"no tunnel")));
                    *response.status_mut() = StatusCode::NOT_FOUND;
                    Ok(response)
                }
            }
        })
    }
}

fn connect(path: &str) -> Request<()> {
    Request::builder()
        .method(Method::CONNECT)
        .uri(format!("http://hub.test{path}"))
        .extension(h2::ext::Protocol::from_static("echo"))
        .body(())
        .unwrap()
}

async fn client() -> SendRequest<Bytes> {
    let (client_io, server_io) = tokio::io::duplex(1 << 16);
    tokio::spawn(async move {
        let config = ServerConfig::default();
        let pushes = PushConfig::new(Scheme::HTTP);
        let _ = push_h2::drive(server_io, &config, pushes, NoPush, Tunnels).await;
    });
    let (send, connection) = h2::client::handshake(client_io).await.unwrap();
    tokio::spawn(connection);
    let mut send = send.ready().await.unwrap();
    // The server's SETTINGS (with ENABLE_CONNECT_PROTOCOL) arrive right after the handshake.
    for _ in 0..1000 {
        if send.is_extended_connect_protocol_enabled() {
            break;
        }
        tokio::task::yield_now().await;
        send = send.ready().await.unwrap();
    }
    assert!(
        send.is_extended_connect_protocol_enabled(),
        "the driver advertises SETTINGS_ENABLE_CONNECT_PROTOCOL"
    );
    send
}

#[tokio::test]
async fn a_2xx_answer_hands_the_stream_to_the_service() {
    let mut send = client().await;
    let (response, mut request_stream) = send.send_request(connect("/echo"), false).unwrap();
    let response = timeout(LIMIT, response).await.unwrap().unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let mut tunnel = response.into_body();
    for chunk in [&b"hello"[..], b" over", b" h2"] {
        request_stream
            .send_data(Bytes::copy_from_slice(chunk), false)
            .unwrap();
        let echoed = timeout(LIMIT, tunnel.data())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let _ = tunnel.flow_control().release_capacity(echoed.len());
        assert_eq!(echoed, chunk);
    }
    // Ending our side ends theirs: the echo task shuts its half down.
    request_stream.send_data(Bytes::new(), true).unwrap();
    let rest = timeout(LIMIT, read_body(tunnel)).await.unwrap();
    assert!(rest.is_empty(), "{rest:?}");
}

#[tokio::test]
async fn a_2xx_nobody_claims_is_reset_and_other_answers_are_sent_as_they_are() {
    let mut send = client().await;
    let (response, _stream) = send.send_request(connect("/unclaimed"), false).unwrap();
    let error = timeout(LIMIT, response).await.unwrap().unwrap_err();
    assert_eq!(error.reason(), Some(h2::Reason::INTERNAL_ERROR), "{error}");

    let mut send = send.ready().await.unwrap();
    let (response, _stream) = send.send_request(connect("/elsewhere"), false).unwrap();
    let response = timeout(LIMIT, response).await.unwrap().unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(read_body(response.into_body()).await, "no tunnel");
}
