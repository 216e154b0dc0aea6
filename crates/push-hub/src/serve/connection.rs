//! One accepted connection, from its first bytes to its end: sniffed, then served as TLS
//! (HTTP/2 or HTTP/1.1 by ALPN), h2c (push-h2's driver) or HTTP/1.1 (hyper through push-net).
//!
//! ```text
//! accept ─► admit (--max-connections, else 503 + Retry-After) ─► sniff the first bytes
//!    0x16 ─► TLS handshake ─► ALPN h2 ─► push_h2::drive(DemoPusher, Router)
//!                          └► http/1.1 ─► push_net::serve_http(Router)
//!    PRI  ─► push_h2::drive(DemoPusher, Router)                       (h2c, prior knowledge)
//!    else ─► GET/HEAD /.well-known/mercure first ─► lean::serve_connection (idle subscribers)
//!         └► anything else ─► push_net::serve_http(Router)              (HTTP/1.1)
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use http::uri::Scheme;
use hyper_util::server::graceful::Watcher;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::Context;
use bytes::Bytes;
use http::request::Parts;
use http::{Method, Response, StatusCode, response};
use push_sse::server::EventStream;

use super::body::{HubBody, StreamGauge, retry_later};
use super::router::{HubSubscription, Router, Shared, SubscribeFn};
use super::sniff::{Sniffed, is_subscribe, sniff};
use super::tracked::{Connection, Tracked};
use crate::ops::metrics::{Protocol, Refused, Transport};
use crate::pages::DemoPusher;

/// How long an HTTP/2 connection may go on after the shutdown signal (its event streams have
/// ended with their `retry:` hint by then; this lets the last frames reach the client).
const H2_SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// Serves `stream` (admitted as `connection`) until it ends.
pub(crate) async fn serve(
    stream: TcpStream,
    connection: Arc<Connection>,
    context: Arc<Context>,
    graceful: Watcher,
) {
    // Boxed, as every large future a connection takes on the way is: the task's future is
    // allocated once at its largest state's size and held for the connection's whole life,
    // which for an idle lean subscriber is the largest part of what it costs.
    let sniffed = match Box::pin(sniff(&stream, context.server.handshake_timeout())).await {
        Ok(sniffed) => sniffed,
        Err(error) => {
            tracing::debug!(%error, peer = %connection.peer(), "no first bytes");
            return;
        }
    };
    let router = Router::new(Arc::clone(&context.shared), Arc::clone(&connection));
    match sniffed {
        Sniffed::Closed => {}
        Sniffed::H2c => {
            connection.speaks(Protocol::H2c);
            Box::pin(h2(
                Tracked::new(stream, connection),
                router,
                &context,
                Scheme::HTTP,
            ))
            .await;
        }
        Sniffed::Http1 => {
            connection.speaks(Protocol::Http1);
            http1(stream, connection, router, &context, graceful).await;
        }
        Sniffed::Tls => {
            connection.speaks(Protocol::Tls);
            Box::pin(tls(stream, connection, router, &context, graceful)).await;
        }
    }
}

