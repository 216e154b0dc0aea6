//! The registry's methods on Redis (`--redis`, see `shared`): opening, catching up with the
//! other hubs' changes, the compare-and-set edit, and the fan-out's lease and cursor.

use std::sync::{Arc, Mutex, PoisonError, RwLock};

use push_webhook::sender::RedisLink;

use super::super::shared::{Put, Shared, Swap};
use super::{Backing, Registered, Registration, Registry, RegistryError, State, same_registration};

impl Registry {
    /// `register` on Redis: one script checks the owner's client id and the limit and adds.
    pub(super) fn register_shared(
        &self,
        shared: &Shared,
        order: &Mutex<()>,
        new: Registration,
    ) -> Result<Registered, RegistryError> {
        let _order = order.lock().unwrap_or_else(PoisonError::into_inner);
        let owner = owner_key(&new.owner, &new.client_id);
        let put = shared.put(&new.id, &owner, &new.record(), self.max)?;
        self.refresh_locked(shared)?;
        Ok(match put {
            Put::Created => Registered::Created(Arc::new(new)),
            Put::Full => Registered::Full,
            Put::Existing(record) => {
                let existing = Registration::from_record(&record)
                    .ok_or_else(|| RegistryError::Corrupt(new.id.clone()))?;
                if same_registration(&existing, &new) {
                    Registered::Existing(Arc::new(existing))
                } else {
                    Registered::Conflict(Arc::new(existing))
                }
            }
        })
    }

    /// `remove` on Redis.
    pub(super) fn remove_shared(
        &self,
        shared: &Shared,
        order: &Mutex<()>,
        id: &str,
    ) -> Result<bool, RegistryError> {
        let _order = order.lock().unwrap_or_else(PoisonError::into_inner);
        let removed = shared.remove(id)?;
        self.refresh_locked(shared)?;
        Ok(removed)
    }

    /// The registry every hub on the Redis (or Redis Cluster) behind `link` shares (see
    /// `shared`), holding at most `max` registrations; loaded here. Blocking.
    ///
    /// # Errors
    /// [`RegistryError::Redis`] when Redis does not answer, [`RegistryError::Corrupt`].
    pub fn open_redis(link: RedisLink, max: usize) -> Result<Self, RegistryError> {
        let registry = Self {
            backing: Backing::Redis(Box::new(Shared::open(link, max)?), Mutex::new(())),
            state: RwLock::new(State::default()),
            max,
        };
        registry.refresh()?;
        Ok(registry)
    }

    /// With Redis: applies the changes other hubs made since this copy's version (one round
    /// trip when there is none). Without, nothing. Blocking.
    ///
    /// # Errors
    /// [`RegistryError`]: the copy stays as it was.
    pub fn refresh(&self) -> Result<(), RegistryError> {
        let Backing::Redis(shared, order) = &self.backing else {
            return Ok(());
        };
        let _order = order.lock().unwrap_or_else(PoisonError::into_inner);
        self.refresh_locked(shared)
    }

    /// [`refresh`](Self::refresh) from code that may run on an async worker (the engine's
    /// signer and observer, a route's lookup): on a multi-thread tokio runtime the worker hands
    /// its other tasks to another thread while this one waits for Redis (up to the link's 5 s
    /// per step), so a slow Redis holds up the caller only, never the connections and
    /// deliveries that share its worker.
    pub(super) fn refresh_in_place(&self) -> Result<(), RegistryError> {
        use tokio::runtime::{Handle, RuntimeFlavor};
        match Handle::try_current() {
            Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(|| self.refresh())
            }
            _ => self.refresh(),
        }
    }

    pub(super) fn refresh_locked(&self, shared: &Shared) -> Result<(), RegistryError> {
        let seen = self
            .state
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .seen;
        let changes = shared.since(seen)?;
        if changes.version == seen {
            return Ok(());
        }
        let mut decoded = Vec::with_capacity(changes.records.len());
        for (id, record) in changes.records {
            let registration = match record {
                Some(bytes) => Some(Arc::new(
                    Registration::from_record(&bytes)
                        .ok_or_else(|| RegistryError::Corrupt(id.clone()))?,
                )),
                None => None,
            };
            decoded.push((id, registration));
        }
        let mut state = self.state.write().unwrap_or_else(PoisonError::into_inner);
        if changes.full {
            state.by_id.clear();
            state.by_owner.clear();
        }
        for (id, registration) in decoded {
            match registration {
                Some(registration) => state.insert(registration),
                None => state.drop_id(&id),
            }
        }
        state.seen = changes.version;
        state.rebuild();
        Ok(())
    }

    /// `change` on Redis: the edit is applied to the current record and set only if nobody
    /// changed it meanwhile (else edited again: a rotation on one hub and a disable on another
    /// both hold).
    pub(super) fn change_shared(
        &self,
        shared: &Shared,
        id: &str,
        edit: impl Fn(&mut Registration) -> bool,
    ) -> Result<Option<Arc<Registration>>, RegistryError> {
        self.refresh_locked(shared)?;
        let Some(current) = self.get_local(id) else {
            return Ok(None);
        };
        let mut old = current.record();
        for _ in 0..8 {
            let mut changed = Registration::from_record(&old)
                .ok_or_else(|| RegistryError::Corrupt(id.to_owned()))?;
            if !edit(&mut changed) {
                return Ok(None);
            }
            match shared.swap(id, &old, &changed.record())? {
                Swap::Done => {
                    self.refresh_locked(shared)?;
                    return Ok(Some(Arc::new(changed)));
                }
                Swap::Changed(now) => old = now,
                Swap::Gone => return Ok(None),
            }
        }
        Err(RegistryError::Corrupt(id.to_owned()))
    }

    /// With Redis: takes or renews the fan-out's lease for `token` (see `fanout`). Blocking.
    ///
    /// # Errors
    /// [`RegistryError::Redis`].
    pub(crate) fn lead(
        &self,
        token: &str,
        lease: std::time::Duration,
    ) -> Result<bool, RegistryError> {
        match &self.backing {
            Backing::Redis(shared, _) => shared.lead(token, lease),
            Backing::Redb(_) => Ok(true),
        }
    }

    /// With Redis: gives the fan-out's lease up for good (see `Shared::resign`). Blocking.
    ///
    /// # Errors
    /// [`RegistryError::Redis`]: the lease then runs out by itself.
    pub(crate) fn resign(&self, token: &str) -> Result<(), RegistryError> {
        match &self.backing {
            Backing::Redis(shared, _) => shared.resign(token),
            Backing::Redb(_) => Ok(()),
        }
    }

    /// With Redis: records `cursor` (if any) as the lease's holder `token` and reads the
    /// fan-out's cursor back; `None` when `token` lost the lease. Blocking.
    ///
    /// # Errors
    /// [`RegistryError::Redis`].
    pub(crate) fn led_cursor(
        &self,
        token: &str,
        cursor: Option<&str>,
    ) -> Result<Option<String>, RegistryError> {
        match &self.backing {
            Backing::Redis(shared, _) => shared.cursor(token, cursor),
            Backing::Redb(_) => Ok(None),
        }
    }
}

/// The owner key of `:owners` (length-prefixed: no owner and client id pair collides).
fn owner_key(owner: &str, client_id: &str) -> String {
    format!("{}:{owner}{client_id}", owner.len())
}
