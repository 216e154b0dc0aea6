//! RESTful callbacks for server push: the client registers a URL, and the server calls it when
//! the event happens — signed the way [Standard Webhooks] says, retried on a schedule, and
//! idempotent at the receiver.
//!
//! Both sides of the wire:
//!
//! - **Sender**: [`Signer`] writes `webhook-id`, `webhook-timestamp` and `webhook-signature`
//!   (`v1,` HMAC-SHA256 with a `whsec_` [`Secret`], `v1a,` ed25519 with a [`SigningKey`]; one
//!   entry per key during a rotation). [`message_id`] derives the id from the hub's position, so
//!   it is the same on every retry. [`Payload`] is the JSON body.
//! - **Receiver**: [`verify`] / [`Verifier`] check the three headers, the timestamp tolerance
//!   (5 minutes both ways by default) and every signature entry against every trusted key, in
//!   constant time; [`Idempotency`] runs a handler once per id, recording an id only after its
//!   handler succeeded.
//! - **Delivery policy** (sans-IO): [`Policy::next`] turns an attempt's [`Outcome`] and the time
//!   into the [`Next`] step — a retry at a time (jittered, `Retry-After` honoured and clamped), in
//!   memory for the fast attempts and from the durable queue after; `410` disables; redirects
//!   fail.
//! - **SSRF policy** (sans-IO): [`AddressPolicy`] refuses non-HTTPS URLs and loopback, private,
//!   link-local and metadata addresses, on the resolved address at connect time.
//!
//! The cores do no I/O and read no clock: times are arguments.
//!
//! ```text
//!   sender:   Payload ──to_json──► body ──Signer::headers(id, now, body)──► POST
//!   receiver: headers + raw body + now ──Verifier::verify──► Verified { id } ──Idempotency──► handler
//!   policy:   Outcome + now ──Policy::next──► Delivered | Retry { at, durable } | Disable | Exhausted
//! ```
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use push_webhook::{Secret, Signer, Trusted, message_id, verify};
//!
//! let secret: Secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".parse()?;
//! let id = message_id("registration-1", "5eed-2a");
//! let body = br#"{"type":"push.event"}"#;
//! let headers = Signer::new(secret.clone()).headers(&id, 1_700_000_000, body);
//!
//! let now = UNIX_EPOCH + Duration::from_secs(1_700_000_010);
//! let verified = verify(&headers, body, [Trusted::from(secret)], now)?;
//! assert_eq!(verified.id, id);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! - **Sender** (feature `sender`): [`sender::Sender`] posts on hyper with keep-alive reuse and
//!   the address policy applied to resolved addresses; [`sender::Queue`] is the durable queue
//!   (redb); [`sender::Engine`] runs fast attempts from memory and the rest from the queue, for
//!   every kind of delivery ([`sender::Deliver`]: [`sender::Webhooks`], or another protocol's
//!   attempts such as Web Push) on the one queue and schedule.
//!
//! # Crate features
//! - `sender`: the [`sender`] module (tokio, hyper, hyper-rustls, redb). Without it the crate
//!   is the sans-IO core: no I/O, no runtime, no clock.
//!
//! # Errors
//! [`KeyError`] for keys that do not parse (with the base64 error as its source),
//! [`VerifyError`] for requests that are not authentic and fresh, [`Refusal`] for callbacks the
//! address policy refuses.
//!
//! [Standard Webhooks]: https://www.standardwebhooks.com/
#![forbid(unsafe_code)]
#![warn(missing_docs, missing_debug_implementations)]
#![doc(test(attr(deny(warnings))))]

mod idempotency;
mod keys;
mod payload;
mod policy;
#[cfg(feature = "sender")]
pub mod sender;
mod sign;
mod ssrf;
mod verify;

pub use idempotency::{Begin, Claim, DEFAULT_CAPACITY, DEFAULT_WINDOW, Idempotency};
pub use keys::{
    KeyError, PUBLIC_KEY_PREFIX, PublicKey, SECRET_PREFIX, SIGNING_KEY_PREFIX, Secret, SigningKey,
};
pub use payload::{DISABLED_TYPE, EVENT_TYPE, Payload};
pub use policy::{DEFAULT_SCHEDULE, Health, Next, Outcome, Policy, retry_after};
pub use sign::{Key, Signer, WEBHOOK_ID, WEBHOOK_SIGNATURE, WEBHOOK_TIMESTAMP, message_id};
pub use ssrf::{AddressClass, AddressPolicy, Refusal};
pub use verify::{
    DEFAULT_MAX_SIGNATURES, DEFAULT_TOLERANCE, Trusted, Verified, Verifier, VerifyError, verify,
};
