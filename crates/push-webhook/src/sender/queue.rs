//! The durable delivery queue: a redb file (pure Rust, crash-safe, one file, no server — the
//! store push-hub's history uses). Every change is one write transaction committed with redb's
//! default `Durability::Immediate`: on disk when the call returns.
//!
//! A delivery is written by [`Queue::enqueue`] **before** anything is attempted (and, in a hub,
//! before the publish is acknowledged), rescheduled in place after a failed attempt, and removed
//! only by [`Queue::remove`] after its 2xx (or when its registration is disabled). A crash at any
//! point leaves it in the file; after a restart it goes out again — at least once, and the
//! receiver's idempotency on `webhook-id` makes it once in effect.
//!
//! The queue holds every [`Kind`] of delivery (webhooks, Web Push): a record names its kind, and
//! carries the kind's own options as bytes the kind encodes (empty for a webhook).

use std::path::{Path, PathBuf};

use super::deliver::Kind;
use redb::{
    Database, ReadableDatabase as _, ReadableTable as _, ReadableTableMetadata as _,
    TableDefinition,
};

#[path = "lanes.rs"]
mod lanes;
#[path = "queue_store.rs"]
mod store;

/// id → the encoded delivery.
const RECORDS: TableDefinition<'_, u64, &[u8]> = TableDefinition::new("deliveries");
/// (due in Unix milliseconds, id): the deliveries in the order they fall due.
const DUE: TableDefinition<'_, (u64, u64), ()> = TableDefinition::new("due");
/// "next" → the next id.
const META: TableDefinition<'_, &str, u64> = TableDefinition::new("meta");

/// The file name under the data directory.
pub const QUEUE_FILE: &str = "webhooks.redb";

/// One delivery as stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stored {
    /// The queue's id of the delivery.
    pub id: u64,
    /// Which [`Deliver`](super::Deliver) makes its attempts.
    pub kind: Kind,
    /// The hub's id of the registration.
    pub registration: String,
    /// The target: the callback URL, the push service endpoint.
    pub url: String,
    /// The delivery's stable id: `webhook-id` for a webhook, the same derivation for others.
    pub message_id: String,
    /// The body: a webhook's exactly as signed and sent; a Web Push message's plaintext.
    pub body: Vec<u8>,
    /// The kind's own options, encoded by the kind (empty for a webhook).
    pub options: Vec<u8>,
    /// The number of the next attempt (from 1).
    pub attempt: u32,
    /// When the next attempt is due (Unix milliseconds).
    pub due: u64,
    /// When the delivery was queued (Unix milliseconds).
    pub created: u64,
}

/// Why the queue failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum QueueError {
    /// The file could not be opened or created.
    Open {
        /// The file.
        path: PathBuf,
        /// redb's error.
        source: redb::DatabaseError,
    },
    /// A read or write failed (a full or failing disk).
    Storage(redb::Error),
    /// A record does not decode (the file was changed by something else).
    Corrupt(u64),
    /// The store holds as many deliveries as it may (the Redis queue's total limit): nothing
    /// was queued; try again when deliveries have left.
    Full,
    /// The store's server failed (the Redis queue: a lost connection, a refused command).
    Backend(Box<dyn std::error::Error + Send + Sync>),
}

impl core::fmt::Display for QueueError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Open { path, .. } => write!(f, "cannot open the queue {}", path.display()),
            Self::Storage(_) => f.write_str("the queue's storage failed"),
            Self::Corrupt(id) => write!(f, "delivery {id} in the queue does not decode"),
            Self::Full => f.write_str("the queue is full"),
            Self::Backend(_) => f.write_str("the queue's server failed"),
        }
    }
}

impl std::error::Error for QueueError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Open { source, .. } => Some(source),
            Self::Storage(source) => Some(source),
            Self::Backend(source) => Some(&**source),
            Self::Corrupt(_) | Self::Full => None,
        }
    }
}

impl<E: Into<redb::Error>> From<E> for QueueError {
    fn from(e: E) -> Self {
        Self::Storage(e.into())
    }
}

/// The durable queue (see the module docs).
#[derive(Debug)]
pub struct Queue {
    db: Database,
}

