//! Callbacks on the `push-hub` binary (a real process, killed for real) with a verifying
//! receiver on loopback: retries then exactly one effect in cursor order, a delivery that
//! survives a hub kill while its receiver is down, `410` disables (with the event saying so),
//! `Retry-After` honoured, the receiver refusing a tampered body or an old timestamp, the
//! registration API's authorization, idempotence and rotation. Short schedules by flags; no
//! assertion on how long anything took, only on order and on lower bounds.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use push_core::Broker as _;
use push_hub::token::Claims;
use push_webhook::{Secret, Trusted, Verifier};
use serde_json::{Value, json};
use support::{Binary, KEY, curl};

use crate::support;

use crate::receiver;

use receiver::{Answer, Receiver};

/// The test schedule: three fast attempts 100 ms apart, then three from the queue.
const FAST: [&str; 6] = [
    "--callbacks-allow-private",
    "--callbacks-schedule",
    "0,100ms,100ms,300ms,300ms,300ms",
    "--callbacks-fast-attempts",
    "3",
    "--anonymous",
];

fn hub_in(dir: Option<std::path::PathBuf>, extra: &[&str]) -> Binary {
    let mut flags = vec!["--addr", "127.0.0.1:0", "--jwt-key", KEY];
    flags.extend(FAST);
    flags.extend(extra);
    match dir {
        Some(dir) => Binary::start_in(dir, &[], &flags),
        None => Binary::start(&[], &flags),
    }
}

fn subscriber(topic: &str) -> String {
    support::token(Claims::new().subscribe(topic))
}

/// `curl` of the callbacks API: the status and the JSON answer.
fn call(method: &str, url: &str, token: Option<&str>, body: Option<&Value>) -> (u16, Value) {
    let mut args = vec![
        "-X".to_owned(),
        method.to_owned(),
        "-w".into(),
        "\n%{http_code}".into(),
    ];
    if let Some(token) = token {
        args.extend(["-H".into(), format!("Authorization: Bearer {token}")]);
    }
    if let Some(body) = body {
        args.extend(["-H".into(), "Content-Type: application/json".into()]);
        args.extend(["--data-binary".into(), body.to_string()]);
    }
    args.push(url.to_owned());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (ok, out, err) = curl(&args);
    assert!(ok, "{err}");
    let (json, status) = out.rsplit_once('\n').unwrap();
    (
        status.parse().unwrap(),
        serde_json::from_str(json).unwrap_or(Value::Null),
    )
}

fn register(hub: SocketAddr, token: &str, url: &str, topics: &[&str], id: &str) -> (u16, Value) {
    let body = json!({"url": url, "topics": topics, "id": id});
    call(
        "POST",
        &format!("http://{hub}/.well-known/push/callbacks"),
        Some(token),
        Some(&body),
    )
}

fn publish(hub: SocketAddr, topic: &str, data: &str) -> String {
    let token = support::token(Claims::new().publish("*"));
    let (ok, id, err) = curl(&[
        "-f",
        "-H",
        &format!("Authorization: Bearer {token}"),
        "--data-urlencode",
        &format!("topic={topic}"),
        "--data-urlencode",
        &format!("data={data}"),
        &format!("http://{hub}/.well-known/mercure"),
    ]);
    assert!(ok, "{err}");
    id
}

/// A verifying receiver on loopback and a hub in this process that may call it (private
/// addresses allowed).
async fn receiver_and_hub() -> (Receiver, support::InProcess) {
    let receiver = Receiver::start("127.0.0.1:0".parse().unwrap()).await;
    let mut args = support::args();
    args.callbacks.callbacks_allow_private = true;
    (receiver, support::start(args))
}

/// [`publish`] off the async threads (curl waits).
async fn publish_async(hub: SocketAddr, topic: &'static str, data: &'static str) -> String {
    tokio::task::spawn_blocking(move || publish(hub, topic, data))
        .await
        .unwrap()
}

fn metric(hub: SocketAddr, name: &str) -> u64 {
    let (ok, text, err) = curl(&[&format!("http://{hub}/metrics")]);
    assert!(ok, "{err}");
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .map_or(0, |v| v.trim().parse::<f64>().unwrap() as u64)
}

