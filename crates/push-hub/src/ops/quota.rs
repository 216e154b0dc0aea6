//! Quotas per client address and per token: streams held at once, and publishes per second
//! (a token bucket). Over a quota the answer is `429 Too Many Requests` with `Retry-After`.
//!
//! Tokens are secrets: the table keeps a keyed hash of each (SipHash with a per-process random
//! key), never the token. The table is bounded (`MAX_KEYS`): an entry that holds no stream and
//! whose bucket is full again is forgotten when room is needed, at most one sweep a second, and
//! a new key that finds the table full of busy clients is refused like an exceeded quota.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The most clients (addresses and tokens) tracked at once: about 64 bytes each, so 6 MiB.
pub const MAX_KEYS: usize = 100_000;

/// The `Retry-After` of a refused stream: streams end when their clients leave, which a server
/// cannot predict; a few seconds keeps a retrying client from spinning.
pub const STREAM_RETRY: Duration = Duration::from_secs(5);

/// Who a quota counts against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    /// A client address (after `--trusted-proxy` forwarding).
    Address(IpAddr),
    /// A token, by its keyed hash.
    Token(u64),
}

/// The limits (`0`: none).
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Streams per client address.
    pub streams_per_address: usize,
    /// Streams per token.
    pub streams_per_token: usize,
    /// Publishes per second per address and per token (bursts of as many).
    pub publish_rate: u32,
}

/// The quota table; cheap to clone.
#[derive(Debug, Clone)]
pub struct Quotas {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    limits: Limits,
    hasher: RandomState,
    table: Mutex<Table>,
}

#[derive(Debug)]
struct Table {
    entries: HashMap<Key, Entry>,
    last_sweep: Option<Instant>,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    streams: usize,
    /// Publishes left in the bucket, as of `refilled`.
    tokens: f64,
    refilled: Instant,
}

/// The keys a permit holds: a request has at most two (its address and its token), kept inline
/// so that a held stream's permit costs no allocation of its own (more spill to the heap).
type PermitKeys = smallvec::SmallVec<[Key; 2]>;

/// A stream held against the quotas of its keys; dropping it gives the streams back.
#[derive(Debug)]
pub struct StreamPermit {
    quotas: Quotas,
    keys: PermitKeys,
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut table = self.quotas.inner.lock();
        for key in &self.keys {
            if let Some(entry) = table.entries.get_mut(key) {
                entry.streams = entry.streams.saturating_sub(1);
            }
        }
    }
}

impl Quotas {
    /// A table with `limits`.
    pub fn new(limits: Limits) -> Self {
        Self {
            inner: Arc::new(Inner {
                limits,
                hasher: RandomState::new(),
                table: Mutex::new(Table {
                    entries: HashMap::new(),
                    last_sweep: None,
                }),
            }),
        }
    }

    /// The key of a token (a keyed hash; the token itself is not kept).
    pub fn token_key(&self, token: &str) -> Key {
        Key::Token(self.inner.hasher.hash_one(token))
    }

    /// Takes one stream for each of `keys`, or says how long to wait when one of them is at its
    /// limit (then nothing is taken).
    ///
    /// # Errors
    /// The `Retry-After` delay when a quota is full (or the table is).
    pub fn open_stream(&self, keys: &[Key], now: Instant) -> Result<StreamPermit, Duration> {
        let limits = self.inner.limits;
        let mut table = self.inner.lock();
        for key in keys {
            let limit = match key {
                Key::Address(_) => limits.streams_per_address,
                Key::Token(_) => limits.streams_per_token,
            };
            if limit == 0 {
                continue;
            }
            let streams = table.entries.get(key).map_or(0, |e| e.streams);
            if streams >= limit {
                return Err(STREAM_RETRY);
            }
        }
        let mut taken = PermitKeys::new();
        for key in keys {
            let burst = f64::from(limits.publish_rate);
            let Some(entry) = table.entry(*key, burst, now) else {
                drop(table);
                // Give back what was taken before the table filled.
                drop(StreamPermit {
                    quotas: self.clone(),
                    keys: taken,
                });
                return Err(STREAM_RETRY);
            };
            entry.streams += 1;
            taken.push(*key);
        }
        Ok(StreamPermit {
            quotas: self.clone(),
            keys: taken,
        })
    }

    /// Spends one publish from each of `keys`' buckets, or says how long until there is one
    /// (then nothing is spent).
    ///
    /// # Errors
    /// The `Retry-After` delay (at least a second, as the header counts in seconds).
    pub fn publish(&self, keys: &[Key], now: Instant) -> Result<(), Duration> {
        let rate = self.inner.limits.publish_rate;
        if rate == 0 {
            return Ok(());
        }
        let rate = f64::from(rate);
        let mut table = self.inner.lock();
        let mut wait = 0.0_f64;
        for key in keys {
            let Some(entry) = table.entry(*key, rate, now) else {
                return Err(Duration::from_secs(1));
            };
            entry.refill(rate, now);
            if entry.tokens < 1.0 {
                wait = wait.max((1.0 - entry.tokens) / rate);
            }
        }
        if wait > 0.0 {
            return Err(Duration::from_secs_f64(wait.ceil().max(1.0)));
        }
        for key in keys {
            if let Some(entry) = table.entries.get_mut(key) {
                entry.tokens -= 1.0;
            }
        }
        Ok(())
    }

