//! The Lua scripts that make every queue transition atomic.
//!
//! Redis runs a script to completion before any other command, so each script is one
//! indivisible step: a join cannot interleave with a claim, a leave cannot interleave
//! with a claim, and two claims over the same ticket cannot both succeed. That, and not
//! the optional tick lock, is what keeps a player out of two matches.
//!
//! Scripts return flat values only (an integer or one string) because Spin's Redis
//! interface flattens nested replies; multi-field answers are `|`-separated strings.
//!
//! Each is a [`Script`], run by `EVALSHA` (with an `EVAL` fallback) through
//! [`rh_infra::redis::Redis::eval`].
//!
//! Ticket hash fields (`mm:ticket:{id}`):
//! - `state`: `pending` (a party waiting for its members' consent), `queued` (eligible,
//!   listed in the queue's sorted set) or `claimed` (a tick is creating its match);
//! - `mode`, `region`, `leader`, `members` (comma-separated user ids, leader first),
//!   `consented` (the members who joined with their own request), `mmrs`
//!   (`uid=mmr,...`, each member's rating when they joined), `created_at_ms`,
//!   `joined_at_ms` (when the ticket became eligible: the last consent).

use rh_infra::redis::Script;

/// Shared helpers prepended to the scripts that need them (a macro, so `concat!` can
/// build each script's whole source at compile time: its SHA-1 is then fixed).
macro_rules! helpers {
    () => {
        r#"
local function has(csv, id)
  for x in string.gmatch(csv or '', '[^,]+') do if x == id then return true end end
  return false
end
local function count(csv)
  local n = 0
  for _ in string.gmatch(csv or '', '[^,]+') do n = n + 1 end
  return n
end
-- Calls f(region) for each region of a multi-region ticket's `regions` field
-- (`eu=30,na=80`), or once with `region` for a single-region ticket.
local function each_region(regions, region, f)
  if regions and regions ~= '' then
    for r in string.gmatch(regions, '([^,=]+)=%d+') do f(r) end
  else
    f(region)
  end
end
-- What keeps a player from joining: a live ticket, or a match the caller has not
-- confirmed finished (`stale` is a `match:{id}` value MySQL says is over).
local function player_busy(pkey, stale)
  local cur = redis.call('GET', pkey)
  if not cur then return nil end
  if cur == stale then return nil end
  if string.sub(cur, 1, 6) == 'match:' then return cur end
  if redis.call('EXISTS', 'mm:ticket:' .. cur) == 1 then return cur end
  return nil -- the ticket expired: the player is free again
end
"#
    };
}

/// Creates a ticket: a solo ticket goes straight into the queue, a party ticket waits
/// for its members' consent.
///
/// KEYS: player key of the caller, ticket key, queue key, active-queues set.
/// ARGV: ticket id, mode, region, caller id, members csv, caller rating (`mmr~sigma`),
/// now ms, ttl ms, stale match value (or ""), regions (`eu=30,na=80`, or "" for a
/// single-region ticket). A multi-region ticket is listed in the queue of every region
/// it names (`region` is its preferred one).
/// Returns `ok:queued`, `ok:pending` or `busy:{current player value}`.
pub const JOIN: Script = Script::new(
    "queue.join",
    concat!(
        helpers!(),
        r#"
local busy = player_busy(KEYS[1], ARGV[9])
if busy then return 'busy:' .. busy end
local solo = (ARGV[5] == ARGV[4])
local state = 'pending'
if solo then state = 'queued' end
redis.call('HSET', KEYS[2], 'state', state, 'mode', ARGV[2], 'region', ARGV[3],
  'leader', ARGV[4], 'members', ARGV[5], 'consented', ARGV[4],
  'mmrs', ARGV[4] .. '=' .. ARGV[6], 'created_at_ms', ARGV[7], 'joined_at_ms', ARGV[7])
if ARGV[10] ~= '' then redis.call('HSET', KEYS[2], 'regions', ARGV[10]) end
redis.call('PEXPIRE', KEYS[2], ARGV[8])
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[8])
if solo then
  each_region(ARGV[10], ARGV[3], function(r)
    redis.call('ZADD', 'mm:queue:' .. ARGV[2] .. ':' .. r, ARGV[7], ARGV[1])
    redis.call('SADD', KEYS[4], ARGV[2] .. '|' .. r)
  end)
end
return 'ok:' .. state
"#
    ),
);

