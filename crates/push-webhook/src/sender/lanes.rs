//! Lanes: each registration's deliveries in queue order, with at most its limit *released*
//! (in the due index, attempted) at once; the others are *held* (in the file, not attempted)
//! until a released one leaves the queue, which releases the next held one. A lane with a
//! limit of 1 delivers in cursor order: the next event waits until the one before it was
//! delivered (or given up), through retries and restarts alike.
//!
//! Invariant: in a lane, every released delivery comes before every held one (in id order).
//! A delivery is enqueued released only when its lane has no held one and fewer released than
//! the limit; a release always takes the first held one; a removal keeps the order. So
//! counting the released ones and finding the first held one read at most `limit + 1` rows.

use redb::{ReadableTable as _, TableDefinition, WriteTransaction};

use super::{DUE, META, Queue, QueueError, RECORDS, Stored, decode, encode};

/// (registration, id) → whether the delivery is released.
pub(super) const LANES: TableDefinition<'_, (&str, u64), bool> = TableDefinition::new("lanes");

impl Queue {
    /// Queues deliveries in one durable commit, each in its registration's lane, whose limit
    /// `limit` tells (at least 1); their ids in order, each with whether it was released (to
    /// attempt now) or held (behind its lane's released ones). `attempt`, `due` and `created`
    /// are kept; `id` is assigned.
    ///
    /// # Errors
    /// [`QueueError::Storage`]: nothing was queued.
    pub fn enqueue_in_lanes(
        &self,
        deliveries: &[Stored],
        limit: &dyn Fn(&str) -> u32,
    ) -> Result<Vec<(u64, bool)>, QueueError> {
        let write = self.db.begin_write()?;
        let mut placed = Vec::with_capacity(deliveries.len());
        {
            let mut meta = write.open_table(META)?;
            let mut next = meta.get("next")?.map_or(1, |v| v.value());
            let mut records = write.open_table(RECORDS)?;
            let mut due = write.open_table(DUE)?;
            let mut lanes = write.open_table(LANES)?;
            let mut scratch = Vec::new();
            for delivery in deliveries {
                scratch.clear();
                encode(delivery, &mut scratch);
                records.insert(next, scratch.as_slice())?;
                let lane = delivery.registration.as_str();
                let released = has_room(&lanes, lane, limit(lane).max(1))?;
                if released {
                    due.insert((delivery.due, next), ())?;
                }
                lanes.insert((lane, next), released)?;
                placed.push((next, released));
                next += 1;
            }
            meta.insert("next", next)?;
        }
        write.commit()?;
        Ok(placed)
    }

    /// Removes a delivery (after its 2xx, or when it is over for good) and releases the first
    /// held delivery of its lane, which it returns (due at once: attempt it now).
    ///
    /// # Errors
    /// [`QueueError::Storage`], [`QueueError::Corrupt`] for a held record that does not decode.
    pub fn remove_and_release(&self, delivery: &Stored) -> Result<Option<Stored>, QueueError> {
        let write = self.db.begin_write()?;
        {
            let mut records = write.open_table(RECORDS)?;
            // The stored due time, not the caller's copy's: the index entry must go with it.
            let removed = records.remove(delivery.id)?;
            if let Some(record) = removed {
                let due = decode(delivery.id, record.value()).map_or(delivery.due, |d| d.due);
                write.open_table(DUE)?.remove((due, delivery.id))?;
            }
        }
        let released = {
            let mut lanes = write.open_table(LANES)?;
            let lane = delivery.registration.as_str();
            let was_released = lanes.remove((lane, delivery.id))?.map(|v| v.value());
            match was_released {
                Some(true) => release_next(&write, &mut lanes, lane)?,
                // Held (removed with its registration), or a record from before lanes.
                _ => None,
            }
        };
        write.commit()?;
        Ok(released)
    }
}

