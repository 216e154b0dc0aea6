//! The one reader of a process: `TIME` + `XREAD` over every partition, released in cursor order
//! below the watermark (ARCHITECTURE.md, push-redis, proves why that order is final), with
//! backoff and a loss check on every reconnection.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use push_core::{Cursor, Delivery, Gap, GapReason, Published};
use redis::aio::MultiplexedConnection;

use crate::entry;
use crate::layout::{self, EntryId};
use crate::shared::Shared;

/// Where the reader is: per partition, the position it reads after, the last entry it read
/// and the partition epoch it was read in (a loss already announced is not announced again).
#[derive(Debug)]
pub(crate) struct Positions {
    pub(crate) after: Vec<EntryId>,
    pub(crate) last_entry: Vec<Option<EntryId>>,
    pub(crate) read_in: Vec<u64>,
}

impl Positions {
    /// Every partition from just after millisecond `ms`, in the partition epochs `epochs`.
    pub(crate) fn at(ms: u64, epochs: &[u64]) -> Self {
        Self {
            after: vec![layout::watermark_id(ms); epochs.len()],
            last_entry: vec![None; epochs.len()],
            read_in: epochs.to_vec(),
        }
    }

    /// Records that `id` of partition `q` was read while its epoch was `epoch`.
    pub(crate) fn read(&mut self, q: usize, id: EntryId, epoch: u64) {
        self.after[q] = self.after[q].max(id);
        self.last_entry[q] = Some(id);
        self.read_in[q] = epoch;
    }
}

/// Runs until the broker closes.
pub(crate) async fn run(shared: Arc<Shared>, mut positions: Positions) {
    let (first, max) = shared.store.config.backoff;
    let mut delay = first;
    // Read but not yet below the watermark, in cursor order (the key ignores the epoch).
    let mut pending: BTreeMap<(u64, u64), Pending> = BTreeMap::new();
    let mut reconnect = false;
    while !shared.is_closed() {
        let timeout = shared.store.config.block + Duration::from_secs(5);
        match shared.store.connection(timeout).await {
            Ok(mut con) => {
                if reconnect && !check_loss(&shared, &mut positions, &mut pending).await {
                    fail(&shared, &mut delay, max).await;
                    continue;
                }
                reconnect = true;
                rounds(
                    &shared,
                    &mut con,
                    &mut positions,
                    &mut pending,
                    &mut delay,
                    first,
                )
                .await;
            }
            Err(e) => tracing::warn!(error = %e, "push-redis: reader cannot connect"),
        }
        if !shared.is_closed() {
            fail(&shared, &mut delay, max).await;
        }
    }
}

async fn fail(shared: &Shared, delay: &mut Duration, max: Duration) {
    shared.set_healthy(false);
    tokio::time::sleep(*delay).await;
    *delay = (*delay * 2).min(max);
}

/// An entry read and not yet released: its partition, id and fields.
pub(crate) type Pending = (u16, EntryId, Vec<redis::Value>);

/// Holds an entry until the watermark passes it (an entry whose sequence does not fit a
/// cursor is skipped, loudly).
pub(crate) fn hold(
    pending: &mut BTreeMap<(u64, u64), Pending>,
    q: u16,
    id: EntryId,
    fields: Vec<redis::Value>,
) {
    if id.seq > layout::MAX_SEQ {
        tracing::warn!(%q, "push-redis: entry sequence past the cursor's room, skipped");
        return;
    }
    let key = (id.ms, (id.seq << layout::PARTITION_BITS) | u64::from(q));
    pending.insert(key, (q, id, fields));
}

