//! `accept_until_idle`: a connection with no open stream for the idle timeout is shut down with
//! a GOAWAY; one with an open stream is kept. Under paused time, over an in-memory duplex.

use std::time::Duration;

use bytes::Bytes;
use h2::{client, server};
use http::{Request, Response};
use push_h2::{DEFAULT_IDLE_TIMEOUT, accept_until_idle};
use tokio::sync::mpsc;

/// A server that answers each request after `delay` and reports each accepted request, then
/// the end of its accept loop, on the channel.
async fn serve(delay: Duration) -> (client::SendRequest<Bytes>, mpsc::UnboundedReceiver<bool>) {
    let (client_io, server_io) = tokio::io::duplex(1 << 16);
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut connection = server::handshake(server_io).await.unwrap();
        while let Some(Ok((_request, mut respond))) =
            accept_until_idle(&mut connection, DEFAULT_IDLE_TIMEOUT).await
        {
            tx.send(true).unwrap();
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let _ = respond.send_response(Response::new(()), true);
            });
        }
        tx.send(false).unwrap();
    });
    let (send, connection) = client::handshake(client_io).await.unwrap();
    tokio::spawn(async move {
        let _ = connection.await;
    });
    (send, rx)
}

async fn request(send: &client::SendRequest<Bytes>) -> Result<(), h2::Error> {
    let mut ready = send.clone().ready().await?;
    let request = Request::get("http://example.com/").body(()).unwrap();
    let (response, _) = ready.send_request(request, true)?;
    response.await.map(drop)
}

#[tokio::test(start_paused = true)]
async fn an_idle_connection_is_shut_down_after_the_timeout() {
    let (send, mut accepted) = serve(Duration::ZERO).await;
    request(&send).await.unwrap();
    assert_eq!(accepted.recv().await, Some(true));
    let started = tokio::time::Instant::now();
    let ended = tokio::time::timeout(DEFAULT_IDLE_TIMEOUT * 5, accepted.recv())
        .await
        .expect("the idle connection is shut down");
    assert_eq!(ended, Some(false));
    let idle = started.elapsed();
    assert!(
        idle >= DEFAULT_IDLE_TIMEOUT
            && idle <= DEFAULT_IDLE_TIMEOUT * 5 / 4 + Duration::from_secs(1),
        "closed after {idle:?}"
    );
    // The client got the GOAWAY: no new request goes through.
    assert!(request(&send).await.is_err());
}

#[tokio::test(start_paused = true)]
async fn a_connection_with_an_open_stream_is_kept() {
    // A response that takes three idle timeouts: the connection is busy all along.
    let (send, mut accepted) = serve(DEFAULT_IDLE_TIMEOUT * 3).await;
    let pending = tokio::spawn({
        let send = send.clone();
        async move { request(&send).await }
    });
    assert_eq!(accepted.recv().await, Some(true));
    tokio::time::sleep(DEFAULT_IDLE_TIMEOUT * 3 - Duration::from_secs(1)).await;
    assert!(
        accepted.try_recv().is_err(),
        "closed while a stream was open"
    );
    pending.await.unwrap().unwrap();
    // Then idle: closed in its turn.
    let ended = tokio::time::timeout(DEFAULT_IDLE_TIMEOUT * 5, accepted.recv()).await;
    assert_eq!(ended.unwrap(), Some(false));
}
