//! The journal: where a broker's history is made durable, and what it is restored from.
//!
//! A [`Journal`] set with [`Config::with_journal`](crate::Config::with_journal) hears every
//! publish inside the broker's critical section, with the event's cursor and topics, before
//! any subscriber can see the event; an error refuses the publish
//! ([`Error::BrokerUnavailable`](push_core::Error::BrokerUnavailable)), so nothing is delivered
//! that a restart would lose. It also hears which events have left the history (by any bound:
//! count, age, bytes), so what it keeps stays as bounded as the broker.
//! [`MemoryBroker::restore`](crate::MemoryBroker::restore) rebuilds a broker from what a
//! journal kept: a [`Snapshot`].

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use push_core::{Event, Published, Topic};

/// What a journal's failure carries: the broker answers it with
/// [`Error::BrokerUnavailable`](push_core::Error::BrokerUnavailable) and drops it, so a journal
/// reports (logs, counts) its own failures before returning them.
pub type JournalError = Box<dyn std::error::Error + Send + Sync>;

/// The events that left the broker's history since the journal last heard, to forget.
#[derive(Clone, Copy, Debug)]
pub struct Evicted<'a> {
    /// The offsets of events that left every topic that held them, in the order they left.
    pub offsets: &'a [u64],
    /// The highest offset any topic has evicted so far (an event on several topics may have
    /// left some of them and not yet others). 0 when nothing was ever evicted. A restore
    /// needs it to announce, as a gap, what was lost before the events it keeps.
    pub evicted_max: u64,
}

/// Where a broker makes its history durable (see the module docs).
///
/// Both methods are called under the broker's publish lock, in cursor order, so they see the
/// history's changes in the order the broker made them; they must not call back into the
/// broker. A call that blocks (a disk write) holds up every publish for its duration, never a
/// subscriber.
pub trait Journal: Send + Sync + fmt::Debug + 'static {
    /// Makes `published` (each event's cursor, topics and event; one or more, in cursor order,
    /// their offsets consecutive) durable, together with forgetting `evicted`, before the
    /// broker makes any of them visible: all of them or none, in one commit. When this returns
    /// `Ok`, every one of them must survive a restart; on `Err` each of their publishes fails
    /// and the broker stores none of them (the journal must not keep any of them either).
    ///
    /// Several events arrive together when concurrent publishes share a commit (the group
    /// commit of the asynchronous [`push_core::Broker::publish`]): one durable write for the
    /// group is what makes a journal that syncs to disk keep up with many publishers.
    ///
    /// # Errors
    /// Whatever kept the events from becoming durable.
    fn append(
        &self,
        published: &[Arc<Published>],
        evicted: Evicted<'_>,
    ) -> Result<(), JournalError>;

    /// Forgets events that left the history outside a publish (the age sweep, a restore). On
    /// `Err`, the broker offers the same offsets again with the next call.
    ///
    /// # Errors
    /// Whatever kept the journal from forgetting them.
    fn forget(&self, evicted: Evicted<'_>) -> Result<(), JournalError>;
}

/// One journalled event, as a restore takes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    /// The event's offset in its epoch (its cursor is `epoch-offset`).
    pub offset: u64,
    /// Its topics, the canonical one first.
    pub topics: Vec<Topic>,
    /// The event, its id included (the id index is rebuilt from it).
    pub event: Event,
    /// How long ago it was published: it expires as many seconds after the restore as it had
    /// left before.
    pub age: Duration,
}

/// What a restore rebuilds a broker from: the durable history of one epoch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    /// The last offset handed out (the broker's head): new events continue after it, even when
    /// every event up to it has since been evicted.
    pub head: u64,
    /// The highest offset ever evicted ([`Evicted::evicted_max`]).
    pub evicted_max: u64,
    /// The retained events, in offset order.
    pub records: Vec<Record>,
}

/// Why a [`Snapshot`] cannot be restored: it is not a history this broker could have written.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RestoreError {
    /// The records are not in strictly increasing offset order, or an offset is 0.
    OutOfOrder {
        /// The first offending offset.
        offset: u64,
    },
    /// A record names no topic.
    NoTopic {
        /// Its offset.
        offset: u64,
    },
}

impl fmt::Display for RestoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OutOfOrder { offset } => write!(
                f,
                "the journal's records are out of order at offset {offset} (offsets start at 1 and increase)"
            ),
            Self::NoTopic { offset } => {
                write!(f, "the journal's record at offset {offset} names no topic")
            }
        }
    }
}

impl std::error::Error for RestoreError {}
