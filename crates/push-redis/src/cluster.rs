//! The reader on a Redis Cluster. One `XREAD` cannot span slots, so each partition has a
//! waiter (a blocking single-key `XREAD` on a connection of its own, which only wakes the
//! reader) and each round reads every partition with the `READ` script: the master's clock and
//! the entries after the reader's position, atomically. The watermark is the least of the
//! masters' clocks (ARCHITECTURE.md, push-redis).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::raw::RawEntry;
use redis::cluster::ClusterClient;
use tokio::sync::Notify;
use tokio::task::JoinSet;

use crate::layout::{EntryId, PARTITION_BITS};
use crate::reader::{Pending, Positions, check_loss, release};
use crate::shared::{Shared, lock};

/// Runs until the broker closes (the waiters end with it: the set aborts them on drop).
pub(crate) async fn run(shared: Arc<Shared>, mut positions: Positions, waiters: ClusterClient) {
    let config = &shared.store.config;
    let (first, max) = config.backoff;
    let wake = Arc::new(Notify::new());
    let known = Arc::new(Mutex::new(positions.after.clone()));
    let mut tasks = JoinSet::new();
    for q in 0..shared.store.keys.partitions() {
        let log = shared.store.keys.log(q).to_owned();
        tasks.spawn(wait(
            waiters.clone(),
            log,
            usize::from(q),
            Arc::clone(&known),
            Arc::clone(&wake),
            (config.block, first, max),
        ));
    }
    let mut pending: BTreeMap<(u64, u64), Pending> = BTreeMap::new();
    let mut delay = first;
    let mut check = false;
    while !shared.is_closed() {
        if check {
            if !check_loss(&shared, &mut positions, &mut pending).await {
                shared.set_healthy(false);
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(max);
                continue;
            }
            check = false;
        }
        if pending.is_empty() {
            let _ = tokio::time::timeout(config.block, wake.notified()).await;
        } else {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        let epochs = shared.live().epochs.clone();
        match round(&shared, &positions).await {
            Ok(reads) => {
                shared.set_healthy(true);
                delay = first;
                let limit = absorb(reads, &epochs, &mut positions, &mut pending, config.batch);
                release(&shared, &mut pending, limit);
                lock(&known).clone_from(&positions.after);
            }
            Err(e) => {
                tracing::warn!(error = %e, "push-redis: cluster reader lost Redis");
                shared.set_healthy(false);
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(max);
                check = true;
            }
        }
    }
}

/// Every partition's clock and new entries, all in flight at once.
async fn round(
    shared: &Shared,
    positions: &Positions,
) -> redis::RedisResult<Vec<(u64, Vec<RawEntry>)>> {
    let calls = (0..shared.store.keys.partitions()).map(|q| {
        let mut con = shared.conn.clone();
        let after = positions.after[usize::from(q)];
        async move { shared.store.read_partition(&mut con, q, after).await }
    });
    futures_util::future::try_join_all(calls).await
}

/// Takes a round's entries into `pending`; returns the watermark: below every master's clock
/// and below what a partition cut at `COUNT` has not read yet.
fn absorb(
    reads: Vec<(u64, Vec<RawEntry>)>,
    epochs: &[u64],
    positions: &mut Positions,
    pending: &mut BTreeMap<(u64, u64), Pending>,
    batch: usize,
) -> (u64, u64) {
    let mut limit = (u64::MAX, u64::MAX);
    for (q, (time_ms, ids)) in reads.into_iter().enumerate() {
        limit = limit.min((time_ms.saturating_sub(1), u64::MAX));
        let full = ids.len() >= batch;
        for RawEntry { id, fields } in ids {
            positions.read(q, id, epochs[q]);
            // Fewer than MAX_PARTITIONS (a u16) partitions.
            crate::reader::hold(pending, q as u16, id, fields);
        }
        if full {
            let at = positions.after[q];
            limit = limit.min((at.ms, (at.seq << PARTITION_BITS) | q as u64));
        }
    }
    limit
}

/// One partition's waiter: blocks on its stream after the reader's position and wakes the
/// reader when something is there.
async fn wait(
    client: ClusterClient,
    log: String,
    q: usize,
    known: Arc<Mutex<Vec<EntryId>>>,
    wake: Arc<Notify>,
    (block, first, max): (Duration, Duration, Duration),
) {
    let mut delay = first;
    loop {
        let Ok(mut con) = client.get_async_connection().await else {
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(max);
            continue;
        };
        loop {
            let after = lock(&known)[q];
            let read: redis::RedisResult<Option<redis::streams::StreamReadReply>> =
                redis::cmd("XREAD")
                    .arg("COUNT")
                    .arg(1)
                    .arg("BLOCK")
                    .arg(u64::try_from(block.as_millis()).unwrap_or(1000))
                    .arg("STREAMS")
                    .arg(&log)
                    .arg(after.text())
                    .query_async(&mut con)
                    .await;
            match read {
                Ok(Some(_)) => {
                    delay = first;
                    wake.notify_one();
                    // Let the reader move past it before blocking again.
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                Ok(None) => delay = first,
                Err(_) => {
                    wake.notify_one();
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(max);
                    break;
                }
            }
        }
    }
}
