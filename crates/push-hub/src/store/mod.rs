//! The hub's history on disk: an embedded, crash-safe [redb](https://docs.rs/redb) file under
//! the data directory (`--data-dir`, default `./push-hub-data`), so a restart resumes every
//! client exactly.
//!
//! [`open`] returns the hub's [`MemoryBroker`], restored from the file and journalling into it
//! ([`push_broker::Journal`]): the same epoch and offsets as before the restart (every cursor a
//! client holds, and every Mercure id still retained, resumes exactly where it was), each event
//! expiring when it would have, the id index rebuilt from the events' ids. A fresh directory
//! gets a new file with a random epoch.
//!
//! # What a publish acknowledgement guarantees
//!
//! The broker calls the journal inside its publish, before any subscriber can see the event:
//! one redb write transaction (the event in, the events evicted since the last write out, the
//! head) committed with immediate durability, so when a publish returns its cursor (the hub's
//! `200`), the event is on disk (`fsync`ed) and survives a crash or power loss. A write that
//! fails refuses the publish (the hub answers `503`): no subscriber ever saw an event a restart
//! could lose.
//!
//! Concurrent publishes share a commit (group commit, push-broker's asynchronous publish):
//! while one commit syncs, the publishes arriving meanwhile queue, and the next commit holds
//! them all (their records in one transaction, one sync), each acknowledged only after it. A
//! lone publisher still pays one sync per publish; many pay about one per group. Subscribers
//! never wait for the disk, and neither do the runtime's workers (the commit runs on the
//! broker's committer thread).
//!
//! # Bounded like the broker
//!
//! The file holds the events the broker retains and nothing else: evictions by count, age or
//! bytes (the broker's [`push_broker::Config`]) remove their records, at the latest with the
//! next write (the sweep's expiries with the sweep). redb reuses the pages of removed records,
//! so the file's size follows the retained history, not the traffic. A restart with smaller
//! limits keeps what they allow and removes the rest.
//!
//! # Crash safety
//!
//! redb's commits are atomic: after a crash the file holds every acknowledged publish and
//! nothing half-written (a crash between commits loses no acknowledged event; evictions not yet
//! written are redone by the restore, which replays the records through the same bounds). The
//! open checks the file's integrity (it reads the whole file once), so a file damaged outside
//! redb is a [`StoreError`], never a panic or a silent loss; so is a file another application
//! wrote, or a newer layout.

mod codec;
#[cfg(test)]
mod group_tests;
mod journal;
mod load;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use push_broker::{MemoryBroker, RestoreError};
use redb::Database;

pub use codec::Corrupt;
use journal::{RedbJournal, WallClock};

/// The store's file name inside the data directory.
pub const FILE_NAME: &str = "history.redb";

/// The default [`Config::cache_bytes`]: 16 MiB.
pub const DEFAULT_CACHE_BYTES: usize = 16 << 20;

/// Opens (or creates) the store under `dir` and returns the broker restored from it and
/// journalling into it, with the limits of `broker` (see the [module docs](self)).
///
/// # Errors
/// A [`StoreError`] that names the file and what is wrong: the directory cannot be created,
/// the file cannot be opened (another process holds it, an I/O error), it is damaged, or it is
/// not a push-hub history store.
pub fn open(
    dir: impl AsRef<Path>,
    broker: push_broker::Config,
) -> Result<MemoryBroker, StoreError> {
    Config::default().open(dir, broker)
}

/// How the store is opened. The defaults suit the hub; tests move the wall clock.
#[derive(Clone)]
pub struct Config {
    cache_bytes: usize,
    wall: WallClock,
    commits: Arc<AtomicU64>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            cache_bytes: DEFAULT_CACHE_BYTES,
            wall: Arc::new(SystemTime::now),
            commits: Arc::default(),
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("cache_bytes", &self.cache_bytes)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// The memory redb may use to cache the file's pages. Default 16 MiB
    /// ([`DEFAULT_CACHE_BYTES`]): the store is written far more than it is read (it is read
    /// once, at boot), so a small cache costs little, and redb's own default (1 GiB) is the
    /// whole memory of a small deployment.
    #[must_use]
    pub fn with_cache_bytes(mut self, bytes: usize) -> Self {
        self.cache_bytes = bytes;
        self
    }

