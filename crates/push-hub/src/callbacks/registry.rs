//! The registrations, durable: a redb file (`DIR/callbacks.redb`; in memory with
//! `--in-memory`) written before any change is answered, and a copy in memory that the
//! fan-out reads without touching the disk. The file also keeps the fan-out's cursor: the
//! position in the hub's history up to which every event has been queued for delivery.
//!
//! Every method that writes is blocking (one redb commit, synced): call it from
//! `spawn_blocking`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use redb::{Database, ReadableDatabase as _, ReadableTable as _, TableDefinition};

use super::registration::{Disabled, Previous, Registration, Target};
use super::shared::Shared;

/// hub id → the registration's record.
const REGISTRATIONS: TableDefinition<'_, &str, &[u8]> = TableDefinition::new("registrations");
/// "fanout" → the fan-out's cursor.
const META: TableDefinition<'_, &str, &str> = TableDefinition::new("meta");

/// The file under the data directory.
pub const REGISTRY_FILE: &str = "callbacks.redb";

/// Why the registry failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The file could not be opened.
    #[error("cannot open the callbacks registry {path}")]
    Open {
        /// The file.
        path: PathBuf,
        /// redb's error.
        #[source]
        source: redb::DatabaseError,
    },
    /// A read or write failed.
    #[error("the callbacks registry's storage failed")]
    Storage(#[source] redb::Error),
    /// A record does not decode.
    #[error("registration {0} in the callbacks registry does not decode")]
    Corrupt(String),
    /// The shared registry's Redis (`--redis`) failed.
    #[error("the callbacks registry's Redis failed")]
    Redis(#[source] redis::RedisError),
}

impl<E: Into<redb::Error>> From<E> for RegistryError {
    fn from(e: E) -> Self {
        Self::Storage(e.into())
    }
}

/// What a registration call came to.
#[derive(Debug)]
pub enum Registered {
    /// A new registration.
    Created(Arc<Registration>),
    /// The same owner registered the same client id, URL and topics before: that one.
    Existing(Arc<Registration>),
    /// The same owner's client id names a registration with another URL or topics.
    Conflict(Arc<Registration>),
    /// The registry holds its maximum.
    Full,
}

#[derive(Default)]
struct State {
    by_id: HashMap<String, Arc<Registration>>,
    /// (owner, client id) → hub id.
    by_owner: HashMap<(String, String), String>,
    /// The active registrations, rebuilt on each change: what the fan-out matches.
    active: Arc<Vec<Arc<Registration>>>,
    /// With Redis: the version of the shared registry this copy holds.
    seen: u64,
}

impl State {
    fn put(&mut self, registration: Arc<Registration>) {
        self.insert(registration);
        self.rebuild();
    }

    /// Adds or replaces one, without rebuilding the active list.
    fn insert(&mut self, registration: Arc<Registration>) {
        self.drop_id(&registration.id);
        let key = (registration.owner.clone(), registration.client_id.clone());
        self.by_owner.insert(key, registration.id.clone());
        self.by_id.insert(registration.id.clone(), registration);
    }

    /// Drops one, without rebuilding the active list.
    fn drop_id(&mut self, id: &str) {
        if let Some(old) = self.by_id.remove(id) {
            self.by_owner
                .remove(&(old.owner.clone(), old.client_id.clone()));
        }
    }

    fn rebuild(&mut self) {
        let mut active: Vec<_> = self
            .by_id
            .values()
            .filter(|r| r.disabled.is_none())
            .cloned()
            .collect();
        active.sort_by_key(|r| r.created);
        self.active = Arc::new(active);
    }
}

/// The registry (see the module docs).
pub struct Registry {
    backing: Backing,
    state: RwLock<State>,
    max: usize,
}

/// Where the registrations are kept.
enum Backing {
    /// This hub's file (or memory).
    Redb(Database),
    /// Redis, shared by every hub on it (`--redis`); the lock orders this hub's reads of the
    /// changes with its writes, so a copy never goes back to an older version.
    Redis(Box<Shared>, Mutex<()>),
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry")
            .field("max", &self.max)
            .finish_non_exhaustive()
    }
}

