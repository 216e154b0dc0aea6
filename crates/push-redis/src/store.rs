//! The Redis round trips: publish, partition state, the reader's `TIME` + `XREAD`, the replay's
//! `XRANGE`s. Each is one pipeline (one round trip); scripts are reloaded once on `NOSCRIPT`
//! (a restarted Redis has forgotten them).

use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::{
    AsyncConnectionConfig, Client, ErrorKind, Pipeline, RedisResult, ServerErrorKind, Value,
};

use crate::config::Config;
pub(crate) use crate::conn::{Conn, certificates};
use crate::layout::{EntryId, Keys};
use crate::raw::{RawEntry, RawStreams};
use crate::scripts::{CLOCK, PUBLISH, READ, STATE};

/// One event as the publish script takes it: its publisher id and its field/value pairs.
#[derive(Debug)]
pub(crate) struct Entry {
    pub(crate) id: Option<String>,
    pub(crate) fields: Vec<(&'static str, Bytes)>,
}

impl Entry {
    /// The bytes it sends (what bounds a batch).
    pub(crate) fn bytes(&self) -> usize {
        let fields: usize = self.fields.iter().map(|(n, v)| n.len() + v.len()).sum();
        fields + self.id.as_ref().map_or(0, String::len)
    }
}

/// One partition as Redis has it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PartitionState {
    pub(crate) epoch: u64,
    pub(crate) last: EntryId,
    /// Every entry at or below it may have been deleted or trimmed (`0-0`: none).
    pub(crate) deleted: EntryId,
}

/// What one reader round read.
#[derive(Debug)]
pub(crate) struct Read {
    /// The server's clock (ms) when the round began: every entry below it has been read
    /// (`None`: the round did not ask, it proves nothing about the clock).
    pub(crate) time_ms: Option<u64>,
    /// The same clock in microseconds (how long a held entry's millisecond has left).
    pub(crate) time_us: Option<u64>,
    /// `(partition, id, fields)` in the order Redis answered.
    pub(crate) entries: Vec<(u16, EntryId, Vec<Value>)>,
    /// Partitions whose answer was cut at `COUNT`: they may hold more below `time_ms`.
    pub(crate) full: Vec<u16>,
}

/// A random epoch (64 bits from the OS).
pub(crate) fn random_epoch() -> u64 {
    getrandom::u64().unwrap_or_else(|_| {
        // No OS randomness: the clock's nanoseconds still make a fresh epoch per run.
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        now.map_or(1, |d| d.as_nanos() as u64)
    })
}

/// An epoch as the scripts store it (lowercase hex).
pub(crate) fn epoch_text(epoch: u64) -> String {
    format!("{epoch:x}")
}

fn parse_epoch(text: &str) -> RedisResult<u64> {
    u64::from_str_radix(text, 16)
        .map_err(|_| redis::RedisError::from((ErrorKind::Parse, "partition epoch is not hex")))
}

fn parse_id(text: &str) -> RedisResult<EntryId> {
    EntryId::parse(text)
        .ok_or_else(|| redis::RedisError::from((ErrorKind::Parse, "not a stream entry id")))
}

/// The Redis of one deployment.
#[derive(Clone, Debug)]
pub(crate) struct Store {
    pub(crate) client: Client,
    pub(crate) keys: Keys,
    pub(crate) config: Config,
}

impl Store {
    pub(crate) fn new(config: Config) -> RedisResult<Self> {
        let client = match &config.root_cert {
            None => Client::open(config.url.as_str())?,
            Some(pem) => Client::build_with_tls(config.url.as_str(), certificates(pem))?,
        };
        Ok(Self {
            client,
            keys: Keys::new(&config.prefix, config.partitions),
            config,
        })
    }

