//! The registry's Redis side (`--redis`): the registrations every hub on one Redis shares,
//! and the fan-out's lease and cursor.
//!
//! Keys, all under the one hash tag `{cb}` (one Redis Cluster slot, so each step below is one
//! atomic script): `push:cb:{cb}:records` (hash hub id → record), `:owners` (hash owner key →
//! hub id: a repeated registration finds the first), `:ownerof` (hash hub id → owner key),
//! `:version` (a counter, one step per change), `:changes` (sorted set hub id → the version
//! of its last change: what a hub behind reads to catch up), `:trimmed` (the highest version
//! cut from `:changes`; a hub behind it reads every record again), `:lease` and `:cursor`
//! (the fan-out's, see `fanout`).
//!
//! Every write runs one script that checks and changes the records, moves `:version` on and
//! records the id in `:changes`: a hub that reads the changes after version `v` and applies
//! them in version order holds exactly what Redis held at the version it read. `:changes` is
//! bounded: beyond twice the registry's limit plus 1,024 entries, the oldest are cut.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use push_webhook::sender::{LinkConnection, RedisLink};
use redis::{RedisError, Script};

use super::registry::RegistryError;

/// The prefix of the registry's keys.
pub(super) const PREFIX: &str = "push:cb:{cb}";

/// What a registration script came to.
pub(super) enum Put {
    Created,
    /// The owner's client id names this record already.
    Existing(Vec<u8>),
    Full,
}

/// What a compare-and-set of one record came to.
pub(super) enum Swap {
    Done,
    /// The record changed meanwhile: the current one (edit it again).
    Changed(Vec<u8>),
    Gone,
}

/// The changes a hub at some version must apply.
pub(super) struct Changes {
    pub(super) version: u64,
    /// Every record, not only the changed ones: drop what is not listed.
    pub(super) full: bool,
    /// hub id → its record, `None` when it was removed.
    pub(super) records: Vec<(String, Option<Vec<u8>>)>,
}

/// The connection and scripts (see the module docs).
pub(super) struct Shared {
    link: RedisLink,
    keys: [String; 8],
    /// The most entries `:changes` keeps before cutting.
    changes_limit: usize,
    put: Script,
    remove: Script,
    swap: Script,
    since: Script,
    lead: Script,
    release: Script,
    cursor: Script,
    /// This hub stepped down: it takes the lease no more (see [`resign`](Self::resign)).
    resigned: AtomicBool,
}

/// Moves the version on and records `id` in `:changes`, cutting the oldest beyond `limit`.
const BUMP: &str = r"
local function bump(id, limit)
  local v = redis.call('INCR', KEYS[4])
  redis.call('ZADD', KEYS[5], v, id)
  local n = redis.call('ZCARD', KEYS[5])
  if n > limit then
    local cut = n - math.floor(limit / 2)
    local last = redis.call('ZRANGE', KEYS[5], cut - 1, cut - 1, 'WITHSCORES')
    redis.call('ZREMRANGEBYRANK', KEYS[5], 0, cut - 1)
    redis.call('SET', KEYS[6], last[2])
  end
  return v
end
";

