//! Reading the store at boot: its identity (format, epoch), the head, the highest eviction and
//! the retained records, as a [`Snapshot`] for [`MemoryBroker::restore`](push_broker::MemoryBroker::restore).
//! A fresh file is initialised here with a random epoch.

use std::hash::{BuildHasher, RandomState};
use std::path::Path;
use std::time::{Duration, SystemTime};

use push_broker::{Record, Snapshot};
use redb::{
    Database, ReadableDatabase, ReadableTableMetadata, TableDefinition, TableError,
    WriteTransaction,
};

use super::StoreError;
use super::codec;

/// The store's identity and counters: `format`, `epoch`, `head`, `evicted_max`.
pub(super) const META: TableDefinition<'_, &str, u64> = TableDefinition::new("push-hub.meta");
/// The retained events by offset, encoded by `codec`.
pub(super) const RECORDS: TableDefinition<'_, u64, &[u8]> =
    TableDefinition::new("push-hub.records");

/// The layout this code reads and writes (the `format` entry of [`META`]).
pub(super) const FORMAT: u64 = 1;

/// Reads the store (initialising a fresh one): its epoch and its history, each record's age
/// measured at `now` (a record from the future, after the clock went back, has age zero).
pub(super) fn load(
    db: &Database,
    path: &Path,
    now: SystemTime,
) -> Result<(u64, Snapshot), StoreError> {
    let failed = |source: redb::Error| StoreError::Database {
        path: path.to_owned(),
        source,
    };
    let damaged = |what: &'static str| StoreError::Damaged {
        path: path.to_owned(),
        what,
    };
    let read = db.begin_read().map_err(|e| failed(e.into()))?;
    let meta = match read.open_table(META) {
        Ok(meta) => meta,
        Err(TableError::TableDoesNotExist(_)) => {
            let empty = read
                .list_tables()
                .map_err(|e| failed(e.into()))?
                .next()
                .is_none();
            if !empty {
                return Err(StoreError::Foreign {
                    path: path.to_owned(),
                });
            }
            drop(read);
            return initialise(db).map_err(failed);
        }
        Err(TableError::TableTypeMismatch { .. }) => {
            return Err(StoreError::Foreign {
                path: path.to_owned(),
            });
        }
        Err(e) => return Err(failed(e.into())),
    };
    let get = |key: &str| -> Result<Option<u64>, StoreError> {
        Ok(meta
            .get(key)
            .map_err(|e| failed(e.into()))?
            .map(|v| v.value()))
    };
    match get("format")? {
        None => {
            return Err(StoreError::Foreign {
                path: path.to_owned(),
            });
        }
        Some(FORMAT) => {}
        Some(found) => {
            return Err(StoreError::Format {
                path: path.to_owned(),
                found,
            });
        }
    }
    let epoch = get("epoch")?.ok_or_else(|| damaged("it has no epoch"))?;
    let head = get("head")?.ok_or_else(|| damaged("it has no head"))?;
    let evicted_max = get("evicted_max")?.ok_or_else(|| damaged("it has no eviction mark"))?;
    let table = read.open_table(RECORDS).map_err(|e| failed(e.into()))?;
    let mut records = Vec::with_capacity(usize::try_from(table.len().unwrap_or(0)).unwrap_or(0));
    for entry in table.range::<u64>(..).map_err(|e| failed(e.into()))? {
        let (offset, bytes) = entry.map_err(|e| failed(e.into()))?;
        let offset = offset.value();
        let decoded =
            codec::decode(offset, bytes.value()).map_err(|source| StoreError::Corrupt {
                path: path.to_owned(),
                source,
            })?;
        records.push(Record {
            offset,
            topics: decoded.topics,
            event: decoded.event,
            age: now
                .duration_since(decoded.published_at)
                .unwrap_or(Duration::ZERO),
        });
    }
    Ok((
        epoch,
        Snapshot {
            head,
            evicted_max,
            records,
        },
    ))
}

/// Writes a fresh store's identity: this layout, a random epoch, nothing published yet.
fn initialise(db: &Database) -> Result<(u64, Snapshot), redb::Error> {
    // Random and non-zero, as the broker's own: cursors of another store (or of an in-memory
    // run) are recognised as another history.
    let epoch = RandomState::new().hash_one((SystemTime::now(), std::process::id())) | 1;
    let write: WriteTransaction = db.begin_write()?;
    {
        let mut meta = write.open_table(META)?;
        meta.insert("format", FORMAT)?;
        meta.insert("epoch", epoch)?;
        meta.insert("head", 0)?;
        meta.insert("evicted_max", 0)?;
        write.open_table(RECORDS)?;
    }
    write.commit()?;
    Ok((epoch, Snapshot::default()))
}
