//! HTTP/2 push combined with any other transport on one h2c connection: `push_h2::drive` runs
//! each connection; its `Pusher` answers the page (pushing its stylesheet), and every other
//! request goes to a tower service — here an axum `Router`, where the transports' `Endpoint`s
//! mount (`route_service("/events", push_sse::server::Endpoint::new(..))`, …).
//!
//! ```text
//! cargo run -p push-h2 --example combined -- 127.0.0.1:8080
//! nghttp -nv http://127.0.0.1:8080/          # the page, /style.css pushed
//! nghttp -nv http://127.0.0.1:8080/hello     # answered by the router
//! ```

use bytes::Bytes;
use h2::RecvStream;
use http::uri::Scheme;
use http::{Request, Response};
use push_h2::{Error, ParentStream, PushConfig, Pusher, Resource, ServerConfig};
use push_net::Acceptor;

/// `GET /`: a page whose `Link` preloads are pushed (103 Early Hints when push is off).
#[derive(Clone)]
struct Page;

impl Pusher for Page {
    fn accepts(&self, request: &Request<RecvStream>) -> bool {
        request.uri().path() == "/"
    }

    async fn push(&self, _: Request<RecvStream>, mut parent: ParentStream) -> Result<(), Error> {
        let mut head = Response::new(());
        let link = "</style.css>; rel=preload; as=style";
        head.headers_mut()
            .insert("link", link.parse().expect("a valid header"));
        let preloads = parent.preload(head.headers(), |push| {
            (push.path_and_query() == "/style.css").then(|| Resource {
                response: Response::new(()),
                body: Bytes::from_static(b"h1 { color: teal }\n"),
            })
        })?;
        parent.send_response(head, false)?;
        let page = "<!doctype html><link rel=stylesheet href=/style.css><h1>Pushed</h1>\n";
        parent.send_data(Bytes::from_static(page.as_bytes()), true)?;
        preloads.send().await?;
        Ok(())
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr: std::net::SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned())
        .parse()
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, format!("ADDR: {e}")))?;
    let server = ServerConfig::default();
    let mut acceptor = Acceptor::bind(addr, &server)?;
    println!("h2c on http://{}/", acceptor.local_addr()?);
    // Every request the pusher does not take: any tower service, such as a router of Endpoints.
    let router = axum::Router::new().route("/hello", axum::routing::get(|| async { "hello\n" }));
    loop {
        let (stream, peer) = acceptor.accept().await?;
        let (server, router) = (server.clone(), router.clone());
        tokio::spawn(async move {
            let pushes = PushConfig::new(Scheme::HTTP);
            if let Err(e) = push_h2::drive(stream, &server, pushes, Page, router).await {
                println!("{peer}: {e}");
            }
        });
    }
}