    /// How many keys the table tracks now.
    pub fn tracked(&self) -> usize {
        self.inner.lock().entries.len()
    }
}

impl Inner {
    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        // A panic elsewhere leaves counts that are still counts.
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Table {
    /// The entry of `key`, made if there is room (after at most one sweep a second).
    fn entry(&mut self, key: Key, burst: f64, now: Instant) -> Option<&mut Entry> {
        if !self.entries.contains_key(&key) && self.entries.len() >= MAX_KEYS {
            let due = self
                .last_sweep
                .is_none_or(|at| now.saturating_duration_since(at) >= Duration::from_secs(1));
            if !due {
                return None;
            }
            self.last_sweep = Some(now);
            self.entries.retain(|_, entry| {
                entry.refill(burst, now);
                entry.streams > 0 || entry.tokens < burst
            });
            if self.entries.len() >= MAX_KEYS {
                return None;
            }
        }
        Some(self.entries.entry(key).or_insert(Entry {
            streams: 0,
            tokens: burst,
            refilled: now,
        }))
    }
}

impl Entry {
    fn refill(&mut self, rate: f64, now: Instant) {
        let elapsed = now.saturating_duration_since(self.refilled).as_secs_f64();
        self.tokens = (self.tokens + elapsed * rate).min(rate);
        self.refilled = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn quotas(streams: usize, rate: u32) -> Quotas {
        Quotas::new(Limits {
            streams_per_address: streams,
            streams_per_token: streams * 2,
            publish_rate: rate,
        })
    }

    fn addr(n: u8) -> Key {
        Key::Address(IpAddr::from([192, 0, 2, n]))
    }

    #[test]
    fn streams_are_held_until_dropped() {
        let q = quotas(2, 10);
        let now = Instant::now();
        let a = q.open_stream(&[addr(1)], now).unwrap();
        let _b = q.open_stream(&[addr(1)], now).unwrap();
        assert_eq!(q.open_stream(&[addr(1)], now).unwrap_err(), STREAM_RETRY);
        // Another address is not affected.
        let _c = q.open_stream(&[addr(2)], now).unwrap();
        drop(a);
        let _d = q.open_stream(&[addr(1)], now).unwrap();
    }

    #[test]
    fn a_refusal_takes_nothing() {
        let q = quotas(1, 10);
        let now = Instant::now();
        let token = q.token_key("secret");
        let _held = q.open_stream(&[addr(1)], now).unwrap();
        // The address is full: the token's count must not move.
        assert!(q.open_stream(&[token, addr(1)], now).is_err());
        let _t1 = q.open_stream(&[token, addr(2)], now).unwrap();
        let _t2 = q.open_stream(&[token, addr(3)], now).unwrap();
        assert!(
            q.open_stream(&[token, addr(4)], now).is_err(),
            "token limit is 2"
        );
    }

    #[test]
    fn publishes_refill_at_the_rate() {
        let q = quotas(0, 2);
        let t0 = Instant::now();
        assert!(q.publish(&[addr(1)], t0).is_ok());
        assert!(q.publish(&[addr(1)], t0).is_ok());
        let wait = q.publish(&[addr(1)], t0).unwrap_err();
        assert_eq!(wait, Duration::from_secs(1));
        assert!(
            q.publish(&[addr(1)], t0 + Duration::from_millis(500))
                .is_ok()
        );
        assert!(
            q.publish(&[addr(1)], t0 + Duration::from_millis(500))
                .is_err()
        );
        // A refused publish spent nothing from the other key.
        let token = q.token_key("t");
        assert!(
            q.publish(&[token, addr(1)], t0 + Duration::from_millis(500))
                .is_err()
        );
        assert!(q.publish(&[token], t0 + Duration::from_millis(500)).is_ok());
        assert!(q.publish(&[token], t0 + Duration::from_millis(500)).is_ok());
        // No limit.
        let free = quotas(0, 0);
        assert!((0..10_000).all(|_| free.publish(&[addr(1)], t0).is_ok()));
    }

    #[test]
    fn the_table_is_bounded_and_forgets_idle_clients() {
        let q = quotas(1, 1);
        let t0 = Instant::now();
        let mut held = Vec::new();
        for n in 0..MAX_KEYS {
            let key = Key::Token(n as u64);
            if n % 2 == 0 {
                held.push(q.open_stream(&[key], t0).unwrap());
            } else {
                q.publish(&[key], t0).unwrap();
            }
        }
        assert_eq!(q.tracked(), MAX_KEYS);
        // Full of clients with a stream or an empty bucket: a newcomer is refused.
        assert!(q.publish(&[Key::Token(u64::MAX)], t0).is_err());
        // Two seconds on, the buckets are full again: the sweep frees their entries.
        let later = t0 + Duration::from_secs(2);
        assert!(q.publish(&[Key::Token(u64::MAX)], later).is_ok());
        assert_eq!(q.tracked(), MAX_KEYS / 2 + 1);
        drop(held);
    }
}
