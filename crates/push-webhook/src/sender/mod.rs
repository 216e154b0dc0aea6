//! The sender (feature `sender`): [`Sender`] makes one attempt on the wire, [`Queue`] keeps
//! pending deliveries on disk, [`Engine`] runs the policy over both.

mod client;
mod engine;
mod queue;

pub use client::{Resolve, SendError, Sender, SystemResolver};
pub use engine::{Engine, Observer, Signers};
pub use queue::{QUEUE_FILE, Queue, QueueError, Stored};