    /// The wall clock records are stamped with (their age survives a restart through it).
    /// Default: [`SystemTime::now`]. A clock that goes back makes the records stamped "in the
    /// future" count as new at the next boot: they expire late, never early.
    #[must_use]
    pub fn with_wall_clock(mut self, now: impl Fn() -> SystemTime + Send + Sync + 'static) -> Self {
        self.wall = Arc::new(now);
        self
    }

    /// The configured cache size.
    pub fn cache_bytes(&self) -> usize {
        self.cache_bytes
    }

    /// How many publish commits the stores opened with this configuration (and its clones)
    /// have made so far: each holds one publish or a group of concurrent ones, so fewer
    /// commits than publishes means publishes shared their syncs.
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// [`open`] with this configuration.
    ///
    /// # Errors
    /// As [`open`].
    pub fn open(
        &self,
        dir: impl AsRef<Path>,
        broker: push_broker::Config,
    ) -> Result<MemoryBroker, StoreError> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Dir {
            path: dir.to_owned(),
            source,
        })?;
        let path = dir.join(FILE_NAME);
        let db = redb::Builder::new()
            .set_cache_size(self.cache_bytes)
            .set_check_integrity_on_open(true)
            .create(&path)
            .map_err(|source| StoreError::Open {
                path: path.clone(),
                source,
            })?;
        self.restore(db, path, broker)
    }

    /// Restores the broker from an open database and sets it journalling into it.
    fn restore(
        &self,
        db: Database,
        path: PathBuf,
        broker: push_broker::Config,
    ) -> Result<MemoryBroker, StoreError> {
        let (epoch, snapshot) = load::load(&db, &path, (self.wall)())?;
        let journal = RedbJournal::new(
            db,
            path.clone(),
            Arc::clone(&self.wall),
            Arc::clone(&self.commits),
        );
        MemoryBroker::restore(broker.with_journal(Arc::new(journal)), epoch, snapshot)
            .map_err(|source| StoreError::Restore { path, source })
    }
}

/// Why the store could not be opened. Each names the file; the cause is the
/// [`source`](std::error::Error::source).
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The data directory could not be created.
    #[error("cannot create the data directory {}", path.display())]
    Dir {
        /// The directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file could not be opened: not a redb file, damaged, held by another process, or
    /// an I/O error.
    #[error("cannot open the history store {} (is another push-hub using it?)", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// redb's error.
        #[source]
        source: redb::DatabaseError,
    },
    /// The file is a redb database another application wrote.
    #[error(
        "{} is not a push-hub history store (another application's database); move it away or choose another data directory",
        path.display()
    )]
    Foreign {
        /// The file.
        path: PathBuf,
    },
    /// The file was written in a layout this version does not read (a newer push-hub).
    #[error(
        "the history store {} has layout {found}; this push-hub reads layout {}",
        path.display(),
        load::FORMAT
    )]
    Format {
        /// The file.
        path: PathBuf,
        /// The layout found.
        found: u64,
    },
    /// The file is missing an entry every push-hub store has.
    #[error("the history store {} is damaged: {what}", path.display())]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is missing.
        what: &'static str,
    },
    /// A record does not decode.
    #[error("the history store {} is damaged", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Which record and what is wrong with it.
        #[source]
        source: Corrupt,
    },
    /// Reading the file failed.
    #[error("reading the history store {} failed", path.display())]
    Database {
        /// The file.
        path: PathBuf,
        /// redb's error.
        #[source]
        source: redb::Error,
    },
    /// The records are not a history a broker could have written.
    #[error("the history store {} holds an impossible history", path.display())]
    Restore {
        /// The file.
        path: PathBuf,
        /// What is impossible about it.
        #[source]
        source: RestoreError,
    },
}
