//! The server session, driven without a runtime: frames in, frames out, simulated time, on a
//! `MemoryBroker` (its futures complete at once; a no-op waker polls them).

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use http::request::Parts;
use push_broker::{Config as BrokerConfig, MemoryBroker};
use push_core::{Access, Broker, Cursor, Event, Selector, Topic};
use push_http::{Hooks, Open, Refusal};
use push_stomp::{
    Command, Config, Decoder, Frame, Item, Limits, NoPublish, OpenPublish, Publish, Session,
    Transmit,
};

/// What the client saw: frames, heart-beats, and the close.
#[derive(Debug, PartialEq)]
enum Seen {
    Frame(Frame),
    Beat,
    Close,
}

struct Peer<H: Hooks, P: Publish> {
    session: Session<MemoryBroker, H, P>,
    broker: MemoryBroker,
    now: Instant,
}

fn request() -> Parts {
    http::Request::get("/stomp")
        .body(())
        .unwrap()
        .into_parts()
        .0
}

fn peer_with<H: Hooks, P: Publish>(hooks: H, publish: P, config: Config) -> Peer<H, P> {
    let broker = MemoryBroker::with_epoch(BrokerConfig::default(), 7);
    // The starting point of simulated time; nothing reads the clock after it.
    #[allow(clippy::disallowed_methods)]
    let now = Instant::now();
    let session = Session::new(broker.clone(), hooks, publish, request(), config, None, now);
    Peer {
        session,
        broker,
        now,
    }
}

fn peer() -> Peer<Open, OpenPublish> {
    peer_with(Open, OpenPublish, Config::default())
}

impl<H: Hooks, P: Publish> Peer<H, P> {
    fn send(&mut self, wire: &str) {
        self.session.handle_bytes(wire.as_bytes(), self.now);
    }

    fn drain(&mut self) -> Vec<Seen> {
        let mut cx = Context::from_waker(Waker::noop());
        let mut seen = Vec::new();
        for _ in 0..1000 {
            let _ = self.session.poll_ready(&mut cx);
            match self.session.poll_transmit(&mut cx) {
                Poll::Ready(Some(transmit @ (Transmit::Bytes(_) | Transmit::Message { .. }))) => {
                    let bytes = match transmit {
                        Transmit::Message { head, tail, text } => {
                            let joined = [&head[..], &tail[..]].concat();
                            assert_eq!(text, core::str::from_utf8(&joined).is_ok());
                            joined
                        }
                        Transmit::Bytes(bytes) => bytes.to_vec(),
                        _ => unreachable!(),
                    };
                    let mut decoder = Decoder::new(Limits::default());
                    decoder.feed(&bytes);
                    match decoder.poll().unwrap().unwrap() {
                        Item::Frame(frame) => seen.push(Seen::Frame(frame)),
                        Item::Heartbeat => seen.push(Seen::Beat),
                    }
                    assert_eq!(decoder.buffered(), 0, "one frame per message");
                }
                Poll::Ready(Some(Transmit::Close)) => seen.push(Seen::Close),
                Poll::Ready(None) | Poll::Pending => return seen,
                Poll::Ready(Some(other)) => panic!("unexpected {other:?}"),
            }
        }
        panic!("the session never stopped transmitting");
    }

    fn connect(&mut self) {
        self.send("CONNECT\naccept-version:1.0,1.1,1.2\nhost:hub\n\n\0");
        let seen = self.drain();
        assert!(matches!(&seen[..], [Seen::Frame(f)] if f.command() == Command::Connected));
    }

    fn publish(&self, topic: &str, data: &'static str) -> Cursor {
        let topics = [Topic::new(topic).unwrap()];
        let fut = pin!(self.broker.publish(&topics, Event::new(data)));
        match fut.poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(cursor) => cursor.unwrap(),
            Poll::Pending => panic!("the memory broker publishes at once"),
        }
    }
}

fn frame(seen: &Seen) -> &Frame {
    match seen {
        Seen::Frame(f) => f,
        other => panic!("expected a frame, saw {other:?}"),
    }
}

fn error_message(seen: &[Seen]) -> &str {
    match seen {
        [Seen::Frame(f), Seen::Close] if f.command() == Command::Error => {
            f.header("message").unwrap()
        }
        other => panic!("expected ERROR then close, saw {other:?}"),
    }
}

