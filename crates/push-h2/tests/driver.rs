//! The connection driver: push requests answered by a `Pusher`, every other request by a tower
//! service, on one HTTP/2 connection.

use crate::support;

use std::convert::Infallible;
use std::future::Future;
use std::task::{Context, Poll};

use bytes::Bytes;
use h2::RecvStream;
use http::uri::Scheme;
use http::{Request, Response};
use http_body_util::{BodyExt, Full};
use push_h2::{Error, ParentStream, PushConfig, Pusher, RequestBody, Resource, ServerConfig};
use support::{LIMIT, get};

/// `/` is a page that pushes `/style.css`.
#[derive(Clone)]
struct Page;

impl Pusher for Page {
    fn accepts(&self, request: &Request<RecvStream>) -> bool {
        request.uri().path() == "/"
    }

    async fn push(
        &self,
        request: Request<RecvStream>,
        mut parent: ParentStream,
    ) -> Result<(), Error> {
        drop(request);
        let mut head = Response::new(());
        head.headers_mut().insert(
            "link",
            "</style.css>; rel=preload; as=style".parse().unwrap(),
        );
        let preloads = parent.preload(head.headers(), |_| {
            Some(Resource {
                response: Response::new(()),
                body: Bytes::from_static(b"p{}"),
            })
        })?;
        parent.send_response(head, false)?;
        parent.send_data(Bytes::from_static(b"<p>page"), true)?;
        preloads.send().await?;
        Ok(())
    }
}

/// Every other request: its path and body echoed by a plain tower service.
#[derive(Clone)]
struct Echo;

impl tower_service::Service<Request<RequestBody>> for Echo {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future =
        std::pin::Pin<Box<dyn Future<Output = Result<Response<Full<Bytes>>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<RequestBody>) -> Self::Future {
        Box::pin(async move {
            let path = request.uri().path().to_owned();
            let body = request.into_body().collect().await.map(|b| b.to_bytes());
            let text = format!("{path} {}", body.map_or(0, |b| b.len()));
            Ok(Response::new(Full::new(Bytes::from(text))))
        })
    }
}

#[tokio::test]
async fn pushes_go_to_the_pusher_and_the_rest_to_the_tower_service() {
    let (client_io, server_io) = tokio::io::duplex(1 << 16);
    let server = tokio::spawn(async move {
        let config = ServerConfig::default();
        push_h2::drive(
            server_io,
            &config,
            PushConfig::new(Scheme::HTTP),
            Page,
            Echo,
        )
        .await
    });
    let (send, connection) = h2::client::handshake(client_io).await.unwrap();
    tokio::spawn(connection);
    let page = get(&send, "/", &[]).await;
    assert_eq!(page.body, "<p>page");
    assert_eq!(page.pushes.len(), 1);
    assert_eq!(page.pushes[0].body, "p{}");
    let api = get(&send, "/api/thing", &[]).await;
    assert_eq!(api.body, "/api/thing 0");
    assert!(api.pushes.is_empty());
    drop(send);
    let ended = tokio::time::timeout(LIMIT, server).await.unwrap().unwrap();
    assert!(ended.is_ok(), "{ended:?}");
}