impl Queue {
    /// Opens (or creates) `dir/webhooks.redb`, creating `dir`.
    ///
    /// # Errors
    /// [`QueueError::Open`] when the directory or the file cannot be made or read.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, QueueError> {
        let path = dir.as_ref().join(QUEUE_FILE);
        let open_err = |source| QueueError::Open {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(dir.as_ref())
            .map_err(|e| open_err(redb::DatabaseError::Storage(e.into())))?;
        let db = redb::Builder::new()
            // 4 MiB of page cache: records are read once per attempt, the file is small.
            .set_cache_size(4 << 20)
            .create(&path)
            .map_err(open_err)?;
        Self::with_tables(db)
    }

    /// A queue in memory: the same behaviour, nothing survives the process (a hub run with
    /// `--in-memory`).
    ///
    /// # Errors
    /// [`QueueError::Open`] when redb cannot set the tables up.
    pub fn in_memory() -> Result<Self, QueueError> {
        let db = redb::Builder::new()
            .create_with_backend(redb::backends::InMemoryBackend::new())
            .map_err(|source| QueueError::Open {
                path: PathBuf::from("(memory)"),
                source,
            })?;
        Self::with_tables(db)
    }

    fn with_tables(db: Database) -> Result<Self, QueueError> {
        let write = db.begin_write()?;
        write.open_table(RECORDS)?;
        write.open_table(DUE)?;
        write.open_table(META)?;
        write.open_table(lanes::LANES)?;
        write.commit()?;
        Ok(Self { db })
    }

    /// When the oldest queued delivery was queued (Unix milliseconds), if any: ids grow with
    /// each enqueue and a retry keeps its id, so the first record is the oldest.
    ///
    /// # Errors
    /// [`QueueError::Storage`], [`QueueError::Corrupt`].
    pub fn oldest(&self) -> Result<Option<u64>, QueueError> {
        let read = self.db.begin_read()?;
        let records = read.open_table(RECORDS)?;
        let Some((id, record)) = records.first()? else {
            return Ok(None);
        };
        let id = id.value();
        let created = decode(id, record.value()).ok_or(QueueError::Corrupt(id))?;
        Ok(Some(created.created))
    }

    /// Queues deliveries in one durable commit; their ids, in order. `attempt`, `due` and
    /// `created` of each are kept; `id` is ignored and assigned. Every delivery is released
    /// at once (no lane limit; see [`Queue::enqueue_in_lanes`]).
    ///
    /// # Errors
    /// [`QueueError::Storage`]: nothing was queued.
    pub fn enqueue(&self, deliveries: &[Stored]) -> Result<Vec<u64>, QueueError> {
        let placed = self.enqueue_in_lanes(deliveries, &|_| u32::MAX)?;
        Ok(placed.into_iter().map(|(id, _)| id).collect())
    }

    /// Up to `limit` deliveries due at `now` (Unix milliseconds), the earliest first.
    ///
    /// # Errors
    /// [`QueueError::Storage`], or [`QueueError::Corrupt`] for a record that does not decode.
    pub fn due(&self, now: u64, limit: usize) -> Result<Vec<Stored>, QueueError> {
        self.due_where(now, limit, |_| true)
    }

    /// The deliveries due at `now` that `take` accepts, the earliest first, looking at no more
    /// than `scan` due entries — so a backlog that `take` passes over (deliveries an engine
    /// holds in memory already, or whose target has no free slot) costs a bounded read.
    ///
    /// # Errors
    /// As [`Queue::due`].
    pub fn due_where(
        &self,
        now: u64,
        scan: usize,
        mut take: impl FnMut(&Stored) -> bool,
    ) -> Result<Vec<Stored>, QueueError> {
        let read = self.db.begin_read()?;
        let due = read.open_table(DUE)?;
        let records = read.open_table(RECORDS)?;
        let mut out = Vec::new();
        for entry in due.range(..=(now, u64::MAX))?.take(scan) {
            let (key, _) = entry?;
            let (_, id) = key.value();
            let record = records.get(id)?.ok_or(QueueError::Corrupt(id))?;
            let delivery = decode(id, record.value()).ok_or(QueueError::Corrupt(id))?;
            if take(&delivery) {
                out.push(delivery);
            }
        }
        Ok(out)
    }

    /// When the earliest delivery falls due (Unix milliseconds), if any.
    ///
    /// # Errors
    /// [`QueueError::Storage`].
    pub fn next_due(&self) -> Result<Option<u64>, QueueError> {
        let read = self.db.begin_read()?;
        let due = read.open_table(DUE)?;
        let first = due.first()?.map(|(key, _)| key.value().0);
        Ok(first)
    }

