//! [`Store`] for [`RedisQueue`]: each step on a registration is one script (see `scripts`).

use std::collections::BTreeMap;

use redis::Commands as _;

use super::{LEASE, Placed, QueueError, RedisQueue, Store, Stored, decode, encode, lower, state};

impl Store for RedisQueue {
    fn enqueue_in_lanes(
        &self,
        deliveries: &[Stored],
        limit: &dyn Fn(&str) -> u32,
    ) -> Result<Vec<Placed>, QueueError> {
        if deliveries.is_empty() {
            return Ok(Vec::new());
        }
        let n = u64::try_from(deliveries.len()).unwrap_or(u64::MAX);
        let (total_key, next_key, index) = (
            self.shared("total"),
            self.shared("next"),
            self.shared("index"),
        );
        let queued: Option<i64> = self.with(|c| c.get(&total_key))?;
        let queued = u64::try_from(queued.unwrap_or(0)).unwrap_or(0);
        if queued.saturating_add(n) > self.limits.total {
            return Err(QueueError::Full);
        }
        let last: u64 = self.with(|c| c.incr(&next_key, n))?;
        let first_id = last.saturating_sub(n) + 1;
        // Each registration's deliveries, in order: one script each.
        let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, d) in deliveries.iter().enumerate() {
            groups.entry(d.registration.as_str()).or_default().push(i);
        }
        let mut placed = vec![Placed::Refused; deliveries.len()];
        let script = &self.scripts.enqueue;
        for (registration, members) in groups {
            let keys = self.keys(registration);
            let mut invocation = script.prepare_invoke();
            for key in &keys.0 {
                invocation.key(key);
            }
            invocation
                .arg(limit(registration).max(1))
                .arg(self.limits.per_registration);
            let mut record = Vec::new();
            for &i in &members {
                let d = &deliveries[i];
                let id = first_id + i as u64;
                record.clear();
                encode(d, &mut record);
                invocation
                    .arg(id)
                    .arg(d.due)
                    .arg(&d.message_id)
                    .arg(record.as_slice())
                    .arg(state(d.attempt, d.due));
            }
            let (letters, duplicates, earliest): (String, Vec<u64>, Option<String>) =
                self.with(|c| invocation.invoke(c))?;
            let mut duplicates = duplicates.into_iter();
            let mut added = 0i64;
            for (&i, letter) in members.iter().zip(letters.chars()) {
                let id = first_id + i as u64;
                placed[i] = match letter {
                    'a' => Placed::Released(id),
                    'h' => Placed::Held(id),
                    'd' => Placed::Held(duplicates.next().unwrap_or(0)),
                    _ => Placed::Refused,
                };
                added += i64::from(matches!(letter, 'a' | 'h'));
            }
            self.with(|c| {
                if added > 0 {
                    c.incr::<_, _, ()>(&total_key, added)?;
                }
                match earliest.and_then(|s| s.parse::<f64>().ok()) {
                    Some(score) => lower(c, &index, registration, score),
                    None => Ok(()),
                }
            })?;
        }
        Ok(placed)
    }

    fn due_where(
        &self,
        now: u64,
        scan: usize,
        take: &mut dyn FnMut(&Stored) -> bool,
    ) -> Result<Vec<Stored>, QueueError> {
        let index = self.shared("index");
        let registrations: Vec<String> = self.with(|c| {
            c.zrangebyscore_limit(
                &index,
                "-inf",
                now,
                0,
                isize::try_from(scan).unwrap_or(isize::MAX),
            )
        })?;
        let mut out = Vec::new();
        let mut looked = 0usize;
        for registration in registrations {
            if looked >= scan {
                break;
            }
            let keys = self.keys(&registration);
            let left = isize::try_from(scan - looked).unwrap_or(isize::MAX);
            let ids: Vec<u64> =
                self.with(|c| c.zrangebyscore_limit(&keys.0[1], "-inf", now, 0, left))?;
            if ids.is_empty() {
                // The index was early (a claim moved the scores on): set it right.
                self.sync_index(&registration)?;
                continue;
            }
            let records: Vec<Option<Vec<u8>>> =
                self.with(|c| redis::cmd("HMGET").arg(&keys.0[0]).arg(&ids).query(c))?;
            for (id, record) in ids.into_iter().zip(records) {
                looked += 1;
                // Removed between the two reads: nothing to take.
                let Some(record) = record else { continue };
                let delivery = decode(id, &record).ok_or(QueueError::Corrupt(id))?;
                if take(&delivery) {
                    out.push(delivery);
                }
            }
        }
        Ok(out)
    }

    fn next_due(&self) -> Result<Option<u64>, QueueError> {
        let index = self.shared("index");
        let first: Vec<(String, f64)> = self.with(|c| c.zrange_withscores(&index, 0, 0))?;
        Ok(first.first().map(|(_, score)| score.max(0.0) as u64))
    }

    fn claim(&self, delivery: &Stored, now: u64) -> Result<bool, QueueError> {
        let keys = self.keys(&delivery.registration);
        let lease_end = now.saturating_add(u64::try_from(LEASE.as_millis()).unwrap_or(u64::MAX));
        let mut invocation = self.scripts.claim.prepare_invoke();
        for key in &keys.0 {
            invocation.key(key);
        }
        invocation
            .arg(delivery.id)
            .arg(state(delivery.attempt, delivery.due))
            .arg(now)
            .arg(lease_end)
            .arg(&self.token);
        let held: i64 = self.with(|c| invocation.invoke(c))?;
        Ok(held == 1)
    }

    fn reschedule(&self, delivery: &Stored, attempt: u32, due: u64) -> Result<(), QueueError> {
        let keys = self.keys(&delivery.registration);
        let next = Stored {
            attempt,
            due,
            ..delivery.clone()
        };
        let mut record = Vec::new();
        encode(&next, &mut record);
        let mut invocation = self.scripts.reschedule.prepare_invoke();
        for key in &keys.0 {
            invocation.key(key);
        }
        invocation
            .arg(delivery.id)
            .arg(record.as_slice())
            .arg(state(attempt, due))
            .arg(due);
        let index = self.shared("index");
        let done: i64 = self.with(|c| {
            let done: i64 = invocation.invoke(c)?;
            lower(c, &index, &delivery.registration, due as f64)?;
            Ok(done)
        })?;
        if done == 1 {
            Ok(())
        } else {
            Err(QueueError::Corrupt(delivery.id))
        }
    }

    fn remove_and_release(&self, delivery: &Stored) -> Result<Option<Stored>, QueueError> {
        let keys = self.keys(&delivery.registration);
        let mut invocation = self.scripts.remove.prepare_invoke();
        for key in &keys.0 {
            invocation.key(key);
        }
        invocation.arg(delivery.id).arg(&delivery.message_id);
        let (removed, next, record, due): (i64, Option<u64>, Option<Vec<u8>>, Option<String>) =
            self.with(|c| invocation.invoke(c))?;
        let total_key = self.shared("total");
        if removed > 0 {
            self.with(|c| c.decr::<_, _, ()>(&total_key, removed))?;
        }
        let (Some(id), Some(record)) = (next, record) else {
            self.sync_index(&delivery.registration)?;
            return Ok(None);
        };
        let released = decode(id, &record).ok_or(QueueError::Corrupt(id))?;
        let score = due.and_then(|d| d.parse::<f64>().ok()).unwrap_or(0.0);
        let index = self.shared("index");
        self.with(|c| lower(c, &index, &delivery.registration, score))?;
        Ok(Some(released))
    }

    fn len(&self) -> Result<u64, QueueError> {
        let total_key = self.shared("total");
        let total: Option<i64> = self.with(|c| c.get(&total_key))?;
        Ok(u64::try_from(total.unwrap_or(0)).unwrap_or(0))
    }

    fn oldest(&self) -> Result<Option<u64>, QueueError> {
        // A lane's released deliveries come before its held ones: the oldest of a registration
        // is among the first of its `due` and the head of its `held`.
        let index = self.shared("index");
        let registrations: Vec<String> = self.with(|c| c.zrange(&index, 0, 1023))?;
        let mut oldest: Option<u64> = None;
        for registration in registrations {
            let keys = self.keys(&registration);
            let mut ids: Vec<u64> = self.with(|c| c.zrange(&keys.0[1], 0, 63))?;
            let head: Option<u64> = self.with(|c| c.lindex(&keys.0[2], 0))?;
            ids.extend(head);
            let Some(id) = ids.into_iter().min() else {
                continue;
            };
            let record: Option<Vec<u8>> = self.with(|c| c.hget(&keys.0[0], id))?;
            if let Some(d) = record.and_then(|r| decode(id, &r)) {
                oldest = Some(oldest.map_or(d.created, |o| o.min(d.created)));
            }
        }
        Ok(oldest)
    }
}