impl Registry {
    /// Opens (or creates) `dir/callbacks.redb`, or an in-memory registry when `dir` is
    /// `None`, holding at most `max` registrations.
    ///
    /// # Errors
    /// [`RegistryError`] when the file cannot be opened or a record does not decode.
    pub fn open(dir: Option<&Path>, max: usize) -> Result<Self, RegistryError> {
        let db = match dir {
            Some(dir) => {
                let path = dir.join(REGISTRY_FILE);
                let open_err = |source| RegistryError::Open {
                    path: path.clone(),
                    source,
                };
                std::fs::create_dir_all(dir)
                    .map_err(|e| open_err(redb::DatabaseError::Storage(e.into())))?;
                redb::Builder::new().create(&path).map_err(open_err)?
            }
            None => redb::Builder::new()
                .create_with_backend(redb::backends::InMemoryBackend::new())
                .map_err(|source| RegistryError::Open {
                    path: PathBuf::from("(memory)"),
                    source,
                })?,
        };
        let write = db.begin_write()?;
        write.open_table(REGISTRATIONS)?;
        write.open_table(META)?;
        write.commit()?;
        let mut state = State::default();
        {
            let read = db.begin_read()?;
            for entry in read.open_table(REGISTRATIONS)?.iter()? {
                let (id, record) = entry?;
                let registration = Registration::from_record(record.value())
                    .ok_or_else(|| RegistryError::Corrupt(id.value().to_owned()))?;
                state.put(Arc::new(registration));
            }
        }
        Ok(Self {
            backing: Backing::Redb(db),
            state: RwLock::new(state),
            max,
        })
    }

    /// Whether the registrations are shared through Redis.
    pub fn is_shared(&self) -> bool {
        matches!(self.backing, Backing::Redis(..))
    }

    /// Registers `new`, or finds the one it repeats (same owner, client id, target URL and
    /// topics). Blocking.
    ///
    /// # Errors
    /// [`RegistryError::Storage`]: nothing was registered.
    pub fn register(&self, new: Registration) -> Result<Registered, RegistryError> {
        if let Backing::Redis(shared, order) = &self.backing {
            return self.register_shared(shared, order, new);
        }
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        let key = (new.owner.clone(), new.client_id.clone());
        if let Some(existing) = state.by_owner.get(&key).and_then(|id| state.by_id.get(id)) {
            return Ok(if same_registration(existing, &new) {
                Registered::Existing(Arc::clone(existing))
            } else {
                Registered::Conflict(Arc::clone(existing))
            });
        }
        if state.by_id.len() >= self.max {
            return Ok(Registered::Full);
        }
        self.store(&new)?;
        let new = Arc::new(new);
        state.put(Arc::clone(&new));
        Ok(Registered::Created(new))
    }

    /// The registration `id`. With Redis, an id this copy does not know is looked up there
    /// (one round trip, blocking, but on a tokio worker only the caller waits: see
    /// `refresh_in_place`; a registration made on another hub a moment ago is found, not
    /// taken for gone).
    pub fn get(&self, id: &str) -> Option<Arc<Registration>> {
        let found = {
            let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
            state.by_id.get(id).cloned()
        };
        if found.is_some() || !self.is_shared() || self.refresh_in_place().is_err() {
            return found;
        }
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        state.by_id.get(id).cloned()
    }

    /// The active registrations (a snapshot, oldest first).
    pub fn active(&self) -> Arc<Vec<Arc<Registration>>> {
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        Arc::clone(&state.active)
    }

