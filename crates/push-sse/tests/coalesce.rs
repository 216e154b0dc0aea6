//! `Config::with_coalesce`: on simulated time, the first event after a quiet period is
//! yielded at once, the events arriving within the window after it wait and come together when
//! it closes, and nothing that ends a stream waits for a window.

use std::time::Duration;

use bytes::Bytes;
use futures_util::{FutureExt as _, StreamExt as _};
use push_broker::{MemoryBroker, MemorySubscription};
use push_core::{Access, Broker as _, Event, Selector, Topic};
use push_sse::server::{Config, EventStream};

const WINDOW: Duration = Duration::from_millis(100);

fn news() -> Topic {
    Topic::new("news").unwrap()
}

/// A stream of `news` from now, past its opening comment.
async fn open(broker: &MemoryBroker, config: &Config) -> EventStream<MemorySubscription> {
    let subscription = broker
        .subscribe(&Selector::one(news()), None, &Access::public())
        .unwrap();
    let mut stream = EventStream::new(subscription, config);
    assert_eq!(&stream.next().await.unwrap()[..], b": ok\n\n");
    stream
}

async fn publish(broker: &MemoryBroker, data: &'static str) {
    broker.publish(&[news()], Event::new(data)).await.unwrap();
}

/// The frame ready now, if any, as text (a writer's poll: one that finds nothing ready ends
/// a run of frames).
fn ready(stream: &mut EventStream<MemorySubscription>) -> Option<String> {
    let frame: Option<Option<Bytes>> = stream.next().now_or_never();
    frame.map(|f| String::from_utf8(f.expect("the stream goes on").to_vec()).unwrap())
}

fn data_of(frame: Option<String>) -> String {
    let frame = frame.expect("a frame is ready");
    frame
        .lines()
        .find_map(|l| l.strip_prefix("data: "))
        .unwrap_or_else(|| panic!("no data in {frame:?}"))
        .to_owned()
}

#[tokio::test(start_paused = true)]
async fn a_busy_stream_waits_for_the_window_and_a_quiet_one_does_not() {
    let broker = MemoryBroker::default();
    let config = Config::default()
        .with_keep_alive(None)
        .with_coalesce(Some(WINDOW));
    let mut stream = open(&broker, &config).await;

    // The first event of a quiet period: at once.
    publish(&broker, "one").await;
    assert_eq!(data_of(ready(&mut stream)), "one");
    // The window is now open: what arrives in it waits, to its last instant.
    assert_eq!(ready(&mut stream), None);
    tokio::time::advance(Duration::from_millis(10)).await;
    publish(&broker, "two").await;
    publish(&broker, "three").await;
    assert_eq!(ready(&mut stream), None, "held in the window");
    tokio::time::advance(Duration::from_millis(89)).await;
    assert_eq!(ready(&mut stream), None, "held to the window's end");
    // The window closes: both, one after the other, with nothing in between.
    tokio::time::advance(Duration::from_millis(1)).await;
    assert_eq!(data_of(ready(&mut stream)), "two");
    assert_eq!(data_of(ready(&mut stream)), "three");
    // A writer takes frames until none is ready: then that run opens the next window.
    assert_eq!(ready(&mut stream), None);
    publish(&broker, "four").await;
    assert_eq!(ready(&mut stream), None);
    tokio::time::advance(WINDOW).await;
    assert_eq!(data_of(ready(&mut stream)), "four");

    // A quiet period (the window after "four" closes with nothing in it): the next event
    // goes out at once again.
    tokio::time::advance(WINDOW * 3).await;
    assert_eq!(ready(&mut stream), None);
    publish(&broker, "five").await;
    assert_eq!(data_of(ready(&mut stream)), "five");
}

#[tokio::test(start_paused = true)]
async fn without_a_window_every_event_goes_at_once() {
    let broker = MemoryBroker::default();
    let mut stream = open(&broker, &Config::default().with_keep_alive(None)).await;
    for data in ["one", "two", "three"] {
        publish(&broker, data).await;
        assert_eq!(data_of(ready(&mut stream)), data);
    }
    assert_eq!(ready(&mut stream), None);
}

#[tokio::test(start_paused = true)]
async fn the_window_wakes_the_task_that_waits() {
    let broker = MemoryBroker::default();
    let config = Config::default()
        .with_keep_alive(None)
        .with_coalesce(Some(WINDOW));
    let mut stream = open(&broker, &config).await;
    publish(&broker, "one").await;
    assert_eq!(data_of(ready(&mut stream)), "one");
    assert_eq!(ready(&mut stream), None);
    publish(&broker, "two").await;
    // A task waiting on the stream is woken by the window's end (time auto-advances).
    let start = tokio::time::Instant::now();
    let frame = stream.next().await.unwrap();
    assert!(String::from_utf8_lossy(&frame).contains("data: two"));
    assert_eq!(start.elapsed(), WINDOW);
}

#[tokio::test(start_paused = true)]
async fn shutdown_does_not_wait_for_the_window_and_the_cursor_resumes_the_held_events() {
    let broker = MemoryBroker::default();
    let config = Config::default()
        .with_keep_alive(None)
        .with_coalesce(Some(Duration::from_secs(10)));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let subscription = broker
        .subscribe(&Selector::one(news()), None, &Access::public())
        .unwrap();
    let mut stream = EventStream::new(subscription, &config).with_shutdown(async move {
        let _ = stopped.await;
    });
    assert_eq!(&stream.next().await.unwrap()[..], b": ok\n\n");
    publish(&broker, "one").await;
    assert_eq!(data_of(ready(&mut stream)), "one");
    let after_one = stream.cursor();
    assert_eq!(ready(&mut stream), None);
    publish(&broker, "two").await;
    assert_eq!(ready(&mut stream), None, "held");
    stop.send(()).unwrap();
    assert_eq!(stream.next().now_or_never(), Some(None), "ended at once");
    // The client resumes from the last event it was sent: the held one comes then.
    let resumed = broker
        .subscribe(&Selector::one(news()), Some(after_one), &Access::public())
        .unwrap();
    let mut resumed = EventStream::new(resumed, &Config::default().with_keep_alive(None));
    assert_eq!(&resumed.next().await.unwrap()[..], b": ok\n\n");
    assert_eq!(data_of(ready(&mut resumed)), "two");
}
