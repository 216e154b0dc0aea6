//! One accepted connection, from its first bytes to its end: sniffed, then served as TLS
//! (HTTP/2 or HTTP/1.1 by ALPN), h2c (push-h2's driver) or HTTP/1.1 (hyper through push-net).
//!
//! ```text
//! accept ─► admit (--max-connections, else 503 + Retry-After) ─► sniff the first bytes
//!    0x16 ─► TLS handshake ─► ALPN h2 ─► push_h2::drive(DemoPusher, Router)
//!                          └► http/1.1 ─► push_net::serve_http(Router)
//!    PRI  ─► push_h2::drive(DemoPusher, Router)                       (h2c, prior knowledge)
//!    else ─► http1(): push_net::serve_http(Router)                    (HTTP/1.1)
//! ```

use std::sync::Arc;
use std::time::Duration;

use http::uri::Scheme;
use hyper_util::server::graceful::Watcher;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

use super::Context;
use super::router::Router;
use super::sniff::{Sniffed, sniff};
use super::tracked::{Connection, Tracked};
use crate::ops::metrics::Protocol;
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
    let sniffed = match sniff(&stream, context.server.handshake_timeout()).await {
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
            h2(
                Tracked::new(stream, connection),
                router,
                &context,
                Scheme::HTTP,
            )
            .await;
        }
        Sniffed::Http1 => {
            connection.speaks(Protocol::Http1);
            http1(stream, connection, router, &context, graceful).await;
        }
        Sniffed::Tls => {
            connection.speaks(Protocol::Tls);
            tls(stream, connection, router, &context, graceful).await;
        }
    }
}

/// A plain HTTP/1.1 connection.
///
/// This is the hand-off point of the lean path: idle Mercure subscribers are to be held by
/// `lean::serve`, which reads the request head itself and passes every other request to hyper
/// with the bytes it read; until it is wired in, every HTTP/1.1 connection goes to hyper.
async fn http1(
    stream: TcpStream,
    connection: Arc<Connection>,
    router: Router,
    context: &Context,
    graceful: Watcher,
) {
    let io = Tracked::new(stream, connection);
    hyper_service(io, router, context, graceful).await;
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
