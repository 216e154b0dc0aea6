//! Wakers collected under a topic's lock and woken after it is released, without a heap
//! allocation for the common case of a few waiting subscribers.

use std::task::Waker;

/// How many wakers fit before the list spills to the heap.
const INLINE: usize = 4;

/// A list of wakers to wake once the lock is released.
#[derive(Debug, Default)]
pub(crate) struct WakeList {
    inline: [Option<Waker>; INLINE],
    len: usize,
    spill: Vec<Waker>,
}

impl WakeList {
    pub(crate) fn push(&mut self, waker: Waker) {
        if let Some(slot) = self.inline.get_mut(self.len) {
            *slot = Some(waker);
            self.len += 1;
        } else {
            self.spill.push(waker);
        }
    }

    /// Wakes every collected waker.
    pub(crate) fn wake_all(self) {
        for waker in self.inline.into_iter().flatten() {
            waker.wake();
        }
        for waker in self.spill {
            waker.wake();
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len + self.spill.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::Wake;

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn wakes_inline_and_spilled_wakers_once_each() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let mut list = WakeList::default();
        for _ in 0..(INLINE + 3) {
            list.push(Waker::from(Arc::clone(&count)));
        }
        assert_eq!(list.len(), INLINE + 3);
        list.wake_all();
        assert_eq!(count.0.load(Ordering::SeqCst), INLINE + 3);
    }
}
