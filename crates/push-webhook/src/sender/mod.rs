//! The sender (feature `sender`): [`Sender`] makes one webhook attempt on the wire, [`Queue`]
//! keeps pending deliveries of every [`Kind`] on disk, [`Engine`] runs the policy over both;
//! [`Deliver`] is what a kind of delivery implements ([`Webhooks`] is the webhook kind).

mod client;
mod deliver;
mod engine;
mod queue;
#[cfg(feature = "redis")]
mod redis;
mod slots;
mod store;

pub use client::{Resolve, SendError, Sender, SystemResolver};
pub use deliver::{Attempt, Deliver, Kind, Signers, Webhooks};
pub use engine::{Engine, Lanes, Observer};
pub use queue::{QUEUE_FILE, Queue, QueueError, Stored};
#[cfg(feature = "redis")]
pub use redis::{DEFAULT_PREFIX, LinkConnection, RedisLimits, RedisLink, RedisQueue};
pub use store::{LEASE, Placed, Store};