    /// How many registrations there are (active and disabled).
    pub fn len(&self) -> usize {
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        state.by_id.len()
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removes `id`; whether it was there. Blocking.
    ///
    /// # Errors
    /// [`RegistryError::Storage`]: nothing was removed.
    pub fn remove(&self, id: &str) -> Result<bool, RegistryError> {
        let db = match &self.backing {
            Backing::Redb(db) => db,
            Backing::Redis(shared, order) => return self.remove_shared(shared, order, id),
        };
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        let Some(registration) = state.by_id.get(id).cloned() else {
            return Ok(false);
        };
        let write = db.begin_write()?;
        write.open_table(REGISTRATIONS)?.remove(id)?;
        write.commit()?;
        state.by_id.remove(id);
        state
            .by_owner
            .remove(&(registration.owner.clone(), registration.client_id.clone()));
        state.rebuild();
        Ok(true)
    }

    /// Replaces a webhook's secret by `secret`, the current one signing beside it until
    /// `until` (Unix seconds); the registration after. Blocking.
    ///
    /// # Errors
    /// [`RegistryError::Storage`]: nothing changed.
    pub fn rotate(
        &self,
        id: &str,
        secret: push_webhook::Secret,
        until: u64,
    ) -> Result<Option<Arc<Registration>>, RegistryError> {
        self.change(id, |r| match &mut r.target {
            Target::Webhook(webhook) => {
                let old = std::mem::replace(&mut webhook.secret, secret.clone());
                webhook.previous = Some(Previous { secret: old, until });
                true
            }
            // A Web Push subscription has no secret.
            Target::WebPush(_) => false,
        })
    }

    /// Disables `id` for `reason` at `at` (Unix milliseconds); the registration when it was
    /// active until now (`None` when it was gone or disabled already). Blocking.
    ///
    /// # Errors
    /// [`RegistryError::Storage`]: nothing changed.
    pub fn disable(
        &self,
        id: &str,
        reason: &str,
        at: u64,
    ) -> Result<Option<Arc<Registration>>, RegistryError> {
        self.change(id, |r| {
            if r.disabled.is_some() {
                return false;
            }
            r.disabled = Some(Disabled {
                reason: reason.to_owned(),
                at,
            });
            true
        })
    }

    /// Applies `edit` to a copy of `id`, stores and publishes it when `edit` says it changed.
    fn change(
        &self,
        id: &str,
        edit: impl Fn(&mut Registration) -> bool,
    ) -> Result<Option<Arc<Registration>>, RegistryError> {
        if let Backing::Redis(shared, order) = &self.backing {
            let _order = order.lock().unwrap_or_else(PoisonError::into_inner);
            return self.change_shared(shared, id, edit);
        }
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        let Some(current) = state.by_id.get(id) else {
            return Ok(None);
        };
        let mut changed = Registration::clone(current);
        if !edit(&mut changed) {
            return Ok(None);
        }
        self.store(&changed)?;
        let changed = Arc::new(changed);
        state.put(Arc::clone(&changed));
        Ok(Some(changed))
    }

    fn get_local(&self, id: &str) -> Option<Arc<Registration>> {
        let state = self.state.read().unwrap_or_else(PoisonError::into_inner);
        state.by_id.get(id).cloned()
    }

    fn store(&self, registration: &Registration) -> Result<(), RegistryError> {
        let Backing::Redb(db) = &self.backing else {
            unreachable!("the Redis registry writes through `shared`");
        };
        let write = db.begin_write()?;
        write
            .open_table(REGISTRATIONS)?
            .insert(registration.id.as_str(), registration.record().as_slice())?;
        write.commit()?;
        Ok(())
    }

    /// The fan-out's cursor: every event up to it has been queued.
    ///
    /// # Errors
    /// [`RegistryError::Storage`].
    pub fn fanout_cursor(&self) -> Result<Option<String>, RegistryError> {
        let Backing::Redb(db) = &self.backing else {
            return Ok(None);
        };
        let read = db.begin_read()?;
        let cursor = read
            .open_table(META)?
            .get("fanout")?
            .map(|v| v.value().to_owned());
        Ok(cursor)
    }

    /// Records the fan-out's cursor. Blocking.
    ///
    /// # Errors
    /// [`RegistryError::Storage`].
    pub fn set_fanout_cursor(&self, cursor: &str) -> Result<(), RegistryError> {
        let Backing::Redb(db) = &self.backing else {
            return Ok(());
        };
        let write = db.begin_write()?;
        write.open_table(META)?.insert("fanout", cursor)?;
        write.commit()?;
        Ok(())
    }
}

/// Whether `new` repeats `existing` (same selector, destination and lane).
fn same_registration(existing: &Registration, new: &Registration) -> bool {
    existing.selector == new.selector
        && same_destination(&existing.target, &new.target)
        && existing.in_flight == new.in_flight
}

/// Whether two targets deliver to the same place (secrets aside).
fn same_destination(a: &Target, b: &Target) -> bool {
    match (a, b) {
        (Target::Webhook(a), Target::Webhook(b)) => a.url == b.url,
        (Target::WebPush(a), Target::WebPush(b)) => a == b,
        _ => false,
    }
}

#[path = "registry_shared.rs"]
mod shared_impl;
