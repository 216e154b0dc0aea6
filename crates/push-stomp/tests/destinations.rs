//! What a `MESSAGE` is made of when many subscribers receive one event, and what a destination
//! selects: the shared tail encoded once per event and version (one `Bytes` for every
//! subscriber), the per-subscription head beside it, URI-template and `*` destinations, and the
//! destination of an event published on several topics. Sessions driven without a runtime on
//! one `MemoryBroker`.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use bytes::Bytes;
use push_broker::{Config as BrokerConfig, MemoryBroker};
use push_core::{Broker, Event, Topic};
use push_http::Open;
use push_stomp::{Command, Config, Decoder, Frame, Item, Limits, OpenPublish, Session, Transmit};

type Peer = Session<MemoryBroker, Open, OpenPublish>;

fn peer(broker: &MemoryBroker, version: &str) -> Peer {
    let request = http::Request::get("/stomp")
        .body(())
        .unwrap()
        .into_parts()
        .0;
    // Simulated time: nothing here depends on it.
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let mut session = Session::new(
        broker.clone(),
        Open,
        OpenPublish,
        request,
        Config::default(),
        None,
        now,
    );
    let connect = format!("CONNECT\naccept-version:{version}\nhost:hub\n\n\0");
    session.handle_bytes(connect.as_bytes(), now);
    assert_eq!(frames(&mut session)[0].command(), Command::Connected);
    session
}

fn transmits(session: &mut Peer) -> Vec<Transmit> {
    let mut cx = Context::from_waker(Waker::noop());
    let mut out = Vec::new();
    for _ in 0..100 {
        let _ = session.poll_ready(&mut cx);
        match session.poll_transmit(&mut cx) {
            Poll::Ready(Some(t)) => out.push(t),
            Poll::Ready(None) | Poll::Pending => return out,
        }
    }
    panic!("the session never stopped transmitting");
}

fn decode(bytes: &[u8]) -> Frame {
    let mut decoder = Decoder::new(Limits::default());
    decoder.feed(bytes);
    let Some(Item::Frame(frame)) = decoder.poll().unwrap() else {
        panic!("a frame in {bytes:?}");
    };
    assert_eq!(decoder.buffered(), 0);
    frame
}

fn frames(session: &mut Peer) -> Vec<Frame> {
    transmits(session)
        .into_iter()
        .filter_map(|t| match t {
            Transmit::Bytes(bytes) => Some(decode(&bytes)),
            Transmit::Message { head, tail, .. } => Some(decode(&[&head[..], &tail[..]].concat())),
            _ => None,
        })
        .collect()
}

fn send(session: &mut Peer, wire: &str) -> Vec<Frame> {
    #[allow(clippy::disallowed_methods)]
    session.handle_bytes(wire.as_bytes(), Instant::now());
    frames(session)
}

fn publish(broker: &MemoryBroker, topics: &[&str], event: Event) {
    let topics: Vec<Topic> = topics.iter().map(|t| Topic::new(t).unwrap()).collect();
    let fut = pin!(broker.publish(&topics, event));
    let Poll::Ready(Ok(_)) = fut.poll(&mut Context::from_waker(Waker::noop())) else {
        panic!("the memory broker publishes at once");
    };
}

/// The parts of the one `MESSAGE` a session transmits.
fn parts(session: &mut Peer) -> (Bytes, Bytes, bool) {
    match &transmits(session)[..] {
        [Transmit::Message { head, tail, text }] => (head.clone(), tail.clone(), *text),
        other => panic!("one MESSAGE in two parts, saw {other:?}"),
    }
}

#[test]
fn every_subscriber_of_an_event_shares_one_encoded_tail() {
    let broker = MemoryBroker::with_epoch(BrokerConfig::default(), 7);
    let mut auto = peer(&broker, "1.2");
    let mut client = peer(&broker, "1.2");
    let mut old = peer(&broker, "1.0");
    send(&mut auto, "SUBSCRIBE\nid:a\ndestination:/topic/news\n\n\0");
    send(
        &mut client,
        "SUBSCRIBE\nid:c\ndestination:news\nack:client\n\n\0",
    );
    send(&mut old, "SUBSCRIBE\nid:o\ndestination:/topic/news\n\n\0");
    let mut event = Event::new("colon: here");
    event.event = Some("note:1".into());
    publish(&broker, &["news"], event);

    let (auto_head, auto_tail, text) = parts(&mut auto);
    let (client_head, client_tail, _) = parts(&mut client);
    let (old_head, old_tail, _) = parts(&mut old);
    assert!(text);
    // The first subscriber's frame is cached whole (its head inside), the others share its
    // tail: one encoding per event and version, the same bytes, not equal copies.
    assert!(auto_head.is_empty());
    assert!(auto_tail.starts_with(b"MESSAGE\nsubscription:a\n"));
    assert_eq!(auto_tail.as_ptr_range().end, client_tail.as_ptr_range().end);
    assert!(auto_tail.ends_with(&client_tail));
    assert_ne!(auto_tail.as_ptr_range().end, old_tail.as_ptr_range().end);
    let client_frame = decode(&[&client_head[..], &client_tail[..]].concat());
    assert_eq!(client_frame.header("subscription"), Some("c"));
    let id = client_frame.header("message-id").unwrap();
    assert_eq!(client_frame.header("ack"), Some(format!("c/{id}").as_str()));
    // Escaped in 1.2 (`\c`), raw in 1.0, each decoded back to the same text.
    assert!(auto_tail.windows(8).any(|w| w == b"note\\c1\n"));
    assert!(old_tail.windows(7).any(|w| w == b"note:1\n"));
    let old_frame = decode(&[&old_head[..], &old_tail[..]].concat());
    for frame in [&client_frame, &old_frame] {
        assert_eq!(frame.header("destination"), Some("/topic/news"));
        assert_eq!(frame.header("x-event-type"), Some("note:1"));
        assert_eq!(frame.header("content-length"), Some("11"));
        // `text/` implies UTF-8 in STOMP 1.1 and 1.2: no `charset` parameter.
        assert_eq!(frame.header("content-type"), Some("text/plain"));
        assert_eq!(&frame.body()[..], b"colon: here");
    }
}

