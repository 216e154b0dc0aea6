//! The Lua scripts of the Redis queue. Each touches the keys of one registration only (one hash
//! tag: one Redis Cluster slot), so each is atomic there; the keys shared by every registration
//! (the index, the id counter, the total) are written by separate commands, in an order that
//! can make the index early (a wasted look) but never late (a delivery left unseen).
//!
//! Keys of a registration `R` (KEYS, in this order): `items` (hash id → record), `due` (sorted
//! set id → due time, or the claim's lease end: released deliveries only), `held` (list of the
//! ids held behind the lane, in order), `msg` (hash message id → id: a delivery queued twice
//! is queued once), `state` (hash id → "attempt:due", what a claim compares), `owner` (hash id
//! → the claim holder's token).

use redis::Script;

/// The scripts, hashed once.
pub(super) struct Scripts {
    pub(super) enqueue: Script,
    pub(super) claim: Script,
    pub(super) reschedule: Script,
    pub(super) remove: Script,
}

impl Scripts {
    pub(super) fn new() -> Self {
        Self {
            enqueue: enqueue(),
            claim: claim(),
            reschedule: reschedule(),
            remove: remove(),
        }
    }
}

/// ARGV: lane limit, per-registration limit, then (id, due, message id, record, state) per
/// delivery. Returns one letter per delivery — `a` released, `h` held, `d` queued already
/// (then its id follows in the reply), `r` refused (the registration is at its limit) — then
/// the earliest due score left (or false).
fn enqueue() -> Script {
    Script::new(
        r"
local limit = tonumber(ARGV[1])
local max = tonumber(ARGV[2])
local released = redis.call('ZCARD', KEYS[2])
local held = redis.call('LLEN', KEYS[3])
local count = redis.call('HLEN', KEYS[1])
local out = {}
local dups = {}
for i = 3, #ARGV, 5 do
  local id, due, msg, rec, state = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3], ARGV[i + 4]
  local existing = redis.call('HGET', KEYS[4], msg)
  if existing then
    out[#out + 1] = 'd'
    dups[#dups + 1] = existing
  elseif count >= max then
    out[#out + 1] = 'r'
  else
    redis.call('HSET', KEYS[1], id, rec)
    redis.call('HSET', KEYS[4], msg, id)
    redis.call('HSET', KEYS[5], id, state)
    count = count + 1
    if held == 0 and released < limit then
      redis.call('ZADD', KEYS[2], due, id)
      released = released + 1
      out[#out + 1] = 'a'
    else
      redis.call('RPUSH', KEYS[3], id)
      held = held + 1
      out[#out + 1] = 'h'
    end
  end
end
local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
return {table.concat(out), dups, first[2] or false}
",
    )
}

/// ARGV: id, "attempt:due" of the caller's copy, now, lease end, token. 1 when the caller now
/// holds the delivery: it is queued, released, its copy current, and it is due (its due time,
/// or a former holder's lease, has passed).
fn claim() -> Script {
    Script::new(
        r"
if redis.call('HGET', KEYS[5], ARGV[1]) ~= ARGV[2] then return 0 end
local score = redis.call('ZSCORE', KEYS[2], ARGV[1])
if not score then return 0 end
if tonumber(score) > tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
redis.call('HSET', KEYS[6], ARGV[1], ARGV[5])
return 1
",
    )
}

/// ARGV: id, the new record, the new "attempt:due", the new due. 1 when rescheduled, 0 when
/// the delivery is not queued (or not released).
fn reschedule() -> Script {
    Script::new(
        r"
if redis.call('ZSCORE', KEYS[2], ARGV[1]) == false then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[5], ARGV[1], ARGV[3])
redis.call('ZADD', KEYS[2], ARGV[4], ARGV[1])
redis.call('HDEL', KEYS[6], ARGV[1])
return 1
",
    )
}

/// ARGV: id, message id. Returns {removed (0/1), the released id or false, its record, its
/// due}: removing a released delivery releases the first held one, due at its stored time.
fn remove() -> Script {
    Script::new(
        r"
local removed = redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('HGET', KEYS[4], ARGV[2]) == ARGV[1] then redis.call('HDEL', KEYS[4], ARGV[2]) end
redis.call('HDEL', KEYS[5], ARGV[1])
redis.call('HDEL', KEYS[6], ARGV[1])
if redis.call('ZREM', KEYS[2], ARGV[1]) == 0 then
  redis.call('LREM', KEYS[3], 1, ARGV[1])
  return {removed, false, false, false}
end
local next = redis.call('LPOP', KEYS[3])
if not next then return {removed, false, false, false} end
local state = redis.call('HGET', KEYS[5], next) or '0:0'
local due = string.match(state, ':(%d+)$') or '0'
redis.call('ZADD', KEYS[2], due, next)
return {removed, next, redis.call('HGET', KEYS[1], next) or false, due}
",
    )
}
