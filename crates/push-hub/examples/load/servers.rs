//! The anchor `cargo xtask load` measures the `push-hub` binary against: axum's `Sse` over a
//! tokio `broadcast` channel, with Mercure's two endpoints in their plainest form —
//! `GET /.well-known/mercure` subscribes (every subscriber gets every event), `POST
//! /.well-known/mercure` takes the same form a hub takes (`topic`, `data`) and answers the
//! update's id, as `text/plain`. The hub side is the release binary itself, started by xtask.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use bytes::Bytes;
use futures_util::StreamExt as _;
use http::StatusCode;
use tokio::sync::broadcast;

/// Events queued per subscriber: a whole burst or soak fits, so the figures count deliveries,
/// not overflows (the hub is started with the same bound, `--queue-count`).
const BACKLOG: usize = 8192;

/// The anchor server, until the process is stopped.
pub(crate) async fn anchor(addr: SocketAddr) -> std::io::Result<()> {
    let (sender, _) = broadcast::channel::<(u64, Bytes)>(BACKLOG);
    let subscribe_to = sender.clone();
    let next_id = Arc::new(AtomicU64::new(0));
    let app = axum::Router::new().route(
        "/.well-known/mercure",
        axum::routing::get(move || {
            let receiver = subscribe_to.subscribe();
            async move { anchor_stream(receiver) }
        })
        .post(move |body: Bytes| {
            let (sender, next_id) = (sender.clone(), Arc::clone(&next_id));
            async move { publish(&sender, &next_id, &body) }
        }),
    );
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening {}", listener.local_addr()?);
    axum::serve(listener, app).await
}

/// Reads a Mercure publish form and sends its `data` to every subscriber.
fn publish(
    sender: &broadcast::Sender<(u64, Bytes)>,
    next_id: &AtomicU64,
    form: &[u8],
) -> (StatusCode, String) {
    let mut data = None;
    let mut topic = false;
    for (name, value) in form_urlencoded::parse(form) {
        match &*name {
            "data" => data = Some(Bytes::from(value.into_owned())),
            "topic" => topic = true,
            _ => {}
        }
    }
    let (Some(data), true) = (data, topic) else {
        return (
            StatusCode::BAD_REQUEST,
            "a topic and data, please".to_owned(),
        );
    };
    let id = next_id.fetch_add(1, Ordering::Relaxed);
    // No subscriber yet is no error, as for a hub.
    let _ = sender.send((id, data));
    (StatusCode::OK, format!("urn:load:{id}"))
}

/// One subscriber's stream, as axum's documentation shows it (every subscriber formats each
/// event itself), with a comment first as the hub sends.
fn anchor_stream(
    receiver: broadcast::Receiver<(u64, Bytes)>,
) -> Sse<impl futures_util::Stream<Item = Result<SseEvent, Infallible>>> {
    let first = futures_util::stream::once(async { Ok(SseEvent::default().comment("ok")) });
    let events = futures_util::stream::unfold(receiver, |mut receiver| async move {
        loop {
            match receiver.recv().await {
                Ok((id, data)) => {
                    let text = String::from_utf8_lossy(&data);
                    let event = SseEvent::default().id(id.to_string()).data(text);
                    return Some((Ok(event), receiver));
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(first.chain(events)).keep_alive(KeepAlive::default())
}
