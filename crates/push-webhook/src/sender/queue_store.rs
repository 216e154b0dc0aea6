//! [`Store`] for the redb [`Queue`]: one process owns the file, so a claim is the check that the
//! copy about to be sent is still the stored one. The engine's slots keep one task per
//! delivery; this check is what makes a stale read harmless — a due scan that read a delivery
//! just before an attempt of it was recorded (rescheduled with a later attempt number, or
//! removed after its 2xx) hands its task a copy that is no longer current, and the claim says
//! no instead of sending it a second time.

use redb::ReadableDatabase as _;

use super::super::store::{Placed, Store};
use super::{DUE, Queue, QueueError, RECORDS, Stored, decode};

impl Store for Queue {
    fn enqueue_in_lanes(
        &self,
        deliveries: &[Stored],
        limit: &dyn Fn(&str) -> u32,
    ) -> Result<Vec<Placed>, QueueError> {
        let placed = Self::enqueue_in_lanes(self, deliveries, limit)?;
        Ok(placed
            .into_iter()
            .map(|(id, released)| {
                if released {
                    Placed::Released(id)
                } else {
                    Placed::Held(id)
                }
            })
            .collect())
    }

    fn due_where(
        &self,
        now: u64,
        scan: usize,
        take: &mut dyn FnMut(&Stored) -> bool,
    ) -> Result<Vec<Stored>, QueueError> {
        Self::due_where(self, now, scan, take)
    }

    fn next_due(&self) -> Result<Option<u64>, QueueError> {
        Self::next_due(self)
    }

    fn claim(&self, delivery: &Stored, _now: u64) -> Result<bool, QueueError> {
        let read = self.db.begin_read()?;
        let records = read.open_table(RECORDS)?;
        let Some(record) = records.get(delivery.id)? else {
            return Ok(false);
        };
        let stored = decode(delivery.id, record.value()).ok_or(QueueError::Corrupt(delivery.id))?;
        if stored.attempt != delivery.attempt || stored.due != delivery.due {
            return Ok(false);
        }
        // Released (in the due index), not held behind its lane.
        Ok(read
            .open_table(DUE)?
            .get((stored.due, delivery.id))?
            .is_some())
    }

    fn reschedule(&self, delivery: &Stored, attempt: u32, due: u64) -> Result<(), QueueError> {
        Self::reschedule(self, delivery, attempt, due)
    }

    fn remove_and_release(&self, delivery: &Stored) -> Result<Option<Stored>, QueueError> {
        Self::remove_and_release(self, delivery)
    }

    fn len(&self) -> Result<u64, QueueError> {
        Self::len(self)
    }

    fn oldest(&self) -> Result<Option<u64>, QueueError> {
        Self::oldest(self)
    }
}