/// A plain HTTP/1.1 connection: the lean path when its first request is a Mercure subscribe
/// (and the hub has one), hyper otherwise.
///
/// On the lean path (`crate::lean::serve_connection`) an idle subscriber costs its socket, its
/// subscription and a few hundred bytes; the socket is [`Tracked`] as on every other path
/// (admitted while it lives, its bytes counted); the router's rules are kept around it: the
/// stream quota and the SSE gauge are taken in the subscribe call and held by the connection until it
/// closes, refusals are counted and logged as the router's are. Every other request on it
/// still goes to the router through hyper.
async fn http1(
    stream: TcpStream,
    connection: Arc<Connection>,
    router: Router,
    context: &Context,
    graceful: Watcher,
) {
    let timeout = context.server.handshake_timeout();
    // Every branch but the lean one is boxed when taken: this future is what an idle lean
    // subscriber's task holds, so it must not be as large as hyper's connection future.
    let Some(subscribe) = context.shared.subscribe.clone() else {
        let io = Tracked::new(stream, connection);
        return Box::pin(hyper_service(io, router, context, graceful)).await;
    };
    if !Box::pin(is_subscribe(&stream, timeout)).await {
        let io = Tracked::new(stream, connection);
        return Box::pin(hyper_service(io, router, context, graceful)).await;
    }
    let shared = Arc::clone(&context.shared);
    let held = Arc::clone(&connection);
    // The lean path's interface takes a refusal as a `Response` (cold path): see lean_subscribe.
    #[allow(clippy::result_large_err)]
    let subscribe = move |parts: &Parts| lean_subscribe(&shared, &held, &subscribe, parts);
    let service = TowerToHyperService::new(router);
    // Boxed as a `dyn Future + Send`: the compiler proves `Send` for the lean path's generic
    // future here, where its types are known (inside the spawned task it trips over the
    // higher-ranked `Into<BoxError>` bounds).
    // Tracked like every other path's stream: admitted while it lives, its bytes counted.
    let served: Pin<Box<dyn Future<Output = Result<(), crate::lean::BoxError>> + Send + '_>> =
        Box::pin(crate::lean::serve_connection(
            Tracked::new(stream, connection),
            Bytes::new(),
            subscribe,
            service,
            &context.lean,
            Some(graceful),
        ));
    if let Err(error) = served.await {
        tracing::debug!(%error, "connection ended");
    }
}

/// One subscribe on the lean path, with the router's rules: the stream quota (a `GET` only:
/// a `HEAD` opens no stream), the SSE gauge, the count of authorization failures, the access
/// line.
// The refusal is a whole `Response`, as the lean path's `serve_connection` takes it; it is the
// cold path (one per refused request), so its size costs nothing that matters.
#[allow(clippy::result_large_err)]
fn lean_subscribe(
    shared: &Shared,
    connection: &Connection,
    subscribe: &SubscribeFn,
    parts: &Parts,
) -> Result<(response::Parts, EventStream<HubSubscription>), Response<HubBody>> {
    let started = std::time::Instant::now();
    let peer = connection.peer().ip();
    let client = shared.client(peer, &parts.headers);
    let answer = if let Some(refused) = super::health::refuse(shared, true) {
        Err(refused)
    } else if parts.method == Method::GET {
        match shared
            .quotas
            .open_stream(&shared.keys(peer, parts), started)
        {
            Ok(permit) => subscribe(parts).inspect(|_| {
                let gauge = StreamGauge::new(shared.metrics.streams(Transport::Sse));
                connection.hold(Box::new((permit, gauge)));
            }),
            Err(after) => {
                shared.metrics.refused(Refused::StreamQuota);
                Err(retry_later(
                    StatusCode::TOO_MANY_REQUESTS,
                    "quota exceeded",
                    after,
                ))
            }
        }
    } else {
        subscribe(parts)
    };
    let status = match &answer {
        Ok((head, _)) => head.status,
        Err(response) => response.status(),
    };
    if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
        shared.metrics.auth_failures.inc();
    }
    tracing::info!(
        target: "push_hub::access",
        method = %parts.method,
        path = parts.uri.path(),
        status = status.as_u16(),
        %client,
        micros = started.elapsed().as_micros() as u64,
        lean = true,
    );
    answer
}

async fn hyper_service<T>(io: T, router: Router, context: &Context, graceful: Watcher)
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = TowerToHyperService::new(router);
    if let Err(error) = push_net::serve_http(io, service, &context.server, Some(graceful)).await {
        tracing::debug!(%error, "connection ended");
    }
}