    /// A connection of its own (the reader's: its `XREAD` blocks).
    pub(crate) async fn connection(&self, timeout: Duration) -> RedisResult<MultiplexedConnection> {
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(timeout));
        self.client
            .get_multiplexed_async_connection_with_config(&config)
            .await
    }

    /// Runs `pipe`, loading the scripts and trying once more when Redis has forgotten them.
    async fn query<T: redis::FromRedisValue>(
        con: &mut (impl ConnectionLike + Send),
        pipe: &Pipeline,
    ) -> RedisResult<T> {
        match pipe.query_async(con).await {
            Err(e) if e.kind() == ErrorKind::Server(ServerErrorKind::NoScript) => {
                PUBLISH.prepare_invoke().load_async(con).await?;
                pipe.query_async(con).await
            }
            other => other,
        }
    }

    /// Appends `entries` (each its publisher id and field/value pairs) to `partition` in one
    /// script call, trimming when `trim` and, in durable mode, waiting once for the replicas.
    /// Returns each entry's id, in order, and the partition's epoch.
    pub(crate) async fn publish(
        &self,
        con: &mut (impl ConnectionLike + Send),
        partition: u16,
        entries: &[&Entry],
        trim: bool,
    ) -> RedisResult<(Vec<EntryId>, u64)> {
        let mut invocation = PUBLISH.key(self.keys.log(partition));
        invocation
            .key(self.keys.meta(partition))
            .key(self.keys.ids(partition))
            .key(self.keys.id_queue(partition))
            .arg(epoch_text(random_epoch()))
            .arg(self.config.history_count)
            .arg(u64::try_from(self.config.history_age.as_millis()).unwrap_or(u64::MAX))
            .arg(if trim { "1" } else { "0" });
        for entry in entries {
            invocation
                .arg(entry.id.as_deref().unwrap_or(""))
                .arg(entry.fields.len() * 2);
            for (name, value) in &entry.fields {
                invocation.arg(*name).arg(value.as_ref());
            }
        }
        let mut pipe = redis::pipe();
        pipe.invoke_script(&invocation);
        let reply: Vec<String> = match self.config.durable {
            None => {
                let (reply,): (Vec<String>,) = Self::query(con, &pipe).await?;
                reply
            }
            Some((replicas, timeout)) => {
                let ms = u64::try_from(timeout.as_millis())
                    .unwrap_or(u64::MAX)
                    .max(1);
                pipe.cmd("WAIT").arg(replicas).arg(ms);
                let (reply, acked): (Vec<String>, u32) = Self::query(con, &pipe).await?;
                if acked < replicas {
                    return Err(redis::RedisError::from((
                        ErrorKind::Io,
                        "fewer replicas than required acknowledged the events (WAIT)",
                    )));
                }
                reply
            }
        };
        let Some((epoch, ids)) = reply.split_first() else {
            return Err(redis::RedisError::from((
                ErrorKind::Parse,
                "empty publish reply",
            )));
        };
        if ids.len() != entries.len() {
            return Err(redis::RedisError::from((
                ErrorKind::Parse,
                "the publish reply has not one id per entry",
            )));
        }
        let ids = ids
            .iter()
            .map(|id| parse_id(id))
            .collect::<RedisResult<_>>()?;
        Ok((ids, parse_epoch(epoch)?))
    }

    /// Every partition's state. `last_read[q]` / `known[q]`: the entry this hub read last in
    /// `q` and the epoch it knows, for the lost-tail check (`None`: no check).
    pub(crate) async fn states(
        &self,
        con: &Conn,
        last_read: &[Option<EntryId>],
        known: &[u64],
    ) -> RedisResult<Vec<PartitionState>> {
        // One script per partition (one slot each), all in flight at once: a multiplexed
        // connection pipelines them, a Cluster connection sends each to its master.
        let calls = (0..self.keys.partitions()).map(|q| {
            let check = last_read.get(usize::from(q)).copied().flatten();
            let known = match (check, known.get(usize::from(q))) {
                (Some(_), Some(&e)) => epoch_text(e),
                _ => String::new(),
            };
            let mut con = con.clone();
            async move {
                let mut inv = STATE.key(self.keys.log(q));
                inv.key(self.keys.meta(q))
                    .arg(epoch_text(random_epoch()))
                    .arg(check.map(EntryId::text).unwrap_or_default())
                    .arg(known)
                    .arg(epoch_text(random_epoch()));
                let (epoch, last, deleted, trimmed): (String, String, String, String) =
                    inv.invoke_async(&mut con).await?;
                Ok::<_, redis::RedisError>(PartitionState {
                    epoch: parse_epoch(&epoch)?,
                    last: parse_id(&last)?,
                    deleted: parse_id(&deleted)?.max(parse_id(&trimmed)?.before()),
                })
            }
        });
        futures_util::future::try_join_all(calls).await
    }

    /// Every partition's id index: `(partition, publisher id, entry id)`, one `HGETALL` per
    /// partition, all in flight at once (an entry id that does not parse is skipped).
    pub(crate) async fn ids(&self, con: &Conn) -> RedisResult<Vec<(u16, String, EntryId)>> {
        let calls = (0..self.keys.partitions()).map(|q| {
            let mut con = con.clone();
            async move {
                let map: HashMap<String, String> = redis::cmd("HGETALL")
                    .arg(self.keys.ids(q))
                    .query_async(&mut con)
                    .await?;
                Ok::<_, redis::RedisError>(
                    map.into_iter()
                        .filter_map(|(id, at)| Some((q, id, EntryId::parse(&at)?)))
                        .collect::<Vec<_>>(),
                )
            }
        });
        let all = futures_util::future::try_join_all(calls).await?;
        Ok(all.into_iter().flatten().collect())
    }

    /// The least of the clocks of the masters that hold the partitions, in milliseconds.
    pub(crate) async fn clock_ms(&self, con: &Conn) -> RedisResult<u64> {
        let calls = self.keys.logs().iter().map(|log| {
            let mut con = con.clone();
            async move {
                let (secs, micros): (u64, u64) = CLOCK.key(log).invoke_async(&mut con).await?;
                Ok::<_, redis::RedisError>(secs.saturating_mul(1000).saturating_add(micros / 1000))
            }
        });
        let clocks = futures_util::future::try_join_all(calls).await?;
        Ok(clocks.into_iter().min().unwrap_or(0))
    }

    /// One reader round: `TIME` (when `clock`), then `XREAD` of every partition after
    /// `positions`, blocking up to `block` when given.
    pub(crate) async fn read(
        &self,
        con: &mut (impl ConnectionLike + Send),
        positions: &[EntryId],
        block: Option<Duration>,
        clock: bool,
    ) -> RedisResult<Read> {
        let mut pipe = redis::pipe();
        if clock {
            pipe.cmd("TIME");
        }
        let xread = pipe.cmd("XREAD").arg("COUNT").arg(self.config.batch);
        if let Some(block) = block {
            xread
                .arg("BLOCK")
                .arg(u64::try_from(block.as_millis()).unwrap_or(u64::MAX).max(1));
        }
        xread.arg("STREAMS").arg(self.keys.logs());
        for p in positions {
            xread.arg(p.text());
        }
        let (time_us, reply) = if clock {
            let ((secs, micros), reply): ((u64, u64), RawStreams) = pipe.query_async(con).await?;
            (
                Some(secs.saturating_mul(1_000_000).saturating_add(micros)),
                reply,
            )
        } else {
            let (reply,): (RawStreams,) = pipe.query_async(con).await?;
            (None, reply)
        };
        let mut read = Read {
            time_ms: time_us.map(|us| us / 1000),
            time_us,
            entries: Vec::new(),
            full: Vec::new(),
        };
        for (key, entries) in reply.0 {
            let Some(q) = self.keys.logs().iter().position(|k| k.as_bytes() == key) else {
                continue;
            };
            // Fewer than MAX_PARTITIONS (a u16) logs.
            let q = q as u16;
            if entries.len() >= self.config.batch {
                read.full.push(q);
            }
            read.entries
                .extend(entries.into_iter().map(|e| (q, e.id, e.fields)));
        }
        Ok(read)
    }

    /// One replay round: up to `count` entries of each partition from `start` (inclusive) to
    /// `end` (inclusive), one `XRANGE` per partition, all in flight at once.
    pub(crate) async fn ranges(
        &self,
        con: &Conn,
        start: EntryId,
        end: EntryId,
        count: usize,
    ) -> RedisResult<Vec<Vec<RawEntry>>> {
        let calls = self.keys.logs().iter().map(|log| {
            let mut con = con.clone();
            let (start, end) = (start.text(), end.text());
            async move {
                let reply: Vec<RawEntry> = redis::cmd("XRANGE")
                    .arg(log)
                    .arg(start)
                    .arg(end)
                    .arg("COUNT")
                    .arg(count)
                    .query_async(&mut con)
                    .await?;
                Ok::<_, redis::RedisError>(reply)
            }
        });
        futures_util::future::try_join_all(calls).await
    }

    /// One partition's round for a Cluster reader: the master's clock and the entries after
    /// `after`, read atomically (one script, one slot).
    pub(crate) async fn read_partition(
        &self,
        con: &mut Conn,
        partition: u16,
        after: EntryId,
    ) -> RedisResult<(u64, Vec<RawEntry>)> {
        let (secs, micros, reply): (u64, u64, Vec<RawEntry>) = READ
            .key(self.keys.log(partition))
            .arg(after.text())
            .arg(self.config.batch)
            .invoke_async(con)
            .await?;
        Ok((
            secs.saturating_mul(1000).saturating_add(micros / 1000),
            reply,
        ))
    }
}
