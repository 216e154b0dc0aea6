//! The id index: from a publisher's event id (Mercure's update id) to the retained event that
//! carries it, so a client resuming with that id resumes at its cursor.
//!
//! The index holds the retained events themselves (`Arc<Published>`, whose event carries the id
//! text), keyed by a seeded hash of the id: no second copy of the id, and ids chosen to collide
//! cannot be predicted (the seed is per broker). Events whose ids hash alike share a bucket, in
//! cursor order, so a lookup compares the ids and the first match is the earliest retained
//! occurrence of a duplicated id. An event leaves the index when it leaves the last ring that
//! holds it (`Departures`), so the index is exactly as large as the retained history's events
//! with ids, and each entry is counted in the byte budgets ([`ID_OVERHEAD`]).

use std::collections::{HashMap, VecDeque};
use std::hash::BuildHasher;
use std::sync::Arc;

use push_core::{Cursor, Published};

/// What one entry of the index costs beside the event (which is counted anyway): the map's key,
/// bucket and control bytes at its load factor, and the departure bookkeeping of a multi-topic
/// event. An estimate, like the ring's per-event overhead.
pub(crate) const ID_OVERHEAD: u64 = 64;

/// The events with ids in one hash bucket, in cursor order (almost always one).
#[derive(Debug)]
enum Bucket {
    One(Arc<Published>),
    Many(VecDeque<Arc<Published>>),
}

/// Publisher ids → the retained events carrying them (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct IdIndex {
    seed: foldhash::fast::RandomState,
    map: HashMap<u64, Bucket, foldhash::fast::RandomState>,
}

impl IdIndex {
    fn key(&self, id: &str) -> u64 {
        self.seed.hash_one(id)
    }

    /// Adds a newly stored event (a no-op for an event without an id). Events are added in
    /// cursor order.
    pub(crate) fn insert(&mut self, published: &Arc<Published>) {
        let Some(id) = published.event().id.as_deref() else {
            return;
        };
        let key = self.key(id);
        match self.map.get_mut(&key) {
            None => {
                self.map.insert(key, Bucket::One(Arc::clone(published)));
            }
            Some(bucket) => {
                let list = match bucket {
                    Bucket::Many(list) => list,
                    Bucket::One(first) => {
                        let first = Arc::clone(first);
                        *bucket = Bucket::Many(VecDeque::from([first]));
                        let Bucket::Many(list) = bucket else {
                            unreachable!("just made a list")
                        };
                        list
                    }
                };
                list.push_back(Arc::clone(published));
            }
        }
    }

    /// Removes an event that left the history (a no-op for an event without an id).
    pub(crate) fn remove(&mut self, published: &Published) {
        let Some(id) = published.event().id.as_deref() else {
            return;
        };
        let key = self.key(id);
        let cursor = published.cursor();
        let Some(bucket) = self.map.get_mut(&key) else {
            return;
        };
        match bucket {
            Bucket::One(p) => {
                if p.cursor() == cursor {
                    self.map.remove(&key);
                }
            }
            Bucket::Many(list) => {
                // Events mostly leave oldest first: the search ends at the front.
                if let Some(at) = list.iter().position(|p| p.cursor() == cursor) {
                    list.remove(at);
                }
                match list.len() {
                    0 => {
                        self.map.remove(&key);
                    }
                    1 => {
                        if let Some(last) = list.pop_front() {
                            *bucket = Bucket::One(last);
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    /// The cursor of the earliest retained event whose id is `id`.
    pub(crate) fn resolve(&self, id: &str) -> Option<Cursor> {
        let same = |p: &&Arc<Published>| p.event().id.as_deref() == Some(id);
        match self.map.get(&self.key(id))? {
            Bucket::One(p) => Some(p).filter(same).map(|p| p.cursor()),
            Bucket::Many(list) => list.iter().find(same).map(|p| p.cursor()),
        }
    }

    /// How many events the index holds.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map
            .values()
            .map(|b| match b {
                Bucket::One(_) => 1,
                Bucket::Many(list) => list.len(),
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use push_core::{Event, Topic};

    use super::*;

    fn event(offset: u64, id: &str) -> Arc<Published> {
        Arc::new(Published::new(
            Topic::new("t").unwrap(),
            Cursor::new(7, offset),
            Event::new("x").with_id(id),
        ))
    }

    #[test]
    fn duplicates_resolve_to_the_earliest_retained_and_leave_one_by_one() {
        let mut index = IdIndex::default();
        let (a1, b, a2, a3) = (event(1, "a"), event(2, "b"), event(3, "a"), event(4, "a"));
        for p in [&a1, &b, &a2, &a3] {
            index.insert(p);
        }
        index.insert(&Arc::new(Published::new(
            Topic::new("t").unwrap(),
            Cursor::new(7, 5),
            Event::new("no id"),
        )));
        assert_eq!(index.len(), 4);
        assert_eq!(index.resolve("a"), Some(a1.cursor()));
        assert_eq!(index.resolve("b"), Some(b.cursor()));
        assert_eq!(index.resolve("c"), None);
        // Out of order (a multi-topic event may leave its last ring after a later one).
        index.remove(&a2);
        assert_eq!(index.resolve("a"), Some(a1.cursor()));
        index.remove(&a1);
        assert_eq!(index.resolve("a"), Some(a3.cursor()));
        // Removing what is not there changes nothing.
        index.remove(&a1);
        assert_eq!(index.len(), 2);
        index.remove(&a3);
        index.remove(&b);
        assert_eq!((index.resolve("a"), index.resolve("b")), (None, None));
        assert_eq!((index.len(), index.map.capacity() > 0), (0, true));
    }

    /// Ids that land in one bucket are told apart by their text.
    #[test]
    fn a_shared_bucket_compares_the_ids() {
        let mut index = IdIndex::default();
        let (x, y) = (event(1, "x"), event(2, "y"));
        // Force both into one bucket, as a hash collision would.
        let key = index.key("x");
        index.map.insert(
            key,
            Bucket::Many(VecDeque::from([Arc::clone(&x), Arc::clone(&y)])),
        );
        let y_key = index.key("y");
        index.map.insert(y_key, Bucket::One(Arc::clone(&y)));
        assert_eq!(index.resolve("x"), Some(x.cursor()));
        assert_eq!(index.resolve("y"), Some(y.cursor()));
        index.map.clear();
        index.map.insert(key, Bucket::One(Arc::clone(&y)));
        assert_eq!(index.resolve("x"), None, "a bucket's event with another id");
    }
}