/// A party member's consent. The last consent makes the ticket eligible.
///
/// KEYS: player key of the member, ticket key, queue key, active-queues set.
/// ARGV: ticket id, member id, member rating (`mmr~sigma`), now ms, ttl ms, stale match
/// value, mode, region (the party's preferred region). The last consent lists the
/// ticket in every region it names.
/// Returns `ok:pending`, `ok:queued`, `busy:{value}`, `gone`, `not_member`, `mismatch`,
/// `already` or `closed`.
pub const CONSENT: Script = Script::new(
    "queue.consent",
    concat!(
        helpers!(),
        r#"
local t = redis.call('HMGET', KEYS[2], 'state', 'members', 'consented', 'mode', 'region', 'mmrs', 'regions')
if not t[1] then return 'gone' end
if not has(t[2], ARGV[2]) then return 'not_member' end
if t[4] ~= ARGV[7] or t[5] ~= ARGV[8] then return 'mismatch' end
if has(t[3], ARGV[2]) then return 'already' end
if t[1] ~= 'pending' then return 'closed' end
local busy = player_busy(KEYS[1], ARGV[6])
if busy then return 'busy:' .. busy end
local consented = t[3] .. ',' .. ARGV[2]
local mmrs = t[6] .. ',' .. ARGV[2] .. '=' .. ARGV[3]
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[5])
-- Every consent restarts the ten minutes for the whole party.
redis.call('PEXPIRE', KEYS[2], ARGV[5])
for uid in string.gmatch(t[3], '[^,]+') do
  local pk = 'mm:player:' .. uid
  if redis.call('GET', pk) == ARGV[1] then redis.call('PEXPIRE', pk, ARGV[5]) end
end
if count(consented) == count(t[2]) then
  redis.call('HSET', KEYS[2], 'state', 'queued', 'consented', consented, 'mmrs', mmrs,
    'joined_at_ms', ARGV[4])
  each_region(t[7], ARGV[8], function(r)
    redis.call('ZADD', 'mm:queue:' .. ARGV[7] .. ':' .. r, ARGV[4], ARGV[1])
    redis.call('SADD', KEYS[4], ARGV[7] .. '|' .. r)
  end)
  return 'ok:queued'
end
redis.call('HSET', KEYS[2], 'consented', consented, 'mmrs', mmrs)
return 'ok:pending'
"#
    ),
);

/// Leaves the queue: removes the caller's whole ticket (a party leaves together) unless
/// a tick has already claimed it.
///
/// KEYS: player key. ARGV: queue key prefix (`mm:queue:`).
/// Returns `idle`, `match:{id}`, `claimed` or `left:{ticket id}:{consented csv}`.
pub const LEAVE: Script = Script::new(
    "queue.leave",
    concat!(
        helpers!(),
        r#"
local cur = redis.call('GET', KEYS[1])
if not cur then return 'idle' end
if string.sub(cur, 1, 6) == 'match:' then return cur end
local tk = 'mm:ticket:' .. cur
local t = redis.call('HMGET', tk, 'state', 'mode', 'region', 'consented', 'regions')
if not t[1] then
  redis.call('DEL', KEYS[1])
  return 'idle'
end
if t[1] == 'claimed' then return 'claimed' end
redis.call('DEL', tk)
each_region(t[5], t[3], function(r) redis.call('ZREM', ARGV[1] .. t[2] .. ':' .. r, cur) end)
for uid in string.gmatch(t[4], '[^,]+') do
  local pk = 'mm:player:' .. uid
  if redis.call('GET', pk) == cur then redis.call('DEL', pk) end
end
return 'left:' .. cur .. ':' .. t[4]
"#
    ),
);

/// A player's state for `GET /queue`; a queued player's read also refreshes the
/// ticket's expiry (polling the status is the keep-alive).
///
/// KEYS: player key. ARGV: ttl ms.
/// Returns nil (idle), `match:{id}`, or
/// `ticket|{id}|{state}|{mode}|{region}|{joined_at_ms}|{members}|{consented}|{mmrs}|{regions}`.
pub const STATUS: Script = Script::new(
    "queue.status",
    r#"
local cur = redis.call('GET', KEYS[1])
if not cur then return false end
if string.sub(cur, 1, 6) == 'match:' then return cur end
local tk = 'mm:ticket:' .. cur
local t = redis.call('HMGET', tk, 'state', 'mode', 'region', 'joined_at_ms', 'members', 'consented', 'mmrs', 'regions')
if not t[1] then return false end
if t[1] ~= 'claimed' then
  redis.call('PEXPIRE', tk, ARGV[1])
  for uid in string.gmatch(t[6], '[^,]+') do
    local pk = 'mm:player:' .. uid
    if redis.call('GET', pk) == cur then redis.call('PEXPIRE', pk, ARGV[1]) end
  end
end
return table.concat({'ticket', cur, t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8] or ''}, '|')
"#,
);

