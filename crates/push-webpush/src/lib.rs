//! Web Push for servers: reach a browser whose page is closed, through its vendor's push
//! service. RFC 8291 message encryption, RFC 8292 VAPID, RFC 8030 delivery requests and the
//! meaning of their answers, and the policy for which endpoints a server may POST to.
//!
//! ```text
//!  PushSubscription (browser JSON) ──► EndpointPolicy::check ──► Recipient (p256dh, auth)
//!                                                                    │
//!  payload ──► message::encrypt (ECDH + HKDF + aes128gcm, ≤ 4096 B) ─┤
//!  Vapid::authorization(origin, now) (ES256 JWT, cached) ────────────┤
//!  Delivery (TTL, Urgency, Topic) ───────────────────────────────────┴─► http::Request<Bytes>
//!
//!  push service's answer ──► Outcome::classify ──► Delivered | Gone | TooLarge | Retry | Rejected
//! ```
//!
//! The protocol part performs no I/O and reads no clock: [`WebPush::request`] and
//! [`Outcome::classify`] take `now`. The `client` feature adds [`client::Sender`], which sends
//! over hyper with bounded work.
//!
//! ```
//! use std::time::{Duration, SystemTime};
//! use push_webpush::{Delivery, Receiver, Vapid, VapidKey, WebPush};
//!
//! # fn main() -> Result<(), push_webpush::Error> {
//! // A browser's subscription (here: keys made on the spot).
//! let browser = Receiver::generate()?;
//! let subscription = browser.subscription("https://fcm.googleapis.com/fcm/send/abc");
//!
//! let vapid = Vapid::new(VapidKey::generate()?, "mailto:ops@example.com")?;
//! let push = WebPush::new(vapid);
//! let delivery = Delivery::default().with_ttl(Duration::from_secs(3600));
//! let request = push.request(&subscription, b"{\"title\":\"hi\"}", &delivery, SystemTime::now())?;
//! assert_eq!(request.headers()["content-encoding"], "aes128gcm");
//! assert_eq!(browser.decrypt(request.body())?, b"{\"title\":\"hi\"}");
//! # Ok(()) }
//! ```
//!
//! # Crate features
//! - `client`: [`client::Sender`], delivery over hyper (HTTP/1.1, TLS through push-http's rustls
//!   configuration) with a bounded queue, a concurrency limit per push service, a timeout, and
//!   resolved addresses checked against the [`EndpointPolicy`].
//! - `engine` (implies `client`): [`engine::WebPushKind`], Web Push as a kind of delivery on
//!   push-webhook's delivery engine (durable queue, retry schedule, restart recovery).
//!
//! # Errors
//! One [`Error`] enum; everything a peer or a user supplies (subscription JSON, keys, bodies,
//! push service answers) is an error value, never a panic.

#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]
#![doc(test(attr(deny(warnings))))]

#[cfg(feature = "client")]
pub mod client;
mod ece;
mod endpoint;
#[cfg(feature = "engine")]
pub mod engine;
mod error;
mod message;
mod payload;
mod request;
mod response;
mod subscription;
mod vapid;

pub use endpoint::{EndpointPolicy, KNOWN_PUSH_SERVICES};
pub use error::Error;
pub use message::{
    AUTH_LEN, Encoding, HEADER_LEN, MAX_BODY, OVERHEAD, PUBLIC_KEY_LEN, Receiver, Recipient,
    encrypt,
};
pub use payload::{Fit, event_payload};
pub use request::{Delivery, Topic, Urgency, WebPush};
pub use response::{MAX_RETRY_AFTER, Outcome};
pub use subscription::{PushSubscription, SubscriptionKeys};
pub use vapid::{MAX_LIFETIME, Vapid, VapidKey};
