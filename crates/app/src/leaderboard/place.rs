//! Writing the boards: players placed at their new mmr after a result or an admin
//! change, taken off after a ban, and the marker dropped when a write could not land.

use rh_infra::redis::{Arg, Redis, Script};

use super::rebuild::LOCK_TTL_MS;
use super::{info_key, key, lock_key, marker_key, score, touched_key, LbError, Standing};

/// Adds members to one board; if the board vanished although the marker says it was
/// built non-empty, drops the marker so the next read rebuilds (a partial board must
/// not pass for a whole one). While a rebuild holds the lock (`KEYS[3]`), records the
/// players in `KEYS[4]` so the rebuild places them again (module docs, Consistency).
const PLACE: Script = Script::new(
    "leaderboard.place",
    r"
local m = redis.call('GET', KEYS[1])
if m then
  local tag = '|' .. KEYS[2] .. '|'
  local s, e = string.find(m, tag, 1, true)
  if s then
    redis.call('SET', KEYS[1], string.sub(m, 1, s) .. string.sub(m, e + 1))
  elseif redis.call('EXISTS', KEYS[2]) == 0 then
    redis.call('DEL', KEYS[1])
  end
end
if redis.call('EXISTS', KEYS[3]) == 1 then
  for i = 2, #ARGV - 1, 2 do
    if ARGV[1] == 'ZADD' then
      redis.call('SADD', KEYS[4], ARGV[i + 1])
    else
      redis.call('SADD', KEYS[4], ARGV[i])
    end
  end
  redis.call('PEXPIRE', KEYS[4], ARGV[#ARGV])
end
return redis.call(ARGV[1], KEYS[2], unpack(ARGV, 2, #ARGV - 1))
",
);

/// `command` (`ZADD` or `HSET`) on `key` with `pairs`, through [`PLACE`].
fn place_on(
    redis: &Redis,
    mode: &str,
    key: &str,
    command: &str,
    pairs: &[(String, String)],
) -> Result<(), LbError> {
    if pairs.is_empty() {
        return Ok(());
    }
    let mut args = Vec::with_capacity(2 + pairs.len() * 2);
    args.push(Arg::Str(command));
    for (a, b) in pairs {
        args.push(Arg::Str(a));
        args.push(Arg::Str(b));
    }
    // Last: how long the touched set may outlive a crashed rebuild.
    args.push(Arg::Int(2 * LOCK_TTL_MS));
    redis.eval(
        &PLACE,
        &[&marker_key(mode), key, &lock_key(mode), &touched_key(mode)],
        &args,
    )?;
    Ok(())
}

/// Puts players at their new mmr on the global and regional boards of `mode`.
pub fn place(redis: &Redis, mode: &str, standings: &[Standing]) -> Result<(), LbError> {
    let info: Vec<(String, String)> = standings
        .iter()
        .map(|s| (s.user_id.to_string(), s.info()))
        .collect();
    place_on(redis, mode, &info_key(mode), "HSET", &info)?;
    let member = |s: &Standing| (score(s.mmr, s.user_id).to_string(), s.user_id.to_string());
    let global: Vec<(String, String)> = standings.iter().map(member).collect();
    place_on(redis, mode, &key(mode, None), "ZADD", &global)?;
    for s in standings {
        place_on(
            redis,
            mode,
            &key(mode, Some(&s.region)),
            "ZADD",
            &[member(s)],
        )?;
    }
    Ok(())
}

/// Takes a player off the global and `region`'s board of `mode` (a ban).
pub fn remove(redis: &Redis, mode: &str, region: &str, user_id: u64) -> Result<(), LbError> {
    let member = user_id.to_string();
    for board in [key(mode, None), key(mode, Some(region))] {
        redis.execute("ZREM", &[Arg::Str(&board), Arg::Str(&member)])?;
    }
    redis.execute("HDEL", &[Arg::Str(&info_key(mode)), Arg::Str(&member)])?;
    Ok(())
}

/// Marks a mode's boards as untrustworthy so the next read rebuilds them.
pub fn invalidate(redis: &Redis, mode: &str) -> Result<(), LbError> {
    redis.del(&[&marker_key(mode)])?;
    Ok(())
}
