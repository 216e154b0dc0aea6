//! The deliveries an engine holds in memory: at most [`Policy::max_in_memory`] in all and
//! [`Policy::max_in_memory_per_origin`] per target origin. A delivery that gets no slot stays in
//! the durable queue, due, and `Engine::run` takes it up when an attempt ends — so a topic with
//! many registrations, or one slow push service, costs disk rows rather than tasks, and cannot
//! take every slot from the other targets.
//!
//! [`Policy::max_in_memory`]: crate::Policy::max_in_memory
//! [`Policy::max_in_memory_per_origin`]: crate::Policy::max_in_memory_per_origin

use std::collections::{HashMap, HashSet};

use super::queue::Stored;

/// The slots (see the module docs).
#[derive(Debug)]
pub(super) struct Slots {
    ids: HashSet<u64>,
    per_origin: HashMap<String, usize>,
    max: usize,
    max_per_origin: usize,
}

impl Slots {
    pub(super) fn new(max: usize, max_per_origin: usize) -> Self {
        Self {
            ids: HashSet::new(),
            per_origin: HashMap::new(),
            max: max.max(1),
            max_per_origin: max_per_origin.max(1),
        }
    }

    /// Takes a slot for `delivery`: false when it holds one already, or when its origin or the
    /// whole engine is at the limit.
    pub(super) fn admit(&mut self, delivery: &Stored) -> bool {
        if self.ids.len() >= self.max || self.ids.contains(&delivery.id) {
            return false;
        }
        let origin = origin(&delivery.url);
        let held = self.per_origin.get(origin).copied().unwrap_or(0);
        if held >= self.max_per_origin {
            return false;
        }
        self.ids.insert(delivery.id);
        *self.per_origin.entry(origin.to_owned()).or_insert(0) += 1;
        true
    }

    /// Gives back `delivery`'s slot.
    pub(super) fn release(&mut self, delivery: &Stored) {
        if !self.ids.remove(&delivery.id) {
            return;
        }
        let origin = origin(&delivery.url);
        if let Some(held) = self.per_origin.get_mut(origin) {
            *held = held.saturating_sub(1);
            if *held == 0 {
                self.per_origin.remove(origin);
            }
        }
    }

    /// How many deliveries hold a slot.
    pub(super) fn len(&self) -> usize {
        self.ids.len()
    }
}

/// `scheme://authority` of a URL, compared as written (what the hub stored); the whole text
/// when it has no `://`.
fn origin(url: &str) -> &str {
    let Some(start) = url.find("://").map(|i| i + 3) else {
        return url;
    };
    let end = url[start..]
        .find(['/', '?', '#'])
        .map_or(url.len(), |i| start + i);
    &url[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(id: u64, url: &str) -> Stored {
        Stored {
            id,
            url: url.to_owned(),
            ..Stored::default()
        }
    }

    #[test]
    fn origins_are_scheme_and_authority() {
        assert_eq!(
            origin("https://fcm.googleapis.com/fcm/send/x"),
            "https://fcm.googleapis.com"
        );
        assert_eq!(origin("http://127.0.0.1:8/a?b"), "http://127.0.0.1:8");
        assert_eq!(origin("https://h.example?x"), "https://h.example");
        assert_eq!(origin("https://h.example"), "https://h.example");
        assert_eq!(origin("no scheme"), "no scheme");
    }

    #[test]
    fn slots_are_bounded_in_all_and_per_origin() {
        let mut slots = Slots::new(3, 2);
        let a = |id| delivery(id, "https://a.example/x");
        let b = |id| delivery(id, "https://b.example/y");
        assert!(slots.admit(&a(1)));
        assert!(!slots.admit(&a(1)), "one slot per delivery");
        assert!(slots.admit(&a(2)));
        assert!(!slots.admit(&a(3)), "origin a is full");
        assert!(slots.admit(&b(4)));
        assert!(!slots.admit(&b(5)), "the engine is full");
        slots.release(&a(1));
        slots.release(&a(1));
        assert_eq!(slots.len(), 2);
        assert!(slots.admit(&a(3)));
        for id in [2, 3] {
            slots.release(&a(id));
        }
        slots.release(&b(4));
        assert_eq!(slots.len(), 0);
        assert!(
            slots.per_origin.is_empty(),
            "no origin is kept without a delivery"
        );
    }
}
