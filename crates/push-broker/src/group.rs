//! The group commit: with a [journal](crate::Config::with_journal), the asynchronous
//! [`push_core::Broker::publish`] hands its publish to one committer thread per broker, which
//! takes every publish queued meanwhile (up to [`MAX_GROUP`]) and makes them in one
//! [`publish_group`](MemoryBroker::publish_group): one journal call, so one durable commit,
//! for all of them.
//!
//! Invariants:
//! - Durability is unchanged: a publish's future resolves (the hub's `200`) only after the
//!   commit that holds its event returned, and no subscriber sees an event before that commit.
//! - Order is unchanged: the committer takes publishes in the order they were handed over,
//!   and a group is made in that order, so one publisher's publishes keep their order.
//! - Nobody waits for the disk but the publishers: the commit runs on the committer thread,
//!   never on a runtime's worker (a tokio worker blocked on `fsync` stalls every connection it
//!   drives), and while it runs the next publishes queue up to share the next commit.
//! - The thread starts with the first such publish and ends when the broker's last handle is
//!   dropped (it holds the broker weakly, between groups not at all).

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Weak};

use futures_channel::oneshot;
use push_core::{Cursor, Error, Event, Topic};

use crate::MemoryBroker;
use crate::broker::Inner;
use crate::publish::Pending;

/// The most publishes one commit holds: it bounds the time the publish lock is held and the
/// memory of one journal write (a few MiB with the hub's default publish size), while a
/// thousand publishes per commit is already past what one disk sync per group costs.
pub const MAX_GROUP: usize = 1024;

/// A publish handed to the committer, and where its outcome goes.
pub(crate) type Handed = (Pending<'static>, oneshot::Sender<Result<Cursor, Error>>);

/// The queue to a broker's committer thread.
pub(crate) type Committer = Sender<Handed>;

/// Starts the committer of `inner`'s broker and returns its queue.
pub(crate) fn start(inner: &Arc<Inner>) -> Committer {
    let (queue, handed) = mpsc::channel();
    let broker = Arc::downgrade(inner);
    // Without the thread its receiver is gone: every publish handed over is then refused
    // (`BrokerUnavailable`), never lost or left waiting.
    let _ = std::thread::Builder::new()
        .name("push-broker-commit".to_owned())
        .spawn(move || commit_loop(&broker, &handed));
    queue
}

fn commit_loop(broker: &Weak<Inner>, handed: &Receiver<Handed>) {
    // Ends when every sender is gone: the broker's last handle dropped its queue.
    while let Ok(first) = handed.recv() {
        let mut group = vec![first];
        while group.len() < MAX_GROUP {
            match handed.try_recv() {
                Ok(next) => group.push(next),
                Err(_) => break,
            }
        }
        let (mut pending, replies): (Vec<_>, Vec<_>) = group.into_iter().unzip();
        match broker.upgrade() {
            Some(inner) => MemoryBroker { inner }.publish_group(&mut pending),
            None => pending
                .iter_mut()
                .for_each(|p| p.outcome = Err(Error::BrokerClosed)),
        }
        for (p, reply) in pending.into_iter().zip(replies) {
            // A publisher that stopped waiting does not need its answer; the event stays
            // published (as a publish that completed just before).
            let _ = reply.send(p.outcome);
        }
    }
}

impl MemoryBroker {
    /// The asynchronous publish ([`push_core::Broker::publish`]): without a journal at once,
    /// with one through the committer (module docs).
    pub(crate) fn publish_grouped(
        &self,
        topics: &[Topic],
        event: Event,
    ) -> impl Future<Output = Result<Cursor, Error>> + Send + 'static {
        let handed = if self.inner.config.journal.is_none() {
            Err(self.publish_to(topics, event))
        } else {
            let (reply, outcome) = oneshot::channel();
            let queue = self.inner.committer.get_or_init(|| start(&self.inner));
            // Handed over now, not at the first poll: publishes queue in the order they were
            // made, and a group forms while the previous commit runs.
            match queue.send((Pending::new(topics, event).into_owned(), reply)) {
                Ok(()) => Ok(outcome),
                Err(_) => Err(Err(Error::BrokerUnavailable)),
            }
        };
        async move {
            match handed {
                Ok(outcome) => outcome.await.unwrap_or(Err(Error::BrokerUnavailable)),
                Err(now) => now,
            }
        }
    }
}
