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
}

impl core::fmt::Display for QueueError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Open { path, .. } => write!(f, "cannot open the queue {}", path.display()),
            Self::Storage(_) => f.write_str("the queue's storage failed"),
            Self::Corrupt(id) => write!(f, "delivery {id} in the queue does not decode"),
        }
    }
}

impl std::error::Error for QueueError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Open { source, .. } => Some(source),
            Self::Storage(source) => Some(source),
            Self::Corrupt(_) => None,
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
        let write = db.begin_write()?;
        write.open_table(RECORDS)?;
        write.open_table(DUE)?;
        write.open_table(META)?;
        write.commit()?;
        Ok(Self { db })
    }

    /// Queues deliveries in one durable commit; their ids, in order. `attempt`, `due` and
    /// `created` of each are kept; `id` is ignored and assigned.
    ///
    /// # Errors
    /// [`QueueError::Storage`]: nothing was queued.
    pub fn enqueue(&self, deliveries: &[Stored]) -> Result<Vec<u64>, QueueError> {
        let write = self.db.begin_write()?;
        let mut ids = Vec::with_capacity(deliveries.len());
        {
            let mut meta = write.open_table(META)?;
            let mut next = meta.get("next")?.map_or(1, |v| v.value());
            let mut records = write.open_table(RECORDS)?;
            let mut due = write.open_table(DUE)?;
            let mut scratch = Vec::new();
            for delivery in deliveries {
                scratch.clear();
                encode(delivery, &mut scratch);
                records.insert(next, scratch.as_slice())?;
                due.insert((delivery.due, next), ())?;
                ids.push(next);
                next += 1;
            }
            meta.insert("next", next)?;
        }
        write.commit()?;
        Ok(ids)
    }

    /// Up to `limit` deliveries due at `now` (Unix milliseconds), the earliest first.
    ///
    /// # Errors
    /// [`QueueError::Storage`], or [`QueueError::Corrupt`] for a record that does not decode.
    pub fn due(&self, now: u64, limit: usize) -> Result<Vec<Stored>, QueueError> {
        let read = self.db.begin_read()?;
        let due = read.open_table(DUE)?;
        let records = read.open_table(RECORDS)?;
        let mut out = Vec::new();
        for entry in due.range(..=(now, u64::MAX))?.take(limit) {
            let (key, _) = entry?;
            let (_, id) = key.value();
            let record = records.get(id)?.ok_or(QueueError::Corrupt(id))?;
            out.push(decode(id, record.value()).ok_or(QueueError::Corrupt(id))?);
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

    /// Removes a delivery: after its 2xx, or when its registration is disabled.
    ///
    /// # Errors
    /// [`QueueError::Storage`].
    pub fn remove(&self, delivery: &Stored) -> Result<(), QueueError> {
        let write = self.db.begin_write()?;
        {
            let mut records = write.open_table(RECORDS)?;
            // The stored due time, not the caller's copy's: the index entry must go with it.
            let removed = records.remove(delivery.id)?;
            if let Some(record) = removed {
                let due = decode(delivery.id, record.value()).map_or(delivery.due, |d| d.due);
                write.open_table(DUE)?.remove((due, delivery.id))?;
            }
        }
        write.commit()?;
        Ok(())
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
fn encode(d: &Stored, out: &mut Vec<u8>) {
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

fn decode(id: u64, bytes: &[u8]) -> Option<Stored> {
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
mod tests {
    use super::*;

    fn delivery(due: u64) -> Stored {
        Stored {
            id: 0,
            kind: Kind(7),
            registration: "reg".into(),
            url: "http://127.0.0.1:1/hook".into(),
            message_id: format!("msg_{due}"),
            body: b"{\"a\":1}".to_vec(),
            options: b"ttl=60".to_vec(),
            attempt: 1,
            due,
            created: 5,
        }
    }

    #[test]
    fn deliveries_survive_reopening_and_leave_only_when_removed() {
        let dir = tempfile::tempdir().unwrap();
        let queue = Queue::open(dir.path()).unwrap();
        let ids = queue
            .enqueue(&[delivery(30), delivery(10), delivery(20)])
            .unwrap();
        assert_eq!(ids, [1, 2, 3]);
        drop(queue);
        let queue = Queue::open(dir.path()).unwrap();
        assert_eq!(queue.len().unwrap(), 3);
        assert_eq!(queue.next_due().unwrap(), Some(10));
        let due = queue.due(20, 10).unwrap();
        let order: Vec<u64> = due.iter().map(|d| d.due).collect();
        assert_eq!(order, [10, 20]);
        assert_eq!(due[0].id, 2);
        assert_eq!(due[0].body, b"{\"a\":1}");
        // A failed attempt moves it; only a removal takes it out.
        queue.reschedule(&due[0], 2, 40).unwrap();
        assert_eq!(queue.due(20, 10).unwrap().len(), 1);
        let moved = queue.due(40, 10).unwrap();
        assert_eq!((moved[2].id, moved[2].attempt), (2, 2));
        queue.remove(&moved[2]).unwrap();
        queue.remove(&moved[0]).unwrap();
        assert_eq!(queue.len().unwrap(), 1);
        // A stale copy cannot be rescheduled back in.
        assert!(matches!(
            queue.reschedule(&moved[2], 3, 50),
            Err(QueueError::Corrupt(2))
        ));
        assert_eq!(queue.enqueue(&[delivery(1)]).unwrap(), [4]);
    }

    #[test]
    fn records_decode_or_are_refused_never_panic() {
        let mut bytes = Vec::new();
        encode(&delivery(7), &mut bytes);
        let mut expected = delivery(7);
        expected.id = 9;
        assert_eq!(decode(9, &bytes), Some(expected));
        for cut in 0..bytes.len() {
            assert_eq!(decode(9, &bytes[..cut]), None, "cut at {cut}");
        }
        bytes.push(0);
        assert_eq!(decode(9, &bytes), None, "trailing bytes");
        bytes.pop();
        bytes[0] = 3;
        assert_eq!(decode(9, &bytes), None);
    }

    #[test]
    fn a_version_1_record_reads_as_a_webhook() {
        // As the queue wrote it before kinds: attempt 2, due 7, created 5, then four fields.
        let mut v1 = vec![1];
        v1.extend_from_slice(&2u32.to_be_bytes());
        v1.extend_from_slice(&7u64.to_be_bytes());
        v1.extend_from_slice(&5u64.to_be_bytes());
        for field in [&b"reg"[..], b"https://x/hook", b"msg_1", b"{}"] {
            v1.extend_from_slice(&u32::try_from(field.len()).unwrap().to_be_bytes());
            v1.extend_from_slice(field);
        }
        let read = decode(3, &v1).unwrap();
        assert_eq!(read.kind, Kind::WEBHOOK);
        assert_eq!(read.options, b"");
        assert_eq!(
            (
                read.attempt,
                read.due,
                read.url.as_str(),
                read.body.as_slice()
            ),
            (2, 7, "https://x/hook", &b"{}"[..])
        );
    }
}
