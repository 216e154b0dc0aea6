//! The event stream's id choice: the cursor by default, the event's own id with
//! `EventId::Own` (a Mercure hub's update ids), a gap the server announces before the
//! subscription's first delivery, the guard, and the `retry:` a shutdown ends a stream with.

use bytes::Bytes;
use futures_util::StreamExt as _;
use push_broker::MemoryBroker;
use push_core::{Access, Broker as _, Cursor, Event, Gap, GapReason, Selector, Topic};
use push_sse::server::{Config, EventId, EventStream};

fn news() -> Topic {
    Topic::new("news").unwrap()
}

async fn frames(config: &Config, gap: Option<Gap>) -> Vec<Bytes> {
    let broker = MemoryBroker::default();
    let epoch = broker.head().epoch();
    let selector = Selector::one(news());
    let events = [
        Event::new("one").with_id("urn:uuid:1"),
        Event::new("two"),
        Event::new("three").with_id("bad\nid"),
    ];
    for event in events {
        broker.publish(&[news()], event).await.unwrap();
    }
    let from = Some(Cursor::new(epoch, 0));
    let subscription = broker
        .subscribe(&selector, from, &Access::public())
        .unwrap();
    let mut stream = EventStream::new(subscription, config);
    if let Some(gap) = gap {
        stream = stream.with_gap(&gap);
    }
    let mut out = Vec::new();
    for _ in 0..4 {
        out.push(stream.next().await.unwrap());
    }
    out
}

#[tokio::test(start_paused = true)]
async fn the_cursor_is_the_id_unless_the_config_asks_for_the_events_own() {
    let by_cursor = frames(&Config::default(), None).await;
    let text: Vec<_> = by_cursor
        .iter()
        .map(|b| String::from_utf8_lossy(b))
        .collect();
    assert_eq!(text[0], ": ok\n\n");
    assert!(
        text[1].starts_with("id: ") && !text[1].contains("urn:uuid:1"),
        "{text:?}"
    );

    let own = frames(&Config::default().with_event_id(EventId::Own), None).await;
    let text: Vec<_> = own.iter().map(|b| String::from_utf8_lossy(b)).collect();
    assert_eq!(text[1], "id: urn:uuid:1\ndata: one\n\n");
    // No own id, or one SSE cannot carry: the cursor.
    let cursor_id = |frame: &str| {
        let id = frame
            .strip_prefix("id: ")
            .unwrap()
            .split('\n')
            .next()
            .unwrap();
        id.parse::<Cursor>().is_ok()
    };
    assert!(
        cursor_id(&text[2]) && text[2].ends_with("data: two\n\n"),
        "{text:?}"
    );
    assert!(
        cursor_id(&text[3]) && text[3].ends_with("data: three\n\n"),
        "{text:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_gap_set_by_the_server_comes_before_the_first_delivery() {
    let resume = Cursor::new(7, 0);
    let gap = Gap {
        reason: GapReason::Evicted,
        resume,
    };
    let out = frames(&Config::default().with_event_id(EventId::Own), Some(gap)).await;
    let first = String::from_utf8_lossy(&out[0]);
    assert_eq!(
        first,
        ": ok\n\nevent: gap\nid: 7-0\ndata: {\"reason\":\"evicted\",\"resume\":\"7-0\"}\n\n"
    );
    assert_eq!(out[1], "id: urn:uuid:1\ndata: one\n\n");
}

#[tokio::test(start_paused = true)]
async fn the_guard_lives_as_long_as_the_stream() {
    let broker = MemoryBroker::default();
    let held = std::sync::Arc::new(());
    let subscription = broker
        .subscribe(&Selector::one(news()), None, &Access::public())
        .unwrap();
    let deadline = tokio::time::Instant::now().into_std() + std::time::Duration::from_secs(5);
    let mut stream = EventStream::new(subscription, &Config::default())
        .with_until(deadline)
        .with_guard(std::sync::Arc::clone(&held));
    assert_eq!(std::sync::Arc::strong_count(&held), 2);
    assert_eq!(stream.next().await.unwrap(), ": ok\n\n");
    assert_eq!(std::sync::Arc::strong_count(&held), 2);
    // The stream ends at its deadline: the guard goes then, before the stream is dropped.
    tokio::time::advance(std::time::Duration::from_secs(20)).await;
    while stream.next().await.is_some() {}
    assert_eq!(std::sync::Arc::strong_count(&held), 1);
    let subscription = broker
        .subscribe(&Selector::one(news()), None, &Access::public())
        .unwrap();
    let stream =
        EventStream::new(subscription, &Config::default()).with_guard(std::sync::Arc::clone(&held));
    drop(stream);
    assert_eq!(std::sync::Arc::strong_count(&held), 1);
}

#[tokio::test(start_paused = true)]
async fn a_shutdown_with_a_retry_ends_the_stream_with_that_retry_field() {
    let broker = MemoryBroker::default();
    let subscription = broker
        .subscribe(&Selector::one(news()), None, &Access::public())
        .unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<std::time::Duration>();
    let (_keep, never) = tokio::sync::oneshot::channel::<()>();
    let mut stream = EventStream::new(subscription, &Config::default())
        .with_shutdown(async move {
            let _ = never.await;
        })
        .with_shutdown_retry(async move { rx.await.unwrap_or_default() });
    assert_eq!(stream.next().await.unwrap(), ": ok\n\n");
    tx.send(std::time::Duration::from_millis(2500)).unwrap();
    assert_eq!(stream.next().await.unwrap(), "retry: 2500\n\n");
    assert!(stream.is_done());
    assert_eq!(stream.next().await, None);
}
