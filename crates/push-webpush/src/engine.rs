//! Web Push on push-webhook's delivery engine (feature `engine`): [`WebPushKind`] is a kind of
//! delivery ([`Deliver`]), so a push message gets the engine's durable queue, retry schedule,
//! fast phase, bounded memory and restart recovery — the retries are the engine's, there is no
//! second loop here.
//!
//! ```text
//!  hub: WebPushKind::stored(registration, subscription, id, payload, &Delivery) ──► Engine::publish
//!  engine, each attempt: WebPushKind::deliver
//!     ├─ the registration's current subscription (gone: Outcome::Gone)
//!     ├─ TTL left = TTL − time since the publish (spent: Outcome::Refused, never sent late)
//!     └─ Sender::attempt (encrypted anew, VAPID token cached per push service)
//!          201 ──► Delivered   404/410 ──► Gone (+ on_gone(registration))   413 ──► Refused
//!          429/5xx ──► Retry { Retry-After }   other 4xx ──► Refused   no answer ──► Transport/Timeout
//! ```
//!
//! The queue keeps the plaintext payload, not the encrypted body: each attempt encrypts anew
//! (RFC 8291 needs a fresh salt and key per message anyway) for the subscription's keys of
//! that moment, and the body at rest is what the hub's history holds already.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use push_webhook::Outcome as Attempted;
use push_webhook::sender::{Attempt, Deliver, Kind, Stored};

use crate::client::Sender;
use crate::{Delivery, Error, Outcome, PushSubscription, Topic, Urgency};

/// The subscription of a registration by its hub id; `None` when it was deleted (its pending
/// messages are dropped).
pub type Subscriptions = Arc<dyn Fn(&str) -> Option<PushSubscription> + Send + Sync>;

/// Told the registration id whose subscription the push service reported gone (404 / 410):
/// remove it.
pub type OnGone = Arc<dyn Fn(&str) + Send + Sync>;

/// The Web Push kind of delivery (see the module docs).
#[derive(Clone)]
pub struct WebPushKind {
    sender: Arc<Sender>,
    subscriptions: Subscriptions,
    on_gone: Option<OnGone>,
}

impl std::fmt::Debug for WebPushKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebPushKind")
            .field("sender", &self.sender)
            .finish_non_exhaustive()
    }
}

impl WebPushKind {
    /// The kind's number in the engine's queue.
    pub const KIND: Kind = Kind::WEB_PUSH;

    /// Messages sent with `sender` to the subscriptions `subscriptions` gives.
    pub fn new(sender: Arc<Sender>, subscriptions: Subscriptions) -> Self {
        Self {
            sender,
            subscriptions,
            on_gone: None,
        }
    }

    /// Calls `on_gone` with the registration id when a push service reports its subscription
    /// gone.
    #[must_use]
    pub fn with_on_gone(mut self, on_gone: OnGone) -> Self {
        self.on_gone = Some(on_gone);
        self
    }

    /// The queue record of `payload` for `registration`'s `subscription`, with `delivery`'s
    /// TTL, urgency and topic; `message_id` is the delivery's stable id (the hub derives it
    /// from the registration and the event's cursor).
    pub fn stored(
        registration: &str,
        subscription: &PushSubscription,
        message_id: &str,
        payload: Vec<u8>,
        delivery: &Delivery,
    ) -> Stored {
        Stored {
            kind: Self::KIND,
            registration: registration.to_owned(),
            url: subscription.endpoint.clone(),
            message_id: message_id.to_owned(),
            body: payload,
            options: encode_options(delivery),
            ..Stored::default()
        }
    }
}

impl Deliver for WebPushKind {
    fn deliver<'a>(&'a self, stored: &'a Stored, now: SystemTime) -> Attempt<'a> {
        Box::pin(async move {
            let Some(subscription) = (self.subscriptions)(&stored.registration) else {
                return Attempted::Gone;
            };
            let Some(delivery) = decode_options(&stored.options) else {
                return Attempted::Refused;
            };
            let Some(delivery) = ttl_left(delivery, stored.created, now) else {
                // Its TTL is spent: the push service would have dropped it by now.
                return Attempted::Refused;
            };
            let attempted = match self
                .sender
                .attempt(&subscription, &stored.body, &delivery)
                .await
            {
                Ok(Outcome::Delivered) => Attempted::Delivered,
                Ok(Outcome::Gone) | Err(Error::InvalidKey { .. }) => Attempted::Gone,
                Ok(Outcome::Retry { after }) => Attempted::Retry { retry_after: after },
                Ok(Outcome::TooLarge | Outcome::Rejected(_)) => Attempted::Refused,
                Err(Error::Timeout(_)) => Attempted::Timeout,
                // The endpoint refused by the policy now (a name that resolves inward), no
                // connection, TLS, no randomness: the request did not complete; the schedule
                // retries.
                Err(
                    Error::Endpoint(_) | Error::Http(_) | Error::QueueFull(_) | Error::Random(_),
                ) => Attempted::Transport,
                // This message can never be sent as it is.
                Err(
                    Error::TooLarge { .. }
                    | Error::Parameter(_)
                    | Error::Topic
                    | Error::Subject
                    | Error::Pem(_)
                    | Error::Decrypt(_)
                    | Error::Json(_),
                ) => Attempted::Refused,
            };
            if attempted == Attempted::Gone
                && let Some(on_gone) = &self.on_gone
            {
                on_gone(&stored.registration);
            }
            attempted
        })
    }
}