    /// Records a failed attempt: the delivery's next attempt is number `attempt`, due at `due`.
    ///
    /// # Errors
    /// [`QueueError::Storage`]; [`QueueError::Corrupt`] when `delivery` is not in the queue.
    pub fn reschedule(&self, delivery: &Stored, attempt: u32, due: u64) -> Result<(), QueueError> {
        let write = self.db.begin_write()?;
        {
            let mut records = write.open_table(RECORDS)?;
            let mut index = write.open_table(DUE)?;
            if index.remove((delivery.due, delivery.id))?.is_none() {
                return Err(QueueError::Corrupt(delivery.id));
            }
            let next = Stored {
                attempt,
                due,
                ..delivery.clone()
            };
            let mut scratch = Vec::new();
            encode(&next, &mut scratch);
            records.insert(delivery.id, scratch.as_slice())?;
            index.insert((due, delivery.id), ())?;
        }
        write.commit()?;
        Ok(())
    }

    /// Removes a delivery: after its 2xx, or when its registration is disabled (the next
    /// delivery of its lane, if one was held, is released: see
    /// [`Queue::remove_and_release`]).
    ///
    /// # Errors
    /// [`QueueError::Storage`].
    pub fn remove(&self, delivery: &Stored) -> Result<(), QueueError> {
        self.remove_and_release(delivery).map(|_| ())
    }

    /// How many deliveries are queued.
    ///
    /// # Errors
    /// [`QueueError::Storage`].
    pub fn len(&self) -> Result<u64, QueueError> {
        Ok(self.db.begin_read()?.open_table(RECORDS)?.len()?)
    }

    /// Whether the queue is empty.
    ///
    /// # Errors
    /// [`QueueError::Storage`].
    pub fn is_empty(&self) -> Result<bool, QueueError> {
        Ok(self.len()? == 0)
    }
}

/// Version 2: attempt (u32), due (u64), created (u64), kind (u8), then five length-prefixed
/// (u32) byte strings: registration, url, message id, body, options. Big-endian. Version 1 (no
/// kind, no options: a webhook) is still read, so a queue written before kinds existed drains.
pub(super) fn encode(d: &Stored, out: &mut Vec<u8>) {
    out.push(2);
    out.extend_from_slice(&d.attempt.to_be_bytes());
    out.extend_from_slice(&d.due.to_be_bytes());
    out.extend_from_slice(&d.created.to_be_bytes());
    out.push(d.kind.0);
    for field in [
        d.registration.as_bytes(),
        d.url.as_bytes(),
        d.message_id.as_bytes(),
        &d.body,
        &d.options,
    ] {
        // Bodies are bounded far below 4 GiB by the hub's publish limit.
        let len = u32::try_from(field.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(field);
    }
}

pub(super) fn decode(id: u64, bytes: &[u8]) -> Option<Stored> {
    let (&version, mut rest) = bytes.split_first()?;
    if !matches!(version, 1 | 2) {
        return None;
    }
    let mut take = |n: usize| -> Option<&[u8]> {
        let (head, tail) = rest.split_at_checked(n)?;
        rest = tail;
        Some(head)
    };
    let attempt = u32::from_be_bytes(take(4)?.try_into().ok()?);
    let due = u64::from_be_bytes(take(8)?.try_into().ok()?);
    let created = u64::from_be_bytes(take(8)?.try_into().ok()?);
    let kind = match version {
        1 => Kind::WEBHOOK,
        _ => Kind(take(1)?[0]),
    };
    let mut field = || -> Option<Vec<u8>> {
        let len = u32::from_be_bytes(take(4)?.try_into().ok()?);
        Some(take(usize::try_from(len).ok()?)?.to_vec())
    };
    let registration = String::from_utf8(field()?).ok()?;
    let url = String::from_utf8(field()?).ok()?;
    let message_id = String::from_utf8(field()?).ok()?;
    let body = field()?;
    let options = if version == 1 { Vec::new() } else { field()? };
    if !rest.is_empty() {
        return None;
    }
    Some(Stored {
        id,
        kind,
        registration,
        url,
        message_id,
        body,
        options,
        attempt,
        due,
        created,
    })
}

#[cfg(test)]
#[path = "queue_tests.rs"]
mod tests;