#[test]
fn connect_negotiates_the_version_and_heart_beats() {
    let mut p = peer();
    p.send("STOMP\naccept-version:1.1,1.0\nheart-beat:0,5000\n\n\0");
    let seen = p.drain();
    let connected = frame(&seen[0]);
    assert_eq!(connected.command(), Command::Connected);
    assert_eq!(connected.header("version"), Some("1.1"));
    // The server sends every max(10 s offered, 5 s wished); it wants none (the client sends none).
    assert_eq!(connected.header("heart-beat"), Some("10000,0"));
    // Checked every half interval: the first check finds `CONNECTED` sent, the second nothing.
    assert_eq!(
        p.session.poll_timeout(),
        Some(p.now + Duration::from_secs(5))
    );
    p.now += Duration::from_secs(5);
    p.session.handle_timeout(p.now);
    assert_eq!(p.drain(), []);
    p.now += Duration::from_secs(5);
    p.session.handle_timeout(p.now);
    assert_eq!(p.drain(), [Seen::Beat]);
}

#[test]
fn messages_in_time_stand_in_for_heart_beats_and_silence_brings_one_within_the_interval() {
    let mut p = peer();
    p.send("CONNECT\naccept-version:1.2\nheart-beat:0,4000\n\n\0");
    p.drain();
    p.send("SUBSCRIBE\nid:0\ndestination:/topic/t\n\n\0");
    p.drain();
    let start = p.now;
    // A message every 3 s for a minute: the session sends no beat.
    let mut last_message = start;
    while p.now < start + Duration::from_secs(60) {
        let next = p.now + Duration::from_secs(3);
        while p.session.poll_timeout().is_some_and(|at| at <= next) {
            p.now = p.session.poll_timeout().unwrap();
            p.session.handle_timeout(p.now);
            assert_eq!(p.drain(), [], "a beat while messages flow");
        }
        p.now = next;
        p.publish("t", "x");
        assert!(matches!(&p.drain()[..], [Seen::Frame(f)] if f.command() == Command::Message));
        last_message = p.now;
    }
    // Then silence: the first beat comes no later than one interval after the last message.
    loop {
        p.now = p.session.poll_timeout().unwrap();
        p.session.handle_timeout(p.now);
        if p.drain() == [Seen::Beat] {
            break;
        }
    }
    assert!(
        p.now - last_message <= Duration::from_secs(10),
        "{:?}",
        p.now - last_message
    );
}

#[test]
fn a_silent_client_is_closed_after_twice_its_interval() {
    let mut p = peer();
    p.send("CONNECT\naccept-version:1.2\nheart-beat:4000,0\n\n\0");
    let connected = p.drain();
    assert_eq!(frame(&connected[0]).header("heart-beat"), Some("0,10000"));
    p.now += Duration::from_secs(19);
    p.send("\n");
    p.now += Duration::from_secs(19);
    p.session.handle_timeout(p.now);
    assert_eq!(p.drain(), []);
    p.now += Duration::from_secs(1);
    p.session.handle_timeout(p.now);
    assert!(error_message(&p.drain()).contains("heart-beat"));
}

#[test]
fn no_shared_version_and_frames_before_connect_are_errors() {
    let mut p = peer();
    p.send("CONNECT\naccept-version:2.0\n\n\0");
    assert!(error_message(&p.drain()).contains("1.2,1.1,1.0"));
    let mut p = peer();
    p.send("SEND\ndestination:/topic/a\n\n\0");
    assert!(error_message(&p.drain()).contains("CONNECT"));
}

#[test]
fn subscribers_receive_messages_with_every_header() {
    let mut p = peer();
    p.connect();
    p.send("SUBSCRIBE\nid:s1\ndestination:/topic/news\nreceipt:r1\n\n\0");
    let seen = p.drain();
    assert_eq!(frame(&seen[0]).header("receipt-id"), Some("r1"));
    let cursor = p.publish("news", "hello");
    let seen = p.drain();
    let message = frame(&seen[0]);
    assert_eq!(message.command(), Command::Message);
    assert_eq!(message.header("subscription"), Some("s1"));
    assert_eq!(message.header("destination"), Some("/topic/news"));
    assert_eq!(message.header("message-id"), Some(cursor.text().as_str()));
    assert_eq!(message.header("content-length"), Some("5"));
    assert_eq!(message.header("ack"), None, "auto mode asks for no ACK");
    assert_eq!(&message.body()[..], b"hello");
}

