//! One event's `MESSAGE` tail is encoded once for every subscriber of a STOMP version, even when
//! the other transports of a hub (SSE twice, long polling, WebSocket) have cached their own
//! encodings of it first.

use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use bytes::Bytes;
use futures_core::Stream;
use http::request::Parts;
use push_broker::{Config as BrokerConfig, MemoryBroker};
use push_core::{Access, Broker, Delivery, Event, Selector, Topic};
use push_http::Open;
use push_stomp::{Config, OpenPublish, Session, Transmit};

type Peer = Session<MemoryBroker, Open, OpenPublish>;

fn request() -> Parts {
    http::Request::get("/stomp")
        .body(())
        .unwrap()
        .into_parts()
        .0
}

/// Every `MESSAGE` tail the session hands out until it has nothing more.
fn tails(session: &mut Peer) -> Vec<Bytes> {
    let mut cx = Context::from_waker(Waker::noop());
    let mut tails = Vec::new();
    for _ in 0..100 {
        let _ = session.poll_ready(&mut cx);
        match session.poll_transmit(&mut cx) {
            Poll::Ready(Some(Transmit::Message { tail, .. })) => tails.push(tail),
            Poll::Ready(Some(_)) => {}
            Poll::Ready(None) | Poll::Pending => return tails,
        }
    }
    panic!("the session never stopped transmitting");
}

/// Other transports' encodings, cached on the event before STOMP's.
struct Other<const N: usize>;

#[test]
fn a_stomp_tail_is_shared_after_four_other_encodings() {
    let broker = MemoryBroker::with_epoch(BrokerConfig::default(), 7);
    let topic = Topic::new("news").unwrap();
    let mut watcher = broker
        .subscribe(&Selector::one(topic.clone()), None, &Access::public())
        .unwrap();
    // The starting point of simulated time; nothing reads the clock after it.
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let mut peers: Vec<Peer> = (0..2)
        .map(|_| {
            let mut session = Session::new(
                broker.clone(),
                Open,
                OpenPublish,
                request(),
                Config::default(),
                None,
                now,
            );
            session.handle_bytes(b"CONNECT\naccept-version:1.1\nhost:hub\n\n\0", now);
            session.handle_bytes(b"SUBSCRIBE\nid:s\ndestination:/topic/news\n\n\0", now);
            assert!(tails(&mut session).is_empty(), "CONNECTED only");
            session
        })
        .collect();

    let publish = std::pin::pin!(broker.publish(std::slice::from_ref(&topic), Event::new("hi")));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(matches!(publish.poll(&mut cx), Poll::Ready(Ok(_))));
    let Poll::Ready(Some(Delivery::Event(published))) = Pin::new(&mut watcher).poll_next(&mut cx)
    else {
        panic!("the watcher receives the event");
    };
    // SSE (with and without the event's id), long polling and WebSocket got there first.
    published.encoded::<Other<0>>(|_| Bytes::from_static(b"sse"));
    published.encoded::<Other<1>>(|_| Bytes::from_static(b"sse-id"));
    published.encoded::<Other<2>>(|_| Bytes::from_static(b"long-poll"));
    published.encoded::<Other<3>>(|_| Bytes::from_static(b"ws"));

    let first = tails(&mut peers[0]);
    let second = tails(&mut peers[1]);
    assert_eq!((first.len(), second.len()), (1, 1));
    assert_eq!(first[0], second[0]);
    assert_eq!(
        first[0].as_ptr(),
        second[0].as_ptr(),
        "both subscribers write the one cached tail"
    );
}
