//! One blocking Redis connection made at first use and made again after a failure, with
//! bounded I/O: what the Redis queue and push-hub's shared callback registry run their
//! scripts on (both off the async threads).

use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use redis::{Connection, RedisError};

/// How long one connect, read or write may take before the step fails.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// A lazily made, self-mending connection to one Redis server.
pub struct RedisLink {
    client: redis::Client,
    connection: Mutex<Option<Connection>>,
}

impl core::fmt::Debug for RedisLink {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("RedisLink").finish_non_exhaustive()
    }
}

impl RedisLink {
    /// A link to the Redis at `url` (`redis://`, `rediss://`); nothing connects yet.
    ///
    /// # Errors
    /// The client's error when `url` is not a Redis URL.
    pub fn open(url: &str) -> Result<Self, RedisError> {
        Ok(Self {
            client: redis::Client::open(url)?,
            connection: Mutex::new(None),
        })
    }

    /// Runs `step` on the connection, connecting first if there is none (each I/O bounded
    /// by 5 s); a failed step drops the connection, so the next one starts afresh. Steps run
    /// one at a time.
    ///
    /// # Errors
    /// The connect's or the step's error.
    pub fn with<T>(
        &self,
        step: impl FnOnce(&mut Connection) -> Result<T, RedisError>,
    ) -> Result<T, RedisError> {
        let mut slot = self
            .connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let connection = match slot.take() {
            Some(connection) => slot.insert(connection),
            None => {
                let connection = self.client.get_connection_with_timeout(IO_TIMEOUT)?;
                connection.set_read_timeout(Some(IO_TIMEOUT))?;
                connection.set_write_timeout(Some(IO_TIMEOUT))?;
                slot.insert(connection)
            }
        };
        step(connection).inspect_err(|_| *slot = None)
    }
}