/// `delivery` with its TTL counted from `created` (Unix milliseconds) to `now`; `None` when a
/// TTL above zero is spent. A TTL of zero ("now or never") stays zero.
fn ttl_left(delivery: Delivery, created: u64, now: SystemTime) -> Option<Delivery> {
    let ttl = delivery.ttl();
    if ttl.is_zero() {
        return Some(delivery);
    }
    let now = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let elapsed = Duration::from_millis(now.saturating_sub(created));
    let left = ttl.checked_sub(elapsed).filter(|left| left.as_secs() > 0)?;
    Some(delivery.with_ttl(left))
}

/// Version 1: TTL seconds (u32, big-endian), urgency (0 none, 1 very-low … 4 high), topic
/// length (u8) and its bytes.
fn encode_options(delivery: &Delivery) -> Vec<u8> {
    let ttl = u32::try_from(delivery.ttl().as_secs()).unwrap_or(u32::MAX);
    let urgency = match delivery.urgency() {
        None => 0,
        Some(Urgency::VeryLow) => 1,
        Some(Urgency::Low) => 2,
        Some(Urgency::Normal) => 3,
        Some(Urgency::High) => 4,
    };
    let topic = delivery.topic().map_or("", Topic::as_str);
    let mut out = Vec::with_capacity(7 + topic.len());
    out.push(1);
    out.extend_from_slice(&ttl.to_be_bytes());
    out.push(urgency);
    // A topic is at most 32 characters.
    out.push(u8::try_from(topic.len()).unwrap_or(0));
    out.extend_from_slice(topic.as_bytes());
    out
}

fn decode_options(bytes: &[u8]) -> Option<Delivery> {
    let (&[1, a, b, c, d, urgency, len], topic) = bytes.split_first_chunk::<7>()? else {
        return None;
    };
    let mut delivery =
        Delivery::default().with_ttl(Duration::from_secs(u32::from_be_bytes([a, b, c, d]).into()));
    delivery = match urgency {
        0 => delivery,
        1 => delivery.with_urgency(Urgency::VeryLow),
        2 => delivery.with_urgency(Urgency::Low),
        3 => delivery.with_urgency(Urgency::Normal),
        4 => delivery.with_urgency(Urgency::High),
        _ => return None,
    };
    if topic.len() != usize::from(len) {
        return None;
    }
    if !topic.is_empty() {
        let topic = std::str::from_utf8(topic).ok()?;
        delivery = delivery.with_topic(Topic::new(topic).ok()?);
    }
    Some(delivery)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_round_trip_and_garbage_is_refused() {
        let full = Delivery::default()
            .with_ttl(Duration::from_secs(90))
            .with_urgency(Urgency::High)
            .with_topic(Topic::new("scores").unwrap());
        for delivery in [Delivery::default(), full] {
            let bytes = encode_options(&delivery);
            assert_eq!(decode_options(&bytes), Some(delivery));
            for cut in 0..bytes.len() {
                assert_eq!(decode_options(&bytes[..cut]), None, "cut at {cut}");
            }
        }
        let mut bad = encode_options(&Delivery::default());
        bad[5] = 9;
        assert_eq!(decode_options(&bad), None, "no such urgency");
        let mut long = encode_options(&Delivery::default());
        long.push(b'x');
        assert_eq!(decode_options(&long), None, "topic length disagrees");
    }

    #[test]
    fn the_ttl_counts_from_the_publish_and_a_spent_one_is_not_sent() {
        let at = |ms: u64| UNIX_EPOCH + Duration::from_millis(ms);
        let delivery = Delivery::default().with_ttl(Duration::from_secs(60));
        let left = ttl_left(delivery.clone(), 1_000, at(21_000)).unwrap();
        assert_eq!(left.ttl(), Duration::from_secs(40));
        assert_eq!(ttl_left(delivery.clone(), 1_000, at(60_500)), None);
        assert_eq!(
            ttl_left(delivery, 1_000, at(0)).unwrap().ttl().as_secs(),
            60
        );
        let now_or_never = Delivery::default().with_ttl(Duration::ZERO);
        assert_eq!(
            ttl_left(now_or_never, 0, at(99_000)).unwrap().ttl(),
            Duration::ZERO
        );
    }
}
