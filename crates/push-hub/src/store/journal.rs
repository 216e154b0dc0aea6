//! The broker's journal in redb: one write transaction per group of publishes (their records
//! in, the evicted records out, the head and the eviction mark), committed with immediate
//! durability before the broker makes any of them visible.

use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use push_broker::{Evicted, Journal, JournalError};
use push_core::Published;
use redb::{Database, ReadableTable, WriteTransaction};

use super::codec;
use super::load::{META, RECORDS};

/// Where the store reads the wall clock (each record's publication time, from which a restore
/// computes its age).
pub(super) type WallClock = Arc<dyn Fn() -> SystemTime + Send + Sync>;

/// A scratch buffer larger than this is not kept between publishes.
const KEEP_SCRATCH: usize = 64 << 10;

/// The redb journal (see the module docs).
pub(super) struct RedbJournal {
    db: Database,
    path: PathBuf,
    wall: WallClock,
    /// The encoding buffer, reused (the broker calls one method at a time, under its lock).
    scratch: Mutex<Vec<u8>>,
    /// How many publish commits were made (each holding one or more publishes).
    commits: Arc<AtomicU64>,
}

impl fmt::Debug for RedbJournal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedbJournal")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl RedbJournal {
    pub(super) fn new(
        db: Database,
        path: PathBuf,
        wall: WallClock,
        commits: Arc<AtomicU64>,
    ) -> Self {
        Self {
            db,
            path,
            wall,
            scratch: Mutex::new(Vec::new()),
            commits,
        }
    }

    /// Removes the evicted records and raises the eviction mark, inside `write`.
    fn forget_in(write: &WriteTransaction, evicted: Evicted<'_>) -> Result<(), redb::Error> {
        if !evicted.offsets.is_empty() {
            let mut records = write.open_table(RECORDS)?;
            for &offset in evicted.offsets {
                records.remove(offset)?;
            }
        }
        let mut meta = write.open_table(META)?;
        let mark = meta.get("evicted_max")?.map_or(0, |v| v.value());
        if evicted.evicted_max > mark {
            meta.insert("evicted_max", evicted.evicted_max)?;
        }
        Ok(())
    }

    fn write(&self, published: &[Arc<Published>], evicted: Evicted<'_>) -> Result<(), redb::Error> {
        let mut scratch = self.scratch.lock().unwrap_or_else(PoisonError::into_inner);
        let write = self.db.begin_write()?;
        Self::forget_in(&write, evicted)?;
        let mut head = None;
        {
            let mut records = write.open_table(RECORDS)?;
            for published in published {
                scratch.clear();
                codec::encode(
                    published.topics(),
                    published.event(),
                    (self.wall)(),
                    &mut scratch,
                );
                let offset = published.cursor().offset();
                records.insert(offset, scratch.as_slice())?;
                head = Some(offset);
            }
        }
        if let Some(head) = head {
            write.open_table(META)?.insert("head", head)?;
        }
        // Durability::Immediate, redb's default: on disk when `commit` returns. One commit
        // (one sync) for every publish of the group.
        write.commit()?;
        self.commits.fetch_add(1, Ordering::Relaxed);
        if scratch.capacity() > KEEP_SCRATCH {
            *scratch = Vec::new();
        }
        Ok(())
    }

    fn report(&self, what: &str, error: redb::Error) -> JournalError {
        tracing::error!(path = %self.path.display(), %error, "history store: {what}");
        Box::new(error)
    }
}

impl Journal for RedbJournal {
    fn append(
        &self,
        published: &[Arc<Published>],
        evicted: Evicted<'_>,
    ) -> Result<(), JournalError> {
        // Dropping an uncommitted transaction aborts it: on error nothing of it is kept.
        self.write(published, evicted)
            .map_err(|e| self.report("a publish could not be made durable and was refused", e))
    }

    fn forget(&self, evicted: Evicted<'_>) -> Result<(), JournalError> {
        let forgotten = self
            .db
            .begin_write()
            .map_err(redb::Error::from)
            .and_then(|write| {
                Self::forget_in(&write, evicted)?;
                write.commit()?;
                Ok(())
            });
        forgotten.map_err(|e| self.report("evicted events could not be removed (retried later)", e))
    }
}