#[test]
fn subscriptions_named_alike_share_one_whole_frame_and_others_join_their_head() {
    let broker = MemoryBroker::with_epoch(BrokerConfig::default(), 7);
    // Browsers running stomp.js all call their first subscription `sub-0`.
    let mut peers: Vec<Peer> = (0..3).map(|_| peer(&broker, "1.2")).collect();
    for p in &mut peers[..2] {
        send(p, "SUBSCRIBE\nid:sub-0\ndestination:/topic/news\n\n\0");
    }
    send(
        &mut peers[2],
        "SUBSCRIBE\nid:mine\ndestination:/topic/news\n\n\0",
    );
    publish(&broker, &["news"], Event::new("hello"));

    let got: Vec<(Bytes, Bytes, bool)> = peers.iter_mut().map(parts).collect();
    let (first, second, other) = (&got[0], &got[1], &got[2]);
    // Named alike: no head to join, the very same bytes.
    assert!(first.0.is_empty() && second.0.is_empty());
    assert_eq!(first.1.as_ptr(), second.1.as_ptr());
    assert_eq!(first.1.len(), second.1.len());
    // Named otherwise: its own head, the shared tail.
    assert_eq!(&other.0[..], b"MESSAGE\nsubscription:mine\n");
    assert_eq!(first.1.as_ptr_range().end, other.1.as_ptr_range().end);
    for (head, tail, text) in &got {
        assert!(text);
        let frame = decode(&[&head[..], &tail[..]].concat());
        assert_eq!(frame.command(), Command::Message);
        assert_eq!(&frame.body()[..], b"hello");
        assert_eq!(frame.header("destination"), Some("/topic/news"));
    }
    let own = decode(&[&other.0[..], &other.1[..]].concat());
    assert_eq!(own.header("subscription"), Some("mine"));
    assert_eq!(decode(&second.1).header("subscription"), Some("sub-0"));
}

#[test]
fn binary_events_are_binary_messages_with_their_length() {
    let broker = MemoryBroker::with_epoch(BrokerConfig::default(), 7);
    let mut p = peer(&broker, "1.2");
    send(&mut p, "SUBSCRIBE\nid:a\ndestination:/topic/raw\n\n\0");
    publish(&broker, &["raw"], Event::new(vec![0xff, 0, 1]));
    let (head, tail, text) = parts(&mut p);
    assert!(!text);
    let frame = decode(&[&head[..], &tail[..]].concat());
    assert_eq!(
        frame.header("content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(&frame.body()[..], &[0xff, 0, 1]);
}

#[test]
fn template_and_star_destinations_select_topics_as_mercure_does() {
    let broker = MemoryBroker::with_epoch(BrokerConfig::default(), 7);
    let mut books = peer(&broker, "1.2");
    let mut every = peer(&broker, "1.2");
    let receipt = send(
        &mut books,
        "SUBSCRIBE\nid:b\ndestination:/topic/books/{id}\nreceipt:r\n\n\0",
    );
    assert_eq!(receipt[0].header("receipt-id"), Some("r"));
    send(&mut every, "SUBSCRIBE\nid:e\ndestination:*\n\n\0");
    publish(&broker, &["authors/9"], Event::new("not a book"));
    publish(&broker, &["books/1"], Event::new("a book"));

    let seen = frames(&mut books);
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(&seen[0].body()[..], b"a book");
    // The destination is the topic the event went to, not the template.
    assert_eq!(seen[0].header("destination"), Some("/topic/books/1"));
    let seen = frames(&mut every);
    let destinations: Vec<_> = seen.iter().map(|f| f.header("destination")).collect();
    assert_eq!(
        destinations,
        [Some("/topic/authors/9"), Some("/topic/books/1")]
    );

    // A SEND names one topic: a template is refused, not published under its text.
    let refused = send(&mut every, "SEND\ndestination:/topic/books/{id}\n\nx\0");
    assert_eq!(refused[0].command(), Command::Error);
    assert!(
        refused[0]
            .header("message")
            .unwrap()
            .contains("not a selector")
    );
}

#[test]
fn an_event_on_several_topics_names_the_one_the_subscription_selects() {
    let broker = MemoryBroker::with_epoch(BrokerConfig::default(), 7);
    let mut second = peer(&broker, "1.2");
    let mut first = peer(&broker, "1.2");
    send(&mut second, "SUBSCRIBE\nid:s\ndestination:/topic/b\n\n\0");
    send(&mut first, "SUBSCRIBE\nid:f\ndestination:/topic/a\n\n\0");
    publish(&broker, &["a", "b"], Event::new("both"));
    assert_eq!(
        frames(&mut second)[0].header("destination"),
        Some("/topic/b")
    );
    assert_eq!(
        frames(&mut first)[0].header("destination"),
        Some("/topic/a")
    );
}