/// Whether `lane` can take one more released delivery: no held one, fewer than `limit`
/// released.
fn has_room(
    lanes: &redb::Table<'_, (&str, u64), bool>,
    lane: &str,
    limit: u32,
) -> Result<bool, QueueError> {
    let mut released = 0u32;
    for entry in lanes.range((lane, 0)..=(lane, u64::MAX))? {
        let (_, is_released) = entry?;
        if !is_released.value() {
            return Ok(false);
        }
        released += 1;
        if released >= limit {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Releases the first held delivery of `lane`: marked released and put in the due index at its
/// stored due time (already past: it was due when it was queued).
fn release_next(
    write: &WriteTransaction,
    lanes: &mut redb::Table<'_, (&str, u64), bool>,
    lane: &str,
) -> Result<Option<Stored>, QueueError> {
    let mut held = None;
    for entry in lanes.range((lane, 0)..=(lane, u64::MAX))? {
        let (key, is_released) = entry?;
        if !is_released.value() {
            held = Some(key.value().1);
            break;
        }
    }
    let Some(id) = held else {
        return Ok(None);
    };
    let record = write.open_table(RECORDS)?;
    let stored = record
        .get(id)?
        .and_then(|r| decode(id, r.value()))
        .ok_or(QueueError::Corrupt(id))?;
    drop(record);
    lanes.insert((lane, id), true)?;
    write.open_table(DUE)?.insert((stored.due, id), ())?;
    Ok(Some(stored))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(registration: &str, due: u64) -> Stored {
        Stored {
            registration: registration.into(),
            url: "http://127.0.0.1:1/hook".into(),
            message_id: format!("msg_{registration}_{due}"),
            body: b"{}".to_vec(),
            attempt: 1,
            due,
            ..Stored::default()
        }
    }

    #[test]
    fn a_lane_of_one_releases_its_deliveries_one_at_a_time_in_order() {
        let queue = Queue::in_memory().unwrap();
        let one = |r: &str| if r == "a" { 1 } else { 2 };
        let placed = queue
            .enqueue_in_lanes(
                &[delivery("a", 1), delivery("a", 1), delivery("b", 1)],
                &one,
            )
            .unwrap();
        assert_eq!(placed, [(1, true), (2, false), (3, true)]);
        let placed = queue
            .enqueue_in_lanes(
                &[delivery("a", 1), delivery("b", 1), delivery("b", 1)],
                &one,
            )
            .unwrap();
        assert_eq!(placed, [(4, false), (5, true), (6, false)]);
        // Only released deliveries fall due.
        let due: Vec<u64> = queue.due(10, 10).unwrap().iter().map(|d| d.id).collect();
        assert_eq!(due, [1, 3, 5]);
        // A removal releases the lane's next, in order.
        let first = queue.due(10, 10).unwrap().remove(0);
        let next = queue.remove_and_release(&first).unwrap().unwrap();
        assert_eq!(next.id, 2);
        let due: Vec<u64> = queue.due(10, 10).unwrap().iter().map(|d| d.id).collect();
        assert_eq!(due, [2, 3, 5]);
        let next = queue.remove_and_release(&next).unwrap().unwrap();
        assert_eq!(next.id, 4);
        assert_eq!(queue.remove_and_release(&next).unwrap(), None);
        // Lane b (limit 2): removing 3 releases 6 beside 5.
        let three = queue.due(10, 10).unwrap().remove(0);
        assert_eq!(three.id, 3);
        assert_eq!(queue.remove_and_release(&three).unwrap().unwrap().id, 6);
        assert_eq!(queue.len().unwrap(), 2);
    }

    #[test]
    fn held_deliveries_stay_held_across_a_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let queue = Queue::open(dir.path()).unwrap();
        queue
            .enqueue_in_lanes(&[delivery("a", 1), delivery("a", 1)], &|_| 1)
            .unwrap();
        drop(queue);
        let queue = Queue::open(dir.path()).unwrap();
        let due = queue.due(10, 10).unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(queue.remove_and_release(&due[0]).unwrap().unwrap().id, 2);
    }
}