async fn h2<T>(io: T, router: Router, context: &Context, scheme: Scheme)
where
    T: AsyncRead + AsyncWrite + Unpin,
{
    let pushes = push_h2::PushConfig::new(scheme);
    let drive = push_h2::drive(io, &context.server, pushes, DemoPusher, router);
    let shutdown = context.shutdown.wait();
    tokio::select! {
        ended = drive => {
            if let Err(error) = ended {
                tracing::debug!(%error, "HTTP/2 connection ended");
            }
        }
        () = async { shutdown.await; tokio::time::sleep(H2_SHUTDOWN_GRACE).await } => {}
    }
}

async fn tls(
    stream: TcpStream,
    connection: Arc<Connection>,
    router: Router,
    context: &Context,
    graceful: Watcher,
) {
    let Some(acceptor) = &context.tls else {
        tracing::debug!(peer = %connection.peer(), "a TLS ClientHello, but TLS is not configured");
        return;
    };
    let handshake = acceptor.accept(Tracked::new(stream, connection));
    let stream = match tokio::time::timeout(context.server.handshake_timeout(), handshake).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(error)) => {
            tracing::debug!(%error, "TLS handshake failed");
            return;
        }
        Err(_) => {
            tracing::debug!("TLS handshake timed out");
            return;
        }
    };
    if stream.get_ref().1.alpn_protocol() == Some(b"h2") {
        h2(stream, router, context, Scheme::HTTPS).await;
    } else {
        hyper_service(stream, router, context, graceful).await;
    }
}

/// Answers a connection over `--max-connections`: `503` with `Retry-After` when it speaks
/// plain HTTP/1.1 (a TLS or HTTP/2 peer is closed: answering it would cost a handshake, which
/// is what the limit saves), then a short wait for the client to read it.
pub(crate) async fn refuse(mut stream: TcpStream, retry_after: Duration) {
    const WAIT: Duration = Duration::from_secs(2);
    if sniff(&stream, WAIT).await.ok() != Some(Sniffed::Http1) {
        return;
    }
    let body = "too many connections\n";
    let answer = format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain; charset=utf-8\r\n\
         retry-after: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        retry_after.as_secs().max(1),
        body.len()
    );
    let answered = async {
        stream.write_all(answer.as_bytes()).await?;
        stream.shutdown().await?;
        // Read what the client sent until it closes, so closing does not reset the connection
        // before the client has read the answer.
        let mut sink = [0_u8; 1024];
        let mut left = 64 * 1024_usize;
        while left > 0 {
            let n = stream.read(&mut sink).await?;
            if n == 0 {
                break;
            }
            left = left.saturating_sub(n);
        }
        std::io::Result::Ok(())
    };
    let _ = tokio::time::timeout(WAIT, answered).await;
}

#[cfg(test)]
mod tests {
    use clap::Parser as _;

    use super::*;
    use crate::args::Args;
    use crate::ops::metrics::Metrics;
    use crate::serve::Hub;
    use crate::serve::tracked::Connections;

    /// The task of every connection is this future: an idle subscriber holds it for its
    /// whole life, so its size is per-subscriber memory. The large futures of its other
    /// branches (hyper's HTTP/1.1, h2, TLS) and of its first steps (the protocol sniffing and
    /// the subscribe check, each with its timer) are boxed when taken, never held inline
    /// (368 bytes in a debug build when the bound was set; 832 with the sniffing inline).
    #[tokio::test]
    async fn a_connection_task_is_small_whatever_it_might_become() {
        let args = Args::parse_from(["push-hub", "--in-memory", "--addr", "127.0.0.1:0"]);
        let hub = Hub::new(args).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let _client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (stream, peer) = listener.accept().await.unwrap();
        let connections = Connections::new(1, Metrics::new());
        let connection = connections.admit(peer).unwrap();
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        let task = serve(
            stream,
            connection,
            Arc::clone(&hub.context),
            graceful.watcher(),
        );
        let size = size_of_val(&task);
        println!("connection task: {size} bytes");
        assert!(size <= 512, "the connection task is {size} bytes");
    }
}
