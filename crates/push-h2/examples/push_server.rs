//! An h2c (HTTP/2 with prior knowledge) server that pushes what its pages preload.
//!
//! ```text
//! cargo run --release -p push-h2 --example push_server -- 127.0.0.1:8080
//! nghttp -nv http://127.0.0.1:8080/            # PUSH_PROMISE for /style.css and /app.js
//! nghttp -nv --no-push http://127.0.0.1:8080/  # 103 Early Hints with the same links
//! nghttp -nv http://127.0.0.1:8080/events      # each blob pushed, then an SSE event naming it
//! ```
//!
//! `GET /` returns an HTML page whose `Link` header preloads `/style.css` and `/app.js`: both are
//! pushed when the client allows push (and not already in its `h2d` cache digest cookie), and
//! announced with 103 Early Hints when it does not. `GET /events` is an SSE stream: a ticker
//! publishes a blob every second on a `MemoryBroker`; each one is pushed as `/blobs/<cursor>`
//! and then announced with a `pushed` event whose data is its URL.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_core::Stream;
use h2::RecvStream;
use http::header::{CACHE_CONTROL, CONTENT_TYPE, ETAG, SET_COOKIE};
use http::uri::Scheme;
use http::{Request, Response, StatusCode};
use push_broker::{Config, MemoryBroker};
use push_core::{Delivery, Event, Selector, Topic};
use push_h2::{
    CacheDigest, ParentStream, PushConfig, PushConnection, Resource, ServerConfig, notify_event,
};
use push_net::Acceptor;
use tokio::net::{TcpListener, TcpStream};

const PAGE: &str = "<!doctype html><html><head><link rel=stylesheet href=/style.css>\
<script src=/app.js></script></head><body><h1>Pushed</h1></body></html>\n";
const LINKS: &str = "</style.css>; rel=preload; as=style, </app.js>; rel=preload; as=script";
const STYLE: &str = "h1 { font-family: sans-serif }\n";
const APP: &str = "console.log('pushed');\n";
/// The cookie carrying the cache digest of what this client was pushed.
const DIGEST_COOKIE: &str = "h2d";

/// What the server holds: the broker behind `/events` and the blobs it announced.
#[derive(Debug)]
pub struct State {
    /// Publishes the blobs `/events` pushes.
    pub broker: MemoryBroker,
    blobs: Mutex<HashMap<String, Bytes>>,
}

impl State {
    /// A server with an empty broker.
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            broker: MemoryBroker::new(Config::default()),
            blobs: Mutex::new(HashMap::new()),
        })
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr: std::net::SocketAddr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:8080".to_owned())
        .parse()?;
    let listener = push_net::bind(addr, &ServerConfig::default())?;
    println!(
        "h2c on http://{} (try: nghttp -nv http://{0}/)",
        listener.local_addr()?
    );
    let state = State::new();
    // Expires history on time, also on topics nobody publishes to or subscribes to again.
    state.broker.spawn_sweeper();
    let ticker = Arc::clone(&state);
    tokio::spawn(async move {
        let topic = Topic::new("blobs").expect("a valid topic name");
        for n in 0u64.. {
            tokio::time::sleep(Duration::from_secs(1)).await;
            let blob: Vec<u8> = (0..1024u32).map(|i| (i as u64 ^ n) as u8).collect();
            let _ = ticker.broker.publish_now(&topic, Event::new(blob));
        }
    });
    run(listener, state).await?;
    Ok(())
}

/// Accepts connections until the listener breaks for good. Running out of file descriptors is
/// not that: `Acceptor` waits until some are free and serves again.
pub async fn run(listener: TcpListener, state: Arc<State>) -> std::io::Result<()> {
    // The documented defaults: HTTP/2 limits, handshake and write-stall timeouts.
    let config = ServerConfig::default();
    let mut acceptor = Acceptor::new(listener, &config);
    loop {
        let (socket, _) = acceptor.accept().await?;
        tokio::spawn(serve_connection(socket, config.clone(), Arc::clone(&state)));
    }
}

async fn serve_connection(socket: TcpStream, config: ServerConfig, state: Arc<State>) {
    // Safe settings, and the preface and first request within the handshake timeout.
    let Ok((mut connection, mut next)) = push_h2::handshake(socket, &config).await else {
        return;
    };
    let pushes = PushConnection::new(PushConfig::new(Scheme::HTTP));
    while let Some((request, respond)) = next.take() {
        pushes.observe(&connection);
        let parent = ParentStream::new(&pushes, &request, respond);
        let state = Arc::clone(&state);
        tokio::spawn(async move {
            if let Err(error) = handle(request, parent, state).await {
                eprintln!("push_server: {error}");
            }
        });
        // A connection with no open stream for a minute is closed with a GOAWAY.
        next = push_h2::accept_until_idle(&mut connection, push_h2::DEFAULT_IDLE_TIMEOUT)
            .await
            .and_then(Result::ok);
    }
}

