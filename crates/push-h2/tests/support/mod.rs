//! An in-process HTTP/2 pair: h2::client against a server whose streams are `ParentStream`s.

#![allow(dead_code, unreachable_pub)]

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use h2::RecvStream;
use h2::client::{self, SendRequest};
use h2::server;
use http::{Request, Response, StatusCode};
use push_h2::{ParentStream, PushConfig, PushConnection};

/// Every wait in these tests is bounded by this.
pub const LIMIT: Duration = Duration::from_secs(10);

type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;
pub type Handler = Arc<dyn Fn(Request<RecvStream>, ParentStream) -> BoxFuture + Send + Sync>;

pub fn handler<F, Fut>(f: F) -> Handler
where
    F: Fn(Request<RecvStream>, ParentStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    Arc::new(move |request, parent| Box::pin(f(request, parent)))
}

/// Connects an h2 client (built by `client`) to a push server over an in-memory duplex.
pub async fn connect(
    client: &client::Builder,
    config: PushConfig,
    handler: Handler,
) -> (SendRequest<Bytes>, PushConnection) {
    let (client_io, server_io) = tokio::io::duplex(1 << 20);
    let pushes = PushConnection::new(config);
    let conn_pushes = pushes.clone();
    tokio::spawn(async move {
        let Ok(mut connection) = server::handshake(server_io).await else {
            return;
        };
        while let Some(Ok((request, respond))) = connection.accept().await {
            conn_pushes.observe(&connection);
            let parent = ParentStream::new(&conn_pushes, &request, respond);
            tokio::spawn(handler(request, parent));
        }
    });
    let (send, connection) = client.handshake(client_io).await.expect("client handshake");
    tokio::spawn(async move {
        let _ = connection.await;
    });
    (send, pushes)
}

/// A pushed resource as the client saw it.
#[derive(Debug)]
pub struct Pushed {
    pub request: Request<()>,
    /// `None` when the server reset the pushed stream.
    pub status: Option<StatusCode>,
    pub body: Bytes,
}

/// A response as the client saw it.
#[derive(Debug)]
pub struct Fetched {
    pub informational: Vec<Response<()>>,
    pub response: Response<()>,
    pub body: Bytes,
    pub pushes: Vec<Pushed>,
}

/// GETs `path` with `headers`; reads informational responses, the response, its body and every
/// pushed resource (promise, response and body).
pub async fn get(send: &SendRequest<Bytes>, path: &str, headers: &[(&str, &str)]) -> Fetched {
    tokio::time::timeout(LIMIT, fetch(send, path, headers))
        .await
        .expect("the exchange completes in time")
}

async fn fetch(send: &SendRequest<Bytes>, path: &str, headers: &[(&str, &str)]) -> Fetched {
    let mut send = send.clone().ready().await.expect("connection ready");
    let mut request = Request::get(format!("http://example.com{path}"));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let (mut response, _) = send
        .send_request(request.body(()).expect("valid request"), true)
        .expect("request sent");
    let mut promises = response.push_promises();
    let mut informational = Vec::new();
    while let Some(Ok(info)) = poll_fn(|cx| response.poll_informational(cx)).await {
        informational.push(info);
    }
    let response = response.await.expect("a response");
    let (parts, body) = response.into_parts();
    let body = read_body(body).await;
    let mut pushes = Vec::new();
    while let Some(promise) = promises.push_promise().await {
        let (request, pushed) = promise.expect("a valid promise").into_parts();
        match pushed.await {
            Ok(pushed) => {
                let status = Some(pushed.status());
                let body = read_body(pushed.into_body()).await;
                pushes.push(Pushed {
                    request,
                    status,
                    body,
                });
            }
            Err(error) if error.is_reset() => pushes.push(Pushed {
                request,
                status: None,
                body: Bytes::new(),
            }),
            Err(error) => panic!("a pushed response: {error}"),
        }
    }
    Fetched {
        informational,
        response: Response::from_parts(parts, ()),
        body,
        pushes,
    }
}

pub async fn read_body(mut body: RecvStream) -> Bytes {
    let mut out = BytesMut::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk.expect("body data");
        let _ = body.flow_control().release_capacity(chunk.len());
        out.extend_from_slice(&chunk);
    }
    out.freeze()
}

pub fn ok() -> Response<()> {
    Response::new(())
}