impl Shared {
    /// The registry on `link` (one Redis or a Cluster: every key carries the `{cb}` hash
    /// tag, so each script runs on one node), holding at most `max` registrations.
    pub(super) fn open(link: RedisLink, max: usize) -> Result<Self, RegistryError> {
        let key = |name: &str| format!("{PREFIX}:{name}");
        let script = |body: &str| Script::new(&format!("{BUMP}{body}"));
        Ok(Self {
            link,
            keys: [
                "records", "owners", "ownerof", "version", "changes", "trimmed", "lease", "cursor",
            ]
            .map(key),
            changes_limit: max.saturating_mul(2).saturating_add(1024),
            // ARGV: id, owner key, record, max, changes limit.
            put: script(
                r"
local existing = redis.call('HGET', KEYS[2], ARGV[2])
if existing then
  local record = redis.call('HGET', KEYS[1], existing)
  if record then return {'existing', record} end
end
if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[4]) then return {'full', ''} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
bump(ARGV[1], tonumber(ARGV[5]))
return {'created', ''}
",
            ),
            // ARGV: id, changes limit.
            remove: script(
                r"
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
local owner = redis.call('HGET', KEYS[3], ARGV[1])
if owner then
  if redis.call('HGET', KEYS[2], owner) == ARGV[1] then redis.call('HDEL', KEYS[2], owner) end
  redis.call('HDEL', KEYS[3], ARGV[1])
end
bump(ARGV[1], tonumber(ARGV[2]))
return 1
",
            ),
            // ARGV: id, the record the edit started from, the edited record, changes limit.
            swap: script(
                r"
local current = redis.call('HGET', KEYS[1], ARGV[1])
if not current then return {'gone', ''} end
if current ~= ARGV[2] then return {'changed', current} end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
bump(ARGV[1], tonumber(ARGV[4]))
return {'done', ''}
",
            ),
            // ARGV: the version the caller holds. {version, 0 nothing | 1 changes | 2 all, ...}
            since: script(
                r"
local v = tonumber(redis.call('GET', KEYS[4]) or '0')
local since = tonumber(ARGV[1])
if v == since then return {v, 0, {}} end
local trimmed = tonumber(redis.call('GET', KEYS[6]) or '0')
if since < trimmed or since > v then return {v, 2, redis.call('HGETALL', KEYS[1])} end
local out = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[5], '(' .. since, v)) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGET', KEYS[1], id) or ''
end
return {v, 1, out}
",
            ),
            // ARGV: token, lease (ms). 1 when the caller holds the lease (taken or renewed).
            lead: Script::new(
                r"
local holder = redis.call('GET', KEYS[7])
if holder and holder ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[7], ARGV[1], 'PX', ARGV[2])
return 1
",
            ),
            // ARGV: token. Drops the lease when the caller holds it.
            release: Script::new(
                r"
if redis.call('GET', KEYS[7]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[7])
return 1
",
            ),
            // ARGV: token, the cursor or ''. {1 when the caller holds the lease, the cursor}:
            // a non-empty cursor is recorded first (fenced: only by the lease's holder).
            cursor: Script::new(
                r"
if redis.call('GET', KEYS[7]) ~= ARGV[1] then return {0, ''} end
if ARGV[2] ~= '' then redis.call('SET', KEYS[8], ARGV[2]) end
return {1, redis.call('GET', KEYS[8]) or ''}
",
            ),
            resigned: AtomicBool::new(false),
        })
    }

    fn with<T>(
        &self,
        step: impl FnOnce(&mut LinkConnection, &[String; 8]) -> Result<T, RedisError>,
    ) -> Result<T, RegistryError> {
        self.link
            .with(|connection| step(connection, &self.keys))
            .map_err(redis_error)
    }

    fn invoke<T: redis::FromRedisValue>(
        &self,
        script: &Script,
        args: &[&[u8]],
    ) -> Result<T, RegistryError> {
        self.with(|c, keys| run(script, keys, args, c))
    }

    pub(super) fn put(
        &self,
        id: &str,
        owner: &str,
        record: &[u8],
        max: usize,
    ) -> Result<Put, RegistryError> {
        let (max, limit) = (max.to_string(), self.changes_limit.to_string());
        let (what, record): (String, Vec<u8>) = self.invoke(
            &self.put,
            &[
                id.as_bytes(),
                owner.as_bytes(),
                record,
                max.as_bytes(),
                limit.as_bytes(),
            ],
        )?;
        Ok(match what.as_str() {
            "existing" => Put::Existing(record),
            "full" => Put::Full,
            _ => Put::Created,
        })
    }

    pub(super) fn remove(&self, id: &str) -> Result<bool, RegistryError> {
        let limit = self.changes_limit.to_string();
        let removed: i64 = self.invoke(&self.remove, &[id.as_bytes(), limit.as_bytes()])?;
        Ok(removed == 1)
    }

    pub(super) fn swap(&self, id: &str, old: &[u8], new: &[u8]) -> Result<Swap, RegistryError> {
        let limit = self.changes_limit.to_string();
        let (what, current): (String, Vec<u8>) =
            self.invoke(&self.swap, &[id.as_bytes(), old, new, limit.as_bytes()])?;
        Ok(match what.as_str() {
            "done" => Swap::Done,
            "changed" => Swap::Changed(current),
            _ => Swap::Gone,
        })
    }

    /// The changes after `version` (every record when Redis no longer lists them all).
    pub(super) fn since(&self, version: u64) -> Result<Changes, RegistryError> {
        let since = version.to_string();
        let (version, kind, flat): (u64, u8, Vec<Vec<u8>>) =
            self.invoke(&self.since, &[since.as_bytes()])?;
        let mut records = Vec::with_capacity(flat.len() / 2);
        let mut flat = flat.into_iter();
        while let (Some(id), Some(record)) = (flat.next(), flat.next()) {
            let id = String::from_utf8(id).map_err(|e| RegistryError::Corrupt(e.to_string()))?;
            records.push((id, (!record.is_empty()).then_some(record)));
        }
        Ok(Changes {
            version,
            full: kind == 2,
            records,
        })
    }

    /// Takes or renews the fan-out's lease for `token`: whether the caller holds it.
    /// After [`resign`](Self::resign), false without asking.
    pub(super) fn lead(&self, token: &str, lease: Duration) -> Result<bool, RegistryError> {
        let ms = lease.as_millis().to_string();
        let held: i64 = self.with(|c, keys| {
            // Read under the link's lock, which `resign` takes after setting it: a renewal
            // that waited for the lock cannot take the lease back once it was given up.
            if self.resigned.load(Ordering::SeqCst) {
                return Ok(0);
            }
            run(&self.lead, keys, &[token.as_bytes(), ms.as_bytes()], c)
        })?;
        Ok(held == 1)
    }

    /// Gives the fan-out's lease up for good (a hub shutting down): drops it when `token`
    /// holds it, so another hub takes the fan-out over at its next try instead of when the
    /// lease runs out, and makes every later [`lead`](Self::lead) of this hub false.
    pub(super) fn resign(&self, token: &str) -> Result<(), RegistryError> {
        self.resigned.store(true, Ordering::SeqCst);
        let _: i64 = self.invoke(&self.release, &[token.as_bytes()])?;
        Ok(())
    }

    /// Records `cursor` (when given) as the lease's holder `token`, and reads it back: `None`
    /// when `token` does not hold the lease (nothing recorded).
    pub(super) fn cursor(
        &self,
        token: &str,
        cursor: Option<&str>,
    ) -> Result<Option<String>, RegistryError> {
        let (held, stored): (i64, String) = self.invoke(
            &self.cursor,
            &[token.as_bytes(), cursor.unwrap_or("").as_bytes()],
        )?;
        Ok((held == 1).then_some(stored))
    }
}

/// Invokes `script` with the registry's `keys` and `args` on `c`.
fn run<T: redis::FromRedisValue>(
    script: &Script,
    keys: &[String; 8],
    args: &[&[u8]],
    c: &mut LinkConnection,
) -> Result<T, RedisError> {
    let mut invocation = script.prepare_invoke();
    for key in keys {
        invocation.key(key);
    }
    for arg in args {
        invocation.arg(*arg);
    }
    invocation.invoke(c)
}

pub(super) fn redis_error(e: RedisError) -> RegistryError {
    RegistryError::Redis(e)
}