fn data(effect: &Value) -> String {
    effect["data"]["data"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_receiver_gets_each_event_once_in_cursor_order() {
    let receiver = Receiver::start("127.0.0.1:0".parse().unwrap()).await;
    let hub = hub_in(None, &[]);
    let token = subscriber("orders/{id}");
    let (status, registration) = register(
        hub.addr,
        &token,
        &receiver.url(),
        &["orders/{id}"],
        "client-1",
    );
    assert_eq!(status, 201, "{registration}");
    assert_eq!(registration["id"], "client-1");
    let secret: Secret = registration["secret"].as_str().unwrap().parse().unwrap();
    receiver.set_secrets(vec![secret]);
    // The first event's first two attempts fail; the others wait behind it (one in flight).
    receiver.script([Answer::status(500), Answer::status(503)]);
    for n in 1..=3 {
        publish(hub.addr, &format!("orders/{n}"), &format!("event {n}"));
    }
    publish(hub.addr, "news/1", "not selected");
    receiver
        .until("three effects", |s| s.effects.len() == 3)
        .await;
    let effects = receiver.effects();
    let order: Vec<String> = effects.iter().map(data).collect();
    assert_eq!(order, ["event 1", "event 2", "event 3"]);
    assert!(effects.iter().all(|e| e["registration"] == "client-1"));
    let attempts = receiver.attempts();
    // 2 failures, then 3 deliveries (a due-queue scan racing an attempt that just ended may
    // send one again: at least once, and the effects above are once).
    assert!(attempts.len() >= 5, "{}", attempts.len());
    // Every retry of one event carries the same webhook-id.
    let ids: Vec<&str> = attempts
        .iter()
        .map(|a| a.headers["webhook-id"].to_str().unwrap())
        .collect();
    assert_eq!(ids[0], ids[1]);
    assert_eq!(ids[1], ids[2]);
    assert_ne!(ids[2], ids[3]);
    assert!(metric(hub.addr, "push_hub_callbacks_succeeded_total") >= 3);
    assert!(metric(hub.addr, "push_hub_callbacks_failed_total") >= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_survives_a_hub_kill_while_the_receiver_is_down() {
    // A port nothing listens on until the receiver starts there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let dir = support::temp_dir();
    let mut hub = hub_in(Some(dir.clone()), &[]);
    let token = subscriber("*");
    let url = format!("http://{port}/hook");
    let (status, registration) = register(hub.addr, &token, &url, &["jobs"], "client-2");
    assert_eq!(status, 201, "{registration}");
    let secret: Secret = registration["secret"].as_str().unwrap().parse().unwrap();
    publish(hub.addr, "jobs", "survivor");
    // The three fast attempts fail (nothing listens): the delivery now waits on disk only.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while metric(hub.addr, "push_hub_callbacks_failed_total") < 3 {
        assert!(std::time::Instant::now() < deadline, "no three failures");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(metric(hub.addr, "push_hub_callbacks_queue_depth"), 1);
    hub.child.kill().unwrap();
    hub.wait(Duration::from_secs(10));
    drop(hub);

    let receiver = Receiver::start(port).await;
    receiver.set_secrets(vec![secret]);
    let hub = hub_in(Some(dir.clone()), &[]);
    receiver
        .until("the survivor", |s| s.effects.len() == 1)
        .await;
    assert_eq!(data(&receiver.effects()[0]), "survivor");
    drop(hub);
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gone_disables_the_registration_and_says_so_on_its_topic() {
    let receiver = Receiver::start("127.0.0.1:0".parse().unwrap()).await;
    let hub = hub_in(None, &[]);
    let (status, registration) = register(
        hub.addr,
        &subscriber("*"),
        &receiver.url(),
        &["a"],
        "client-3",
    );
    assert_eq!(status, 201);
    let hub_id = registration["hub_id"].as_str().unwrap().to_owned();
    receiver.set_secrets(vec![
        registration["secret"].as_str().unwrap().parse().unwrap(),
    ]);
    receiver.script([Answer::status(410)]);
    // An operator's stream of the registration's topic (its events are private).
    let topic = format!("/.well-known/mercure/callbacks/{hub_id}");
    let operator = support::token(Claims::new().subscribe("*"));
    let mut stream = sse(hub.addr, &topic, &operator);
    publish(hub.addr, "a", "first");
    let event = read_until(&mut stream, "\"reason\"");
    assert!(event.contains("event: push.callback.disabled"), "{event}");
    assert!(event.contains("\"reason\":\"gone\""), "{event}");
    let (status, shown) = call(
        "GET",
        &format!("http://{}/.well-known/push/callbacks/{hub_id}", hub.addr),
        Some(&subscriber("*")),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(shown["status"]["disabled"], "gone", "{shown}");
    assert!(
        shown.get("secret").is_none(),
        "a GET never shows the secret"
    );
    // Nothing more is sent to it.
    publish(hub.addr, "a", "second");
    publish(hub.addr, "a", "third");
    assert_eq!(metric(hub.addr, "push_hub_callbacks_disabled_total"), 1);
    assert_eq!(receiver.attempts().len(), 1);
    assert!(receiver.effects().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured_and_the_receiver_refuses_tampering() {
    let receiver = Receiver::start("127.0.0.1:0".parse().unwrap()).await;
    let hub = hub_in(None, &[]);
    let (_, registration) = register(
        hub.addr,
        &subscriber("*"),
        &receiver.url(),
        &["b"],
        "client-4",
    );
    let secret: Secret = registration["secret"].as_str().unwrap().parse().unwrap();
    receiver.set_secrets(vec![secret.clone()]);
    receiver.script([Answer {
        status: 503,
        retry_after: Some(1),
    }]);
    publish(hub.addr, "b", "later");
    receiver
        .until("the delivery", |s| s.effects.len() == 1)
        .await;
    let attempts = receiver.attempts();
    assert_eq!(attempts.len(), 2);
    // The schedule says 100 ms; the receiver asked for a second.
    assert!(attempts[1].at - attempts[0].at >= Duration::from_secs(1));

    // The delivered request, replayed tampered or stale, is refused by verification.
    let delivered = &attempts[1];
    let verifier = Verifier::new([Trusted::from(secret)]);
    let now = SystemTime::now();
    assert!(
        verifier
            .verify(&delivered.headers, &delivered.body, now)
            .is_ok()
    );
    let mut tampered = delivered.body.to_vec();
    let last = tampered.len() - 3;
    tampered[last] ^= 1;
    assert!(verifier.verify(&delivered.headers, &tampered, now).is_err());
    let sent: u64 = delivered.headers["webhook-timestamp"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    let later = UNIX_EPOCH + Duration::from_secs(sent + 10 * 60);
    assert!(
        verifier
            .verify(&delivered.headers, &delivered.body, later)
            .is_err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_are_authorized_idempotent_and_rotate() {
    let receiver = Receiver::start("127.0.0.1:0".parse().unwrap()).await;
    let hub = hub_in(None, &[]);
    let url = receiver.url();
    let token = subscriber("orders/{id}");
    // No token, a token without the grant, a private address without the flag elsewhere.
    assert_eq!(register(hub.addr, "", &url, &["orders/1"], "c").0, 401);
    let news = subscriber("news");
    let (status, refused) = register(hub.addr, &news, &url, &["orders/1"], "c");
    assert_eq!(status, 403, "{refused}");
    // An exact topic inside the grant's template is granted; another template is not.
    assert_eq!(
        register(hub.addr, &token, &url, &["orders/7"], "exact").0,
        201
    );
    assert_eq!(
        register(hub.addr, &token, &url, &["orders/{x}/items"], "t").0,
        403
    );
    let (status, first) = register(hub.addr, &token, &url, &["orders/{id}"], "c");
    assert_eq!(status, 201);
    let (status, again) = register(hub.addr, &token, &url, &["orders/{id}"], "c");
    assert_eq!(status, 200, "the network retry");
    assert_eq!(again["hub_id"], first["hub_id"]);
    assert_eq!(again["secret"], first["secret"]);
    let (status, _) = register(hub.addr, &token, &format!("{url}2"), &["orders/{id}"], "c");
    assert_eq!(status, 409);
    let hub_id = first["hub_id"].as_str().unwrap();
    let path = format!("http://{}/.well-known/push/callbacks/{hub_id}", hub.addr);
    assert_eq!(call("GET", &path, Some(&news), None).0, 403);

    // A rotation: both secrets sign until the rotation's end.
    let old: Secret = first["secret"].as_str().unwrap().parse().unwrap();
    let (status, rotated) = call("POST", &format!("{path}/rotate"), Some(&token), None);
    assert_eq!(status, 200);
    let new: Secret = rotated["secret"].as_str().unwrap().parse().unwrap();
    assert_ne!(new, old);
    receiver.set_secrets(vec![old.clone()]);
    publish(hub.addr, "orders/1", "signed twice");
    receiver.until("one effect", |s| s.effects.len() == 1).await;
    let headers = &receiver.attempts()[0].headers;
    let signatures = headers["webhook-signature"].to_str().unwrap();
    assert_eq!(signatures.split(' ').count(), 2, "{signatures}");
    let body = &receiver.attempts()[0].body;
    let now = SystemTime::now();
    assert!(
        Verifier::new([Trusted::from(new)])
            .verify(headers, body, now)
            .is_ok()
    );

    assert_eq!(call("DELETE", &path, Some(&token), None).0, 204);
    assert_eq!(call("GET", &path, Some(&token), None).0, 404);
}

/// An SSE stream of `topic` with `token`, its head read.
fn sse(hub: SocketAddr, topic: &str, token: &str) -> BufReader<TcpStream> {
    let mut tcp = TcpStream::connect(hub).unwrap();
    tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("topic", topic)
        .finish();
    write!(
        tcp,
        "GET /.well-known/mercure?{query} HTTP/1.1\r\nHost: {hub}\r\n\
         Authorization: Bearer {token}\r\n\r\n"
    )
    .unwrap();
    let mut reader = BufReader::new(tcp);
    read_until(&mut reader, "\r\n\r\n");
    reader
}

/// Reads lines until one contains `needle`; the text read.
fn read_until(reader: &mut BufReader<TcpStream>, needle: &str) -> String {
    let mut text = String::new();
    while !text.contains(needle) {
        let mut line = String::new();
        assert!(reader.read_line(&mut line).unwrap() > 0, "{text}");
        text.push_str(&line);
    }
    text
}

/// A registration's start is the head read before it is stored. An idle fan-out (no
/// registration yet) that looked at the empty registry in between moved past events the
/// registration is owed; when it finds the registration it goes back to its start. The
/// registration is stored here the way the routes store one, with a start read before an
/// event the fan-out's empty looks have already moved past.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_fan_out_that_moved_past_a_registrations_start_goes_back_to_it() {
    use push_hub::callbacks::Registered;

    let (receiver, hub) = receiver_and_hub().await;
    let addr = hub.addr;
    publish_async(addr, "orders/0", "before the start").await;
    let start = hub.broker.head().to_string();
    publish_async(addr, "orders/1", "after the start, before the store").await;
    // The fan-out looks every 200 ms: it has found the registry empty since that event.
    tokio::time::sleep(Duration::from_millis(600)).await;

    let secret = Secret::generate().unwrap();
    receiver.set_secrets(vec![secret.clone()]);
    let registration = stored_late("cb_late_store", &receiver.url(), secret, start);
    let registry = std::sync::Arc::clone(hub.callbacks.registry());
    let stored = tokio::task::spawn_blocking(move || registry.register(registration))
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(stored, Registered::Created(_)));
    publish_async(addr, "orders/2", "after the store").await;
    receiver
        .until("both events after the start", |s| s.effects.len() >= 2)
        .await;
    let effects = receiver.effects();
    let got: Vec<String> = effects.iter().map(data).collect();
    assert_eq!(
        got,
        ["after the start, before the store", "after the store"],
        "{effects:?}"
    );
}

/// The same while the fan-out is subscribed: a batch matched between a registration's start
/// and its store missed it; the fan-out notices it at the next batch and goes back for what it
/// is owed, matching those events only against it (the registration that was there all along
/// gets nothing twice).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_stored_after_batches_it_is_owed_were_matched_still_gets_them() {
    let (receiver, hub) = receiver_and_hub().await;
    let addr = hub.addr;
    let url = receiver.url();
    let secret = tokio::task::spawn_blocking(move || {
        let token = subscriber("marks/{id}");
        let (status, registration) = register(addr, &token, &url, &["marks/{id}"], "marks");
        assert_eq!(status, 201, "{registration}");
        registration["secret"].as_str().unwrap().to_owned()
    })
    .await
    .unwrap();
    let late_secret = Secret::generate().unwrap();
    receiver.set_secrets(vec![secret.parse().unwrap(), late_secret.clone()]);
    let start = hub.broker.head().to_string();
    tokio::task::spawn_blocking(move || {
        publish(addr, "orders/1", "owed, matched before the store");
        publish(addr, "marks/1", "the fan-out passed it");
    })
    .await
    .unwrap();
    receiver.until("the mark", |s| !s.effects.is_empty()).await;

    let registry = std::sync::Arc::clone(hub.callbacks.registry());
    let registration = stored_late("cb_late_batch", &receiver.url(), late_secret, start);
    tokio::task::spawn_blocking(move || registry.register(registration).unwrap())
        .await
        .unwrap();
    tokio::task::spawn_blocking(move || {
        publish(addr, "orders/2", "after the store");
        publish(addr, "marks/2", "the second mark");
    })
    .await
    .unwrap();
    receiver
        .until("both orders and both marks", |s| s.effects.len() >= 4)
        .await;
    // Nothing comes twice: a duplicate is a fifth attempt (the receiver records an effect
    // once per webhook-id, and answers every attempt 204, so there are no retries).
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.attempts().len(), 4, "{:?}", receiver.attempts());
    let effects = receiver.effects();
    let mut got: Vec<String> = effects.iter().map(data).collect();
    got.sort();
    assert_eq!(
        got,
        [
            "after the store",
            "owed, matched before the store",
            "the fan-out passed it",
            "the second mark"
        ],
        "{effects:?}"
    );
}

/// A registration on `orders/{id}` delivering to `url`, stored as the routes store one, with
/// the start `from` (the head read before it was stored).
fn stored_late(
    id: &str,
    url: &str,
    secret: Secret,
    from: String,
) -> push_hub::callbacks::Registration {
    use push_core::{Access, Pattern, Selector};
    use push_hub::callbacks::{Registration, Target, Webhook};
    Registration {
        id: id.into(),
        client_id: id.into(),
        selector: Selector::new([Pattern::parse("orders/{id}").unwrap()]).unwrap(),
        access: Access::public(),
        expires: None,
        owner: "owner".into(),
        target: Target::Webhook(Webhook {
            url: url.into(),
            secret,
            previous: None,
        }),
        in_flight: 1,
        from,
        created: 1,
        disabled: None,
    }
}

/// With no registration the fan-out holds no subscription (one on every topic would read
/// every event for nothing); the first registration opens it, and the events published right
/// after the registration's answer still arrive (read from the history); once the last
/// registration is deleted the subscription closes again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_fan_out_subscribes_only_while_a_registration_exists() {
    let (receiver, hub) = receiver_and_hub().await;
    let addr = hub.addr;
    let memory = hub.broker.inner().memory().unwrap().clone();
    publish_async(addr, "orders/0", "before any registration").await;
    // The fan-out has started and looked at the (empty) registry several times by now.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(memory.pattern_subscription_count(), 0);

    let url = receiver.url();
    let (secret, hub_id) = tokio::task::spawn_blocking(move || {
        let token = subscriber("orders/{id}");
        let (status, registration) = register(addr, &token, &url, &["orders/{id}"], "c");
        assert_eq!(status, 201, "{registration}");
        publish(addr, "orders/1", "right after the registration");
        let text = |key: &str| registration[key].as_str().unwrap().to_owned();
        (text("secret"), text("hub_id"))
    })
    .await
    .unwrap();
    receiver.set_secrets(vec![secret.parse().unwrap()]);
    receiver.until("the event", |s| !s.effects.is_empty()).await;
    let effects = receiver.effects();
    assert_eq!(effects.len(), 1, "{effects:?}");
    assert_eq!(data(&effects[0]), "right after the registration");
    assert_eq!(memory.pattern_subscription_count(), 1);

    tokio::task::spawn_blocking(move || {
        let path = format!("http://{addr}/.well-known/push/callbacks/{hub_id}");
        let token = subscriber("orders/{id}");
        assert_eq!(call("DELETE", &path, Some(&token), None).0, 204);
        // The fan-out notices at its next batch: publish one.
        publish(addr, "orders/2", "after the deletion");
    })
    .await
    .unwrap();
    for _ in 0..200 {
        if memory.pattern_subscription_count() == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(memory.pattern_subscription_count(), 0);
}