async fn handle(
    request: Request<RecvStream>,
    mut parent: ParentStream,
    state: Arc<State>,
) -> Result<(), push_h2::Error> {
    match request.uri().path() {
        "/" => page(&request, parent).await,
        "/events" => events(parent, &state).await,
        path => {
            let found = resource(path).or_else(|| {
                let blob = state.blobs.lock().ok()?.get(path).cloned()?;
                Some(blob_resource(blob))
            });
            match found {
                Some(Resource { response, body }) => {
                    parent.send_response(response, false)?;
                    parent.send_data(body, true)
                }
                None => parent.send_response(status(StatusCode::NOT_FOUND), true),
            }
        }
    }
}

async fn page(
    request: &Request<RecvStream>,
    mut parent: ParentStream,
) -> Result<(), push_h2::Error> {
    let mut digest = CacheDigest::from_cookies(request.headers(), DIGEST_COOKIE);
    parent.set_digest(digest.clone());
    let mut head = status(StatusCode::OK);
    head.headers_mut().insert(
        CONTENT_TYPE,
        "text/html; charset=utf-8".parse().expect("valid"),
    );
    head.headers_mut()
        .insert("link", LINKS.parse().expect("valid"));
    let preloads = parent.preload(head.headers(), |push| resource(push.path_and_query()))?;
    // Remember what was pushed in the client's digest cookie, for its next connections.
    let digest = digest.get_or_insert_with(CacheDigest::default);
    for (target, skipped) in preloads.outcomes() {
        if skipped.is_none()
            && let Some(pushed) = resource(target)
        {
            let etag = pushed
                .response
                .headers()
                .get(ETAG)
                .and_then(|v| v.to_str().ok());
            digest.insert(target, etag);
        }
    }
    head.headers_mut()
        .insert(SET_COOKIE, digest.set_cookie(DIGEST_COOKIE)?);
    parent.send_response(head, false)?;
    parent.send_data(Bytes::from_static(PAGE.as_bytes()), true)?;
    preloads.send().await?;
    Ok(())
}

async fn events(mut parent: ParentStream, state: &State) -> Result<(), push_h2::Error> {
    let topic = Topic::new("blobs").expect("a valid topic name");
    let Ok(mut subscription) =
        state
            .broker
            .subscribe(&Selector::one(topic), None, &push_core::Access::public())
    else {
        return parent.send_response(status(StatusCode::SERVICE_UNAVAILABLE), true);
    };
    parent.start_event_stream()?;
    loop {
        // The next delivery, or the client going away (RST_STREAM) first.
        let next = std::future::poll_fn(|cx| {
            if parent.poll_reset(cx).is_ready() {
                return std::task::Poll::Ready(None);
            }
            std::pin::Pin::new(&mut subscription).poll_next(cx)
        })
        .await;
        let published = match next {
            Some(Delivery::Event(published)) => published,
            Some(Delivery::Gap(_)) => continue,
            Some(Delivery::Closed(_)) | None => return Ok(()),
        };
        let url = format!("/blobs/{}", published.cursor());
        let body = published.event().data.clone();
        if let Ok(mut blobs) = state.blobs.lock() {
            if blobs.len() >= 64 {
                blobs.clear();
            }
            blobs.insert(url.clone(), body.clone());
        }
        let request = parent.push_request(&url)?;
        let event = notify_event(&request).with_id(published.cursor().to_string());
        parent
            .push_and_notify(&request, blob_resource(body), event)
            .await?;
    }
}

fn resource(path: &str) -> Option<Resource> {
    let (body, kind, etag) = match path {
        "/style.css" => (STYLE, "text/css", "\"s1\""),
        "/app.js" => (APP, "text/javascript", "\"a1\""),
        _ => return None,
    };
    let mut response = status(StatusCode::OK);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, kind.parse().expect("valid"));
    response
        .headers_mut()
        .insert(ETAG, etag.parse().expect("valid"));
    response
        .headers_mut()
        .insert(CACHE_CONTROL, "max-age=3600".parse().expect("valid"));
    Some(Resource {
        response,
        body: Bytes::from_static(body.as_bytes()),
    })
}

fn blob_resource(body: Bytes) -> Resource {
    let mut response = status(StatusCode::OK);
    response.headers_mut().insert(
        CONTENT_TYPE,
        "application/octet-stream".parse().expect("valid"),
    );
    Resource { response, body }
}

fn status(code: StatusCode) -> Response<()> {
    let mut response = Response::new(());
    *response.status_mut() = code;
    response
}
