//! The Lua scripts: each touches the keys of one partition only (one Cluster slot).

use std::sync::LazyLock;

use redis::Script;

/// One batch of publishes to one partition. `KEYS`: log, meta, ids, idq. `ARGV`: epoch
/// candidate, max length, max age in ms (0: none), `1` to trim in this call (`0`: not), then
/// per entry: its publisher id (`''`: none), its number of field/value arguments, and those
/// arguments. Returns `{epoch, id…}`: the partition's epoch and each entry's id, in order.
///
/// The entries are appended in the order given, within one atomic call (so one reader round
/// sees all of them or none; `XADD *` ids increase through the batch). Only when asked does it
/// trim: then, when trimming removed entries, `meta.trimmed` becomes the first retained id
/// (every entry before it may be gone; Redis 7.0 does not count trims in
/// `max-deleted-entry-id`).
///
/// The id index: `ids` maps a publisher id to its earliest entry (`HSETNX`), `idq` lists the
/// indexed ids in publish order; on a trim, ids whose entry is before `meta.trimmed` leave
/// both (at most 1024 per call, the rest with the next trim), so the index is bounded with the
/// stream.
pub(crate) static PUBLISH: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local function less(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end
local epoch = redis.call('HGET', KEYS[2], 'epoch')
if not epoch then
  redis.call('HSET', KEYS[2], 'epoch', ARGV[1])
  epoch = ARGV[1]
end
local out = {epoch}
local i = 5
while i <= #ARGV do
  local pid, n = ARGV[i], tonumber(ARGV[i + 1])
  local add = {'XADD', KEYS[1], '*'}
  for j = i + 2, i + 1 + n do add[#add + 1] = ARGV[j] end
  local id = redis.call(unpack(add))
  if pid ~= '' and redis.call('HSETNX', KEYS[3], pid, id) == 1 then
    redis.call('RPUSH', KEYS[4], pid)
  end
  out[#out + 1] = id
  i = i + 2 + n
end
if ARGV[4] ~= '1' then return out end
local removed = redis.call('XTRIM', KEYS[1], 'MAXLEN', '~', ARGV[2])
local age = tonumber(ARGV[3])
if age > 0 then
  local t = redis.call('TIME')
  local cut = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) - age
  if cut > 0 then
    removed = removed + redis.call('XTRIM', KEYS[1], 'MINID', '~', string.format('%d', cut))
  end
end
if removed > 0 then
  local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
  if first[1] then redis.call('HSET', KEYS[2], 'trimmed', first[1][1]) end
end
local trimmed = redis.call('HGET', KEYS[2], 'trimmed')
if trimmed then
  for _ = 1, 1024 do
    local oldest = redis.call('LINDEX', KEYS[4], 0)
    if not oldest then break end
    local at = redis.call('HGET', KEYS[3], oldest)
    if at and not less(at, trimmed) then break end
    redis.call('LPOP', KEYS[4])
    if at then redis.call('HDEL', KEYS[3], oldest) end
  end
end
return out
",
    )
});

/// `KEYS`: log, meta. `ARGV`: epoch candidate, the last entry id this hub read (`''`: none),
/// the partition epoch this hub knows (`''`: none), a second candidate for a lost tail.
///
/// Sets the epoch when there is none; replaces it with the second candidate when the entry last
/// read is gone without having been trimmed (a lost tail) and nobody has replaced it since.
/// An entry before `meta.trimmed` counts as trimmed. Returns `{epoch, last-generated-id,
/// max-deleted-entry-id, trimmed}`.
pub(crate) static STATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local function less(a, b)
  local am, as = string.match(a, '^(%d+)-(%d+)$')
  local bm, bs = string.match(b, '^(%d+)-(%d+)$')
  am, as, bm, bs = tonumber(am), tonumber(as), tonumber(bm), tonumber(bs)
  return am < bm or (am == bm and as < bs)
end
redis.call('HSETNX', KEYS[2], 'epoch', ARGV[1])
local last, deleted = '0-0', '0-0'
if redis.call('EXISTS', KEYS[1]) == 1 then
  local info = redis.call('XINFO', 'STREAM', KEYS[1])
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then last = info[i + 1] end
    if info[i] == 'max-deleted-entry-id' then deleted = info[i + 1] end
  end
end
local epoch = redis.call('HGET', KEYS[2], 'epoch')
local trimmed = redis.call('HGET', KEYS[2], 'trimmed') or '0-0'
if ARGV[2] ~= '' and ARGV[3] == epoch and less(deleted, ARGV[2]) and not less(ARGV[2], trimmed) then
  if #redis.call('XRANGE', KEYS[1], ARGV[2], ARGV[2]) == 0 then
    redis.call('HSET', KEYS[2], 'epoch', ARGV[4])
    epoch = ARGV[4]
  end
end
return {epoch, last, deleted, trimmed}
",
    )
});

/// `KEYS`: log. `ARGV`: the id to read after, the most entries. Returns `{secs, micros,
/// entries}`: the master's clock and the entries after the id. Atomic, so every entry below
/// the clock is in the answer or an earlier one (the watermark's proof, on each master).
pub(crate) static READ: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local t = redis.call('TIME')
return {t[1], t[2], redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', ARGV[2])}
",
    )
});

/// `KEYS`: log (only to route to its master). Returns that master's `TIME`.
pub(crate) static CLOCK: LazyLock<Script> =
    LazyLock::new(|| Script::new("return redis.call('TIME')"));