#[test]
fn queues_are_refused_with_an_error_that_says_so() {
    let mut p = peer();
    p.connect();
    p.send("SUBSCRIBE\nid:s1\ndestination:/queue/jobs\n\n\0");
    assert!(error_message(&p.drain()).contains("competing consumers"));
}

#[test]
fn send_publishes_to_subscribers_of_every_transport_and_needs_permission() {
    let mut p = peer();
    p.connect();
    p.send("SUBSCRIBE\nid:0\ndestination:/topic/chat\n\n\0");
    p.send("SEND\ndestination:/topic/chat\nreceipt:77\ncontent-length:3\n\na\0b\0");
    let seen = p.drain();
    let commands: Vec<_> = seen.iter().map(|s| frame(s).command()).collect();
    assert_eq!(commands, [Command::Receipt, Command::Message]);
    assert_eq!(&frame(&seen[1]).body()[..], b"a\0b");
    let mut refused = peer_with(Open, NoPublish, Config::default());
    refused.connect();
    refused.send("SEND\ndestination:/topic/chat\n\nx\0");
    assert!(error_message(&refused.drain()).contains("not enabled"));
}

#[test]
fn client_ack_bounds_unacknowledged_messages_and_acks_cumulatively() {
    let mut p = peer_with(Open, OpenPublish, Config::default().with_prefetch(2));
    p.connect();
    p.send("SUBSCRIBE\nid:s\ndestination:/topic/t\nack:client\n\n\0");
    assert_eq!(p.drain(), []);
    for data in ["1", "2", "3"] {
        p.publish("t", data);
    }
    let seen = p.drain();
    assert_eq!(seen.len(), 2, "the prefetch window holds two: {seen:?}");
    let second = frame(&seen[1]).header("ack").unwrap().to_owned();
    p.send(&format!("ACK\nid:{second}\n\n\0"));
    let seen = p.drain();
    assert_eq!(seen.len(), 1);
    assert_eq!(&frame(&seen[0]).body()[..], b"3");
    p.send(&format!("ACK\nid:{second}\n\n\0"));
    assert!(error_message(&p.drain()).contains("awaits no acknowledgement"));
}

#[test]
fn nack_redelivers_from_that_message() {
    let mut p = peer();
    p.connect();
    p.send("SUBSCRIBE\nid:s\ndestination:/topic/t\nack:client-individual\n\n\0");
    assert_eq!(p.drain(), []);
    p.publish("t", "1");
    p.publish("t", "2");
    let seen = p.drain();
    let first = frame(&seen[0]).header("ack").unwrap().to_owned();
    p.send(&format!("NACK\nid:{first}\n\n\0"));
    let bodies: Vec<_> = p.drain().iter().map(|s| frame(s).body().clone()).collect();
    assert_eq!(bodies, ["1", "2"]);
}

#[test]
fn the_resume_header_continues_after_a_message_and_a_loss_is_a_marked_message() {
    let mut p = peer();
    p.connect();
    let first = p.publish("t", "1");
    p.publish("t", "2");
    p.send(&format!(
        "SUBSCRIBE\nid:s\ndestination:/topic/t\nx-resume-after:{}\n\n\0",
        first.text().as_str()
    ));
    let bodies: Vec<_> = p.drain().iter().map(|s| frame(s).body().clone()).collect();
    assert_eq!(bodies, ["2"]);
    // A cursor of another epoch (a restarted hub): the loss is announced, then what remains.
    let foreign = Cursor::new(99, 1);
    p.send(&format!(
        "SUBSCRIBE\nid:g\ndestination:/topic/t\nx-resume-after:{}\n\n\0",
        foreign.text().as_str()
    ));
    let seen = p.drain();
    let gap = frame(&seen[0]);
    assert_eq!(gap.header("subscription"), Some("g"));
    assert!(gap.header("x-gap").is_some(), "{gap:?}");
    assert_eq!(gap.body().len(), 0);
    assert_eq!(
        seen.len(),
        3,
        "the gap, then both retained events: {seen:?}"
    );
}