/// After a reconnection: a partition whose epoch changed (history flushed, or a tail lost,
/// which the state script turns into a new epoch) restarts the reader at the server's clock,
/// and every local subscriber has been told. Returns false when Redis failed again.
pub(crate) async fn check_loss(
    shared: &Shared,
    positions: &mut Positions,
    pending: &mut BTreeMap<(u64, u64), Pending>,
) -> bool {
    // Each last entry is checked against the epoch it was read in, never the current one: a
    // publish may already have found a new epoch (a restart without persistence) and made it
    // current, and the old epoch's last entry is then rightly absent from the new stream.
    let states = match shared
        .store
        .states(&shared.conn, &positions.last_entry, &positions.read_in)
        .await
    {
        Ok(states) => states,
        Err(e) => {
            tracing::warn!(error = %e, "push-redis: reader cannot read partition state");
            return false;
        }
    };
    let Ok(time_ms) = shared.store.clock_ms(&shared.conn).await else {
        return false;
    };
    let changes = states.iter().enumerate().map(|(q, s)| (q as u16, s.epoch));
    if shared.set_epochs(changes) {
        tracing::warn!("push-redis: history lost in Redis: a new epoch, announced as a gap");
        // The new epoch's subscribers replay from its start up to the watermark; the reader
        // goes on from the server's clock.
        pending.clear();
        {
            let mut live = shared.live();
            *positions = Positions::at(time_ms.saturating_sub(1), &live.epochs);
            live.released = layout::watermark(live.epoch, time_ms.saturating_sub(1));
        }
        // The new epoch renumbered every retained entry: place the ids again.
        if let Err(e) = shared.load_ids().await {
            tracing::warn!(error = %e, "push-redis: reader cannot read the id index");
            return false;
        }
    }
    true
}

/// Reads until Redis fails or the broker closes.
async fn rounds(
    shared: &Shared,
    con: &mut MultiplexedConnection,
    positions: &mut Positions,
    pending: &mut BTreeMap<(u64, u64), Pending>,
    delay: &mut Duration,
    first: Duration,
) {
    let config = &shared.store.config;
    // Whether the last round read nothing: the next one blocks without asking the clock.
    let mut idle = false;
    // The server's clock (µs) at the last round that asked, and when its answer arrived.
    let mut clock_at: Option<(u64, Instant)> = None;
    while !shared.is_closed() {
        let (block, clock) = if let Some((&(held_ms, _), _)) = pending.first_key_value() {
            // Wait until the server's clock is past the oldest held entry's millisecond, then
            // ask it (the release itself rests only on that answer, never on this estimate).
            let now_us = match clock_at {
                Some((us, at)) => us.saturating_add(micros(at.elapsed())),
                None => wall_clock_us(),
            };
            pause(settle(held_ms, now_us)).await;
            (None, true)
        } else {
            // After a round that read nothing, a `TIME` before a blocking `XREAD` would only
            // prove what is already released (whatever wakes the read is newer than it), so
            // the round is the `XREAD` alone; the next round, once its entries' millisecond
            // has passed, asks.
            (Some(config.block), !idle)
        };
        // The epochs before the read: an entry is attributed to the epoch it may belong to.
        let epochs = shared.live().epochs.clone();
        let read = match shared.store.read(con, &positions.after, block, clock).await {
            Ok(read) => read,
            Err(e) => {
                tracing::warn!(error = %e, "push-redis: reader lost Redis");
                return;
            }
        };
        shared.set_healthy(true);
        *delay = first;
        clock_at = read.time_us.map(|us| (us, Instant::now()));
        idle = read.entries.is_empty();
        for (q, id, fields) in read.entries {
            let slot = usize::from(q);
            positions.read(slot, id, epochs[slot]);
            hold(pending, q, id, fields);
        }
        // Without the clock nothing new is proven final: held until a round that asked.
        let Some(time_ms) = read.time_ms else {
            continue;
        };
        // Below the clock, and below what partitions cut at COUNT have not read yet.
        let mut limit = (time_ms.saturating_sub(1), u64::MAX);
        for q in read.full {
            let at = positions.after[usize::from(q)];
            limit = limit.min((at.ms, (at.seq << layout::PARTITION_BITS) | u64::from(q)));
        }
        release(shared, pending, limit);
    }
}