/// Reads up to `limit` oldest eligible tickets of one queue in a single round trip and
/// drops ids whose ticket hash has expired. An empty queue leaves the active set (a
/// join adds it back in the same script that fills it, so none is ever forgotten).
///
/// KEYS: queue key, active-queues set. ARGV: limit, this queue's `mode|region`, the
/// mode's rematch window in ms (0: off), now ms, the mode. With the window on, each line
/// also lists the opponents its members met within it (from `mm:recent:{mode}:{uid}`).
/// Returns one string, a line per ticket:
/// `{id}|{joined_at_ms}|{uid=mmr~sigma,...}|{region=latency,...}|{opponents csv}` (the
/// regions empty for a single-region ticket, the opponents empty with the window off). A
/// multi-region ticket is listed in each of its queues.
pub const READ_QUEUE: Script = Script::new(
    "queue.read_queue",
    r#"
local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
local out = {}
local window = tonumber(ARGV[3] or '0') or 0
local since = (tonumber(ARGV[4] or '0') or 0) - window
for _, id in ipairs(ids) do
  local t = redis.call('HMGET', 'mm:ticket:' .. id, 'state', 'joined_at_ms', 'mmrs', 'regions')
  if not t[1] then
    redis.call('ZREM', KEYS[1], id)
  elseif t[1] == 'queued' then
    local recent = ''
    if window > 0 then
      local seen = {}
      for uid in string.gmatch(t[3], '(%d+)=') do
        for _, o in ipairs(redis.call('ZRANGEBYSCORE', 'mm:recent:' .. ARGV[5] .. ':' .. uid, since, '+inf')) do
          seen[#seen + 1] = o
        end
      end
      recent = table.concat(seen, ',')
    end
    out[#out + 1] = id .. '|' .. t[2] .. '|' .. t[3] .. '|' .. (t[4] or '') .. '|' .. recent
  end
end
if redis.call('ZCARD', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[2]) end
return table.concat(out, '\n')
"#,
);

/// Claims the tickets of every match a tick formed in one queue: each group whole or
/// not at all, all groups in one step.
///
/// KEYS: queue key, waits key. ARGV: now ms, claim ttl ms, waits cap, the groups'
/// ticket ids (`1,2;3,4;...`: ids comma-separated, groups `;`-separated). Ticket and
/// player keys are derived from the ids (see `keys`): thousands of tickets travel as
/// one argument instead of thousands.
/// Returns one character per group: `1` claimed, `0` not (a ticket of it is gone,
/// claimed or not yet eligible: another tick or a leave came first).
///
/// A claimed ticket and its players' keys get a short expiry: if the runtime dies
/// before creating the matches, the players are free again after it. A claimed
/// multi-region ticket also leaves its other regions' queues.
pub const CLAIM: Script = Script::new(
    "queue.claim",
    concat!(
        helpers!(),
        r#"
local now = tonumber(ARGV[1])
local out, claimed, waits = {}, {}, {}
for group in string.gmatch(ARGV[4], '[^;]+') do
  local rows, ok = {}, true
  for id in string.gmatch(group, '[^,]+') do
    local t = redis.call('HMGET', 'mm:ticket:' .. id, 'state', 'joined_at_ms', 'members', 'mode', 'regions')
    if t[1] ~= 'queued' then ok = false break end
    rows[#rows + 1] = {id, t}
  end
  if ok then
    for _, row in ipairs(rows) do
      local id, t = row[1], row[2]
      local tk = 'mm:ticket:' .. id
      redis.call('HSET', tk, 'state', 'claimed')
      redis.call('PEXPIRE', tk, ARGV[2])
      for uid in string.gmatch(t[3], '[^,]+') do
        local pk = 'mm:player:' .. uid
        if redis.call('GET', pk) == id then redis.call('PEXPIRE', pk, ARGV[2]) end
      end
      if t[5] and t[5] ~= '' then
        each_region(t[5], nil, function(r) redis.call('ZREM', 'mm:queue:' .. t[4] .. ':' .. r, id) end)
      end
      claimed[#claimed + 1] = id
      waits[#waits + 1] = math.max(0, now - tonumber(t[2]))
    end
    out[#out + 1] = '1'
  else
    out[#out + 1] = '0'
  end
end
-- One ZREM per thousand tickets (unpack has a stack limit).
for i = 1, #claimed, 1000 do
  redis.call('ZREM', KEYS[1], unpack(claimed, i, math.min(i + 999, #claimed)))
end
-- Only the newest `cap` waits survive the trim, so push just those, oldest first: the
-- list ends up as one LPUSH per claimed ticket would leave it.
local cap = tonumber(ARGV[3])
if #waits > 0 then
  redis.call('LPUSH', KEYS[2], unpack(waits, math.max(1, #waits - cap + 1), #waits))
  redis.call('LTRIM', KEYS[2], 0, cap - 1)
end
return table.concat(out)
"#
    ),
);

/// Undoes claims whose matches were not created: puts tickets back in the queue, or
/// drops those that can never be matched (a member's account is gone).
///
/// KEYS: queue key, active-queues set, then ticket keys. ARGV: ttl ms, `mode|region`,
/// one character per ticket (`r` release, `d` drop), then the ticket ids.
/// Returns how many tickets went back (a multi-region ticket to each of its queues).
pub const RELEASE: Script = Script::new(
    "queue.release",
    concat!(
        helpers!(),
        r#"
local n = 0
for i = 3, #KEYS do
  local id = ARGV[i + 1]
  local t = redis.call('HMGET', KEYS[i], 'state', 'joined_at_ms', 'members', 'mode', 'regions')
  if t[1] == 'claimed' then
    local drop = string.sub(ARGV[3], i - 2, i - 2) == 'd'
    for uid in string.gmatch(t[3], '[^,]+') do
      local pk = 'mm:player:' .. uid
      if redis.call('GET', pk) == id then
        if drop then redis.call('DEL', pk) else redis.call('PEXPIRE', pk, ARGV[1]) end
      end
    end
    if drop then
      redis.call('DEL', KEYS[i])
    else
      redis.call('HSET', KEYS[i], 'state', 'queued')
      redis.call('PEXPIRE', KEYS[i], ARGV[1])
      redis.call('ZADD', KEYS[1], t[2], id)
      if t[5] and t[5] ~= '' then
        each_region(t[5], nil, function(r)
          redis.call('ZADD', 'mm:queue:' .. t[4] .. ':' .. r, t[2], id)
          redis.call('SADD', KEYS[2], t[4] .. '|' .. r)
        end)
      end
      n = n + 1
    end
  end
end
if n > 0 then redis.call('SADD', KEYS[2], ARGV[2]) end
return n
"#
    ),
);

/// Records the created matches: every player's key becomes `match:{id}`, the tickets go
/// away, and the players' events are published. Player keys are written before the
/// tickets are deleted so a concurrent leave always sees either a claimed ticket or the
/// match. (Publishing from the script saves a host round trip per event.)
///
/// No KEYS (ticket and player keys are derived from the ids, see `keys`). ARGV:
/// player-key ttl ms; one line per ticket, `{ticket id}:{match id}:{members csv}`;
/// one line per event, `{channel}\t{payload}` (JSON never holds a raw tab or newline);
/// now ms; one line per player of a mode whose rematch window is on,
/// `{window ms}:{mode}:{user id}:{opponents csv}`, recorded in `mm:recent:{mode}:{uid}`.
/// Packed this way, thousands of matches travel as five arguments.
pub const FINALIZE: Script = Script::new(
    "queue.finalize",
    r#"
local tickets = {}
for id, match_id, members in string.gmatch(ARGV[2], '(%d+):(%d+):([%d,]+)') do
  local marker = 'match:' .. match_id
  for uid in string.gmatch(members, '%d+') do
    local pk = 'mm:player:' .. uid
    if redis.call('GET', pk) == id then redis.call('SET', pk, marker, 'PX', ARGV[1]) end
  end
  tickets[#tickets + 1] = 'mm:ticket:' .. id
end
for i = 1, #tickets, 1000 do
  redis.call('DEL', unpack(tickets, i, math.min(i + 999, #tickets)))
end
for channel, payload in string.gmatch(ARGV[3], '([^\t\n]+)\t([^\n]+)') do
  redis.call('PUBLISH', channel, payload)
end
local now = tonumber(ARGV[4] or '0') or 0
for window, mode, uid, opponents in string.gmatch(ARGV[5] or '', '(%d+):([^:\n]+):(%d+):([%d,]+)') do
  local key = 'mm:recent:' .. mode .. ':' .. uid
  for o in string.gmatch(opponents, '%d+') do redis.call('ZADD', key, now, o) end
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - tonumber(window))
  redis.call('PEXPIRE', key, window)
end
return #tickets
"#,
);

/// Replaces a player's `match:{id}` value only if it is still that value (the caller
/// has checked in MySQL that the match is over).
///
/// KEYS: player key. ARGV: expected value.
pub const CLEAR_IF: Script = Script::new(
    "queue.clear_if",
    r#"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"#,
);
