//! The kinds of delivery the engine runs. A kind makes one attempt of a stored delivery and
//! reports its [`Outcome`]; the [`Engine`](super::Engine) owns everything else — the durable
//! queue, the schedule and its jitter, the fast phase in memory, the recovery after a restart —
//! so a second kind (Web Push) gets them without a second retry loop.
//!
//! ```text
//!   Engine ── Stored { kind, registration, url, body, options } ──► Deliver::deliver ──► Outcome
//!     ▲                                                                                   │
//!     └──────────────── Policy::next(attempt, outcome, now) ◄────────────────────────────┘
//! ```
//!
//! [`Webhooks`] is the webhook kind: it signs the stored body with the registration's current
//! keys and POSTs it through the [`Sender`].

use core::future::Future;
use core::pin::Pin;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;

use super::client::Sender;
use super::queue::Stored;
use crate::policy::Outcome;
use crate::sign::Signer;

/// The kind of a delivery: which [`Deliver`] makes its attempts. The number is stored in the
/// queue, so a number, once given a meaning, keeps it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Kind(pub u8);

impl Kind {
    /// A Standard Webhooks callback ([`Webhooks`]); what a record written before kinds is.
    pub const WEBHOOK: Self = Self(0);
    /// A Web Push message (push-webpush's delivery kind).
    pub const WEB_PUSH: Self = Self(1);
}

/// One attempt in progress.
pub type Attempt<'a> = Pin<Box<dyn Future<Output = Outcome> + Send + 'a>>;

/// A kind of delivery: one attempt of `delivery` at `now`, and what it came to.
///
/// The attempt classifies its protocol's answer: a webhook reports [`Outcome::Status`] and lets
/// the policy read it; a kind whose statuses mean other things reports [`Outcome::Delivered`],
/// [`Outcome::Gone`], [`Outcome::Retry`] or [`Outcome::Refused`]. Transport failures and
/// timeouts are [`Outcome::Transport`] and [`Outcome::Timeout`]: an attempt never fails
/// otherwise, and never retries by itself.
pub trait Deliver: Send + Sync + 'static {
    /// Makes one attempt. `now` is the wall-clock time the engine read for it (signatures,
    /// `Retry-After` dates).
    fn deliver<'a>(&'a self, delivery: &'a Stored, now: SystemTime) -> Attempt<'a>;
}

/// The signer of a registration by its hub id; `None` when the registration is gone (its
/// deliveries are dropped).
pub type Signers = Arc<dyn Fn(&str) -> Option<Signer> + Send + Sync>;

/// The webhook kind: signs the stored body with the registration's current keys (looked up at
/// each attempt, so a rotation applies to the retries) and POSTs it.
#[derive(Clone)]
pub struct Webhooks {
    sender: Sender,
    signers: Signers,
}

impl core::fmt::Debug for Webhooks {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Webhooks")
            .field("sender", &self.sender)
            .finish_non_exhaustive()
    }
}

impl Webhooks {
    /// Webhooks sent with `sender`, signed with the keys `signers` gives.
    #[must_use]
    pub fn new(sender: Sender, signers: Signers) -> Self {
        Self { sender, signers }
    }
}

impl Deliver for Webhooks {
    fn deliver<'a>(&'a self, delivery: &'a Stored, now: SystemTime) -> Attempt<'a> {
        Box::pin(async move {
            // The registration is gone: nothing to deliver to.
            let Some(signer) = (self.signers)(&delivery.registration) else {
                return Outcome::Gone;
            };
            let headers = signer.headers(&delivery.message_id, unix_secs(now), &delivery.body);
            let body = Bytes::from(delivery.body.clone());
            self.sender
                .attempt(&delivery.url, headers, body, now)
                .await
                // A name that resolves to an address the policy refuses (or a URL that no
                // longer passes it) is refused for good: retrying the schedule would only try
                // the same internal address again for a day.
                .unwrap_or(Outcome::Forbidden)
        })
    }
}

fn unix_secs(at: SystemTime) -> u64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