/// The longest a held round waits before it asks the clock again: the estimate of Redis's
/// clock may be off (another machine's clock), and the next `TIME` then says how long is left.
const SETTLE_MAX: Duration = Duration::from_millis(1);

/// How long to wait, at estimated server time `now_us` (µs), before a round whose `TIME` can
/// pass the held entry of millisecond `held_ms`: until the next millisecond begins, at most
/// [`SETTLE_MAX`]; nothing when it has begun already (an entry held only because a partition
/// was cut at `COUNT`, or an estimate that is late).
pub(crate) fn settle(held_ms: u64, now_us: u64) -> Duration {
    let due_us = held_ms.saturating_add(1).saturating_mul(1000);
    Duration::from_micros(due_us.saturating_sub(now_us)).min(SETTLE_MAX)
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// This machine's wall clock (µs since the Unix epoch): Redis's on loopback, close to it
/// under NTP; only an estimate for [`settle`] after a round that did not ask Redis's.
fn wall_clock_us() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, micros)
}

/// Waits `d` (under a millisecond). Tokio's timer counts whole milliseconds and would round
/// it up to the next tick, so a sub-millisecond wait sleeps on a blocking-pool thread.
async fn pause(d: Duration) {
    if !d.is_zero() {
        let _ = tokio::task::spawn_blocking(move || std::thread::sleep(d)).await;
    }
}

/// Sends the pending entries at or below `limit`, in order.
pub(crate) fn release(
    shared: &Shared,
    pending: &mut BTreeMap<(u64, u64), Pending>,
    limit: (u64, u64),
) {
    let rest = match limit.1.checked_add(1) {
        Some(next) => pending.split_off(&(limit.0, next)),
        None => limit
            .0
            .checked_add(1)
            .map_or_else(BTreeMap::new, |ms| pending.split_off(&(ms, 0))),
    };
    let due = std::mem::replace(pending, rest);
    let (epoch, released) = {
        let live = shared.live();
        (live.epoch, live.released)
    };
    let mut events = Vec::with_capacity(due.len());
    for (_, (q, id, fields)) in due {
        let Some(cursor) = id.cursor(epoch, q) else {
            continue;
        };
        if !layout::after(cursor, released) {
            // Below a watermark already released: a master's clock stepped back. Delivering it
            // now would break cursor order; the loss is announced instead.
            tracing::warn!(%q, "push-redis: an entry appeared below the watermark");
            shared.announce(
                &shared.live(),
                Delivery::Gap(Gap {
                    reason: GapReason::UnknownEpoch,
                    resume: released,
                }),
            );
            continue;
        }
        match entry::parse(fields) {
            Ok((topics, event)) => {
                events.push(Arc::new(Published::with_topics(topics, cursor, event)));
            }
            Err(e) => tracing::warn!(?e, %q, "push-redis: a foreign entry in a partition, skipped"),
        }
    }
    let watermark = Cursor::with_sequence(epoch, limit.0, limit.1);
    shared.release(events, watermark);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_entry_waits_only_until_the_clock_passes_its_millisecond() {
        // 700 µs into the entry's millisecond: 300 µs are left, not a whole millisecond.
        assert_eq!(settle(5, 5_700), Duration::from_micros(300));
        assert_eq!(settle(5, 5_999), Duration::from_micros(1));
    }

    #[test]
    fn a_passed_millisecond_is_asked_at_once() {
        // Held only because a partition was cut at COUNT, or the estimate is late.
        assert_eq!(settle(5, 6_000), Duration::ZERO);
        assert_eq!(settle(5, 9_000_000), Duration::ZERO);
    }

    #[test]
    fn a_clock_estimate_far_behind_waits_at_most_a_millisecond() {
        assert_eq!(settle(5, 0), SETTLE_MAX);
        assert_eq!(settle(u64::MAX, 0), SETTLE_MAX);
    }
}
