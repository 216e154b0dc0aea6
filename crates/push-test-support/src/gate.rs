//! A door that blocking code waits at while a test holds it shut — a disk busy syncing, a journal
//! mid-commit — and that counts who waits, so a test can tell when work has reached it.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

/// A door for threads: [`pass`](Self::pass) blocks while it is shut.
#[derive(Debug, Default)]
pub struct Gate {
    /// Whether it is shut, and how many wait at it.
    state: Mutex<(bool, usize)>,
    changed: Condvar,
}

impl Gate {
    /// Shuts the door: later [`pass`](Self::pass)es wait.
    pub fn shut(&self) {
        self.state.lock().unwrap().0 = true;
    }

    /// Opens the door and lets every waiter through.
    pub fn open(&self) {
        self.state.lock().unwrap().0 = false;
        self.changed.notify_all();
    }

    /// Goes through the door, waiting while it is shut.
    pub fn pass(&self) {
        let mut state = self.state.lock().unwrap();
        state.1 += 1;
        self.changed.notify_all();
        while state.0 {
            state = self.changed.wait(state).unwrap();
        }
        state.1 -= 1;
    }

    /// Blocks until someone waits at the shut door (bounded, about 10 s: a test that never gets
    /// there fails instead of hanging).
    pub fn until_waited(&self) {
        let mut state = self.state.lock().unwrap();
        for _ in 0..500 {
            if state.1 > 0 {
                return;
            }
            state = self
                .changed
                .wait_timeout(state, Duration::from_millis(20))
                .unwrap()
                .0;
        }
        panic!("nobody reached the gate");
    }
}
