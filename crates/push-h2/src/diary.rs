//! The per-connection push diary: which (path, ETag) pairs this connection already pushed.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};

/// The keys are [`resource_hash`]es, already mixed: the map uses them as they are.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used for keys; anything else is folded in, FNV-style.
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn write_u64(&mut self, key: u64) {
        self.0 = key;
    }
}

/// A bounded memory of what one connection pushed, keyed by path and ETag, so the same resource is
/// never pushed twice on a connection (as Apache's `H2PushDiarySize`). The oldest entry is forgotten
/// first. An entry the client reset (RST_STREAM) is kept and marked [`client_has`](Self::client_has):
/// a client cancels a push when its cache already holds the resource.
#[derive(Debug, Clone)]
pub struct PushDiary {
    capacity: usize,
    order: VecDeque<u64>,
    entries: HashMap<u64, bool, BuildHasherDefault<KeyHasher>>,
}

impl PushDiary {
    /// A diary of at most `capacity` entries (0 disables it).
    pub fn new(capacity: usize) -> Self {
        Self {
            capacity,
            order: VecDeque::new(),
            entries: HashMap::default(),
        }
    }

    /// Remembers a push of `path` with `etag`; false if it was already in the diary.
    pub fn record(&mut self, path: &str, etag: Option<&str>) -> bool {
        self.record_key(resource_hash(path, etag))
    }

    /// [`record`](Self::record) by [`resource_hash`].
    pub(crate) fn record_key(&mut self, key: u64) -> bool {
        if self.capacity == 0 {
            return true;
        }
        if self.entries.contains_key(&key) {
            return false;
        }
        while self.order.len() >= self.capacity {
            if let Some(old) = self.order.pop_front() {
                self.entries.remove(&old);
            }
        }
        self.order.push_back(key);
        self.entries.insert(key, false);
        true
    }

    /// The client reset the push of this resource: it has it already (or does not want it).
    pub fn mark_client_has(&mut self, path: &str, etag: Option<&str>) {
        let key = resource_hash(path, etag);
        if let Some(has) = self.entries.get_mut(&key) {
            *has = true;
        } else if self.record_key(key) {
            self.entries.insert(key, true);
        }
    }

    /// Forgets a resource (its promise was never sent).
    pub fn forget(&mut self, path: &str, etag: Option<&str>) {
        let key = resource_hash(path, etag);
        if self.entries.remove(&key).is_some() {
            self.order.retain(|&k| k != key);
        }
    }

    /// Whether this resource was pushed (or cancelled) on the connection.
    pub fn contains(&self, path: &str, etag: Option<&str>) -> bool {
        self.contains_key(resource_hash(path, etag))
    }

    /// [`contains`](Self::contains) by [`resource_hash`].
    pub(crate) fn contains_key(&self, key: u64) -> bool {
        self.entries.contains_key(&key)
    }

    /// Whether the client cancelled the push of this resource.
    pub fn client_has(&self, path: &str, etag: Option<&str>) -> bool {
        self.entries
            .get(&resource_hash(path, etag))
            .copied()
            .unwrap_or(false)
    }

    /// How many entries the diary holds.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// True when nothing was pushed yet.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// A stable 64-bit hash of a resource's path and ETag (FNV-1a, then a splitmix64 finaliser so the
/// high bits are mixed too). Stable across processes and versions: the cache digest cookie holds
/// these hashes. Weak ETags hash like strong ones (`W/"x"` and `"x"` name the same version).
pub(crate) fn resource_hash(path: &str, etag: Option<&str>) -> u64 {
    let etag = etag
        .map(|e| e.strip_prefix("W/").unwrap_or(e))
        .unwrap_or("");
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in path.as_bytes().iter().chain(b"\0").chain(etag.as_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h ^= h >> 30;
    h = h.wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h ^= h >> 27;
    h = h.wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^ (h >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dedups_by_path_and_etag() {
        let mut diary = PushDiary::new(4);
        assert!(diary.record("/a", Some("\"1\"")));
        assert!(!diary.record("/a", Some("W/\"1\"")));
        assert!(diary.record("/a", Some("\"2\"")));
        assert!(diary.record("/a", None));
        assert!(diary.contains("/a", Some("\"1\"")));
        assert!(!diary.contains("/b", None));
        assert_eq!(diary.len(), 3);
    }

    #[test]
    fn forgets_the_oldest_and_marks_cancels() {
        let mut diary = PushDiary::new(2);
        diary.record("/1", None);
        diary.record("/2", None);
        diary.record("/3", None);
        assert!(!diary.contains("/1", None));
        assert!(diary.contains("/3", None));
        diary.mark_client_has("/3", None);
        assert!(diary.client_has("/3", None));
        assert!(!diary.client_has("/2", None));
        diary.mark_client_has("/9", None);
        assert!(diary.client_has("/9", None));
        assert_eq!(diary.len(), 2);
        let mut off = PushDiary::new(0);
        assert!(off.record("/a", None) && off.record("/a", None));
        assert!(off.is_empty());
    }

    #[test]
    fn hash_is_stable() {
        assert_eq!(
            resource_hash("/style.css", Some("\"v1\"")),
            resource_hash("/style.css", Some("W/\"v1\""))
        );
        assert_ne!(resource_hash("/a", Some("b")), resource_hash("/a\0b", None));
        // Pinned: the cookie digest depends on it across releases.
        assert_eq!(resource_hash("/", None), resource_hash("/", Some("")));
    }
}