#[test]
fn transactions_hold_sends_until_commit_and_drop_them_on_abort() {
    let mut p = peer();
    p.connect();
    p.send("SUBSCRIBE\nid:s\ndestination:/topic/t\n\n\0");
    p.send("BEGIN\ntransaction:x\n\n\0SEND\ndestination:/topic/t\ntransaction:x\n\nkept\0");
    p.send("BEGIN\ntransaction:y\n\n\0SEND\ndestination:/topic/t\ntransaction:y\n\ndropped\0");
    assert_eq!(p.drain(), []);
    p.send("ABORT\ntransaction:y\n\n\0COMMIT\ntransaction:x\nreceipt:c\n\n\0");
    let seen = p.drain();
    assert_eq!(frame(&seen[0]).header("receipt-id"), Some("c"));
    assert_eq!(&frame(&seen[1]).body()[..], b"kept");
    assert_eq!(seen.len(), 2);
    p.send("COMMIT\ntransaction:y\n\n\0");
    assert!(error_message(&p.drain()).contains("not begun"));
}

#[test]
fn disconnect_is_answered_with_its_receipt_then_the_close() {
    let mut p = peer();
    p.connect();
    p.send("DISCONNECT\nreceipt:bye\n\n\0");
    let seen = p.drain();
    assert_eq!(frame(&seen[0]).header("receipt-id"), Some("bye"));
    assert_eq!(seen[1], Seen::Close);
    assert_eq!(seen.len(), 2);
}

#[test]
fn a_frame_over_a_limit_is_an_error_naming_the_limit() {
    let limits = Limits::default().with_max_frame_size(64);
    let mut p = peer_with(Open, OpenPublish, Config::default().with_limits(limits));
    p.connect();
    p.send(&format!("SEND\ndestination:/topic/t\n\n{}", "x".repeat(80)));
    assert!(error_message(&p.drain()).contains("maximum frame size"));
}

/// Hooks that admit only the bearer token `secret`.
#[derive(Clone)]
struct Token;

impl Hooks for Token {
    async fn authorize(&self, request: &Parts, _selector: &Selector) -> Result<Access, Refusal> {
        match request.headers.get("authorization") {
            Some(v) if v == "Bearer secret" => Ok(Access::public()),
            _ => Err(Refusal::unauthorized("Bearer", "a valid token is required")),
        }
    }
}

#[test]
fn the_passcode_is_the_bearer_token_of_the_authorization_hook() {
    let mut p = peer_with(Token, OpenPublish, Config::default());
    p.send("CONNECT\naccept-version:1.2\nlogin:me\npasscode:secret\n\n\0");
    p.send("SUBSCRIBE\nid:s\ndestination:/topic/t\nreceipt:ok\n\n\0");
    let seen = p.drain();
    assert_eq!(frame(&seen[1]).header("receipt-id"), Some("ok"));
    let mut p = peer_with(Token, OpenPublish, Config::default());
    p.send("CONNECT\naccept-version:1.2\npasscode:wrong\n\n\0");
    p.send("SUBSCRIBE\nid:s\ndestination:/topic/t\nreceipt:no\n\n\0");
    let seen = p.drain();
    assert_eq!(error_message(&seen[1..]), "a valid token is required");
    assert_eq!(frame(&seen[1]).header("receipt-id"), Some("no"));
}

/// Hooks whose login accepts only the bearer token `secret` (and every subscription after it).
#[derive(Clone)]
struct Login;

impl Hooks for Login {
    async fn authenticate(&self, request: &Parts) -> Result<(), Refusal> {
        match request.headers.get("authorization") {
            Some(v) if v == "Bearer secret" => Ok(()),
            _ => Err(Refusal::unauthorized("Bearer", "bad login")),
        }
    }
}

#[test]
fn a_bad_login_is_an_error_at_connect_and_later_frames_are_not_handled() {
    let mut p = peer_with(Login, OpenPublish, Config::default());
    p.send("CONNECT\naccept-version:1.2\npasscode:wrong\nreceipt:c\n\n\0");
    p.send("SUBSCRIBE\nid:s\ndestination:/topic/t\nreceipt:s\n\n\0");
    let seen = p.drain();
    assert_eq!(error_message(&seen), "bad login");
    assert_eq!(frame(&seen[0]).header("receipt-id"), Some("c"));
    assert_eq!(p.session.version(), None, "never connected");

    let mut p = peer_with(Login, OpenPublish, Config::default());
    p.send("CONNECT\naccept-version:1.2\nheart-beat:0,0\npasscode:secret\n\n\0");
    p.send("SUBSCRIBE\nid:s\ndestination:/topic/t\nreceipt:s\n\n\0");
    let seen = p.drain();
    assert_eq!(frame(&seen[0]).command(), Command::Connected);
    assert_eq!(frame(&seen[1]).header("receipt-id"), Some("s"));
}
