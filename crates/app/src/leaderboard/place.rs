//! Writing the boards: players placed at their new mmr after a result or an admin
//! change (never over a newer version of them), taken off after a ban, renamed, and the
//! marker dropped when a write could not land.

use rh_infra::redis::{Arg, Redis, Script};

use super::rebuild::LOCK_TTL_MS;
use super::{
    generation_key, info_key, key, lock_key, marker_key, score, touched_key, version_key, LbError,
    Standing,
};

/// Places one player on the global board (`KEYS[2]`), their regional board (`KEYS[3]`)
/// and the details hash (`KEYS[4]`), unless the version hash (`KEYS[7]`) already holds a
/// newer version of them: results that commit close together may reach Redis in the
/// other order, and the older must not overwrite the newer (module docs, Consistency).
/// A board that vanished although the marker says it was built non-empty drops the
/// marker (`KEYS[1]`), so the next read rebuilds (a partial board must not pass for a
/// whole one); while a rebuild holds the lock (`KEYS[5]`) the player is recorded in
/// `KEYS[6]` so the rebuild places them again.
/// A placement moves the generation (`KEYS[8]`) on, which retires cached pages.
/// `ARGV`: user id, score, details, version, touched TTL. Returns 1 if placed, 0 if stale.
const PLACE_PLAYER: Script = Script::new(
    "leaderboard.place_player",
    r"
local user, score, info, version, ttl = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local seen = tonumber(redis.call('HGET', KEYS[7], user) or '-1')
if seen > version then return 0 end
local m = redis.call('GET', KEYS[1])
for i = 2, 4 do
  if m then
    local tag = '|' .. KEYS[i] .. '|'
    local s, e = string.find(m, tag, 1, true)
    if s then
      m = string.sub(m, 1, s) .. string.sub(m, e + 1)
      redis.call('SET', KEYS[1], m)
    elseif redis.call('EXISTS', KEYS[i]) == 0 then
      redis.call('DEL', KEYS[1])
      m = nil
    end
  end
end
if redis.call('EXISTS', KEYS[5]) == 1 then
  redis.call('SADD', KEYS[6], user)
  redis.call('PEXPIRE', KEYS[6], ttl)
end
redis.call('ZADD', KEYS[2], score, user)
redis.call('ZADD', KEYS[3], score, user)
redis.call('HSET', KEYS[4], user, info)
redis.call('HSET', KEYS[7], user, version)
if redis.call('EXISTS', KEYS[8]) == 1 then redis.call('INCR', KEYS[8]) end
return 1
",
);

/// Takes a player off the boards in `KEYS[4..]` and the hashes `KEYS[1]` (details) and
/// `KEYS[2]` (versions); while a rebuild holds the lock (`KEYS[3]`), records the player
/// in the touched set (`ARGV[2]` is its key) so the rebuild does not put them back, and
/// moves the generation (`ARGV[4]` is its key) on.
const REMOVE: Script = Script::new(
    "leaderboard.remove",
    r"
local user = ARGV[1]
if redis.call('EXISTS', KEYS[3]) == 1 then
  redis.call('SADD', ARGV[2], user)
  redis.call('PEXPIRE', ARGV[2], ARGV[3])
end
for i = 4, #KEYS do redis.call('ZREM', KEYS[i], user) end
redis.call('HDEL', KEYS[1], user)
redis.call('HDEL', KEYS[2], user)
if redis.call('EXISTS', ARGV[4]) == 1 then redis.call('INCR', ARGV[4]) end
return 1
",
);

/// Renames a player in the details hashes of some modes, where present. `KEYS` are
/// four per mode: details hash, rebuild lock, touched set, generation; while a mode's rebuild
/// holds its lock the player is recorded as touched there, in the same step, so the
/// rebuild re-reads them from MySQL. `ARGV`: user id, new username, touched TTL.
const RENAME: Script = Script::new(
    "leaderboard.rename",
    r"
for i = 1, #KEYS, 4 do
  if redis.call('EXISTS', KEYS[i + 1]) == 1 then
    redis.call('SADD', KEYS[i + 2], ARGV[1])
    redis.call('PEXPIRE', KEYS[i + 2], ARGV[3])
  end
  local v = redis.call('HGET', KEYS[i], ARGV[1])
  if v then
    local d = cjson.decode(v)
    d[1] = ARGV[2]
    redis.call('HSET', KEYS[i], ARGV[1], cjson.encode(d))
    if redis.call('EXISTS', KEYS[i + 3]) == 1 then redis.call('INCR', KEYS[i + 3]) end
  end
end
return 1
",
);

/// Puts players at their new mmr on the global and regional boards of `mode`, each
/// only if no newer version of them is there (see [`PLACE_PLAYER`]).
pub fn place(redis: &Redis, mode: &str, standings: &[Standing]) -> Result<(), LbError> {
    let (marker, global, info, lock, touched, versions, generation) = (
        marker_key(mode),
        key(mode, None),
        info_key(mode),
        lock_key(mode),
        touched_key(mode),
        version_key(mode),
        generation_key(mode),
    );
    for s in standings {
        let regional = key(mode, Some(&s.region));
        let user = s.user_id.to_string();
        let sort_score = score(s.mmr, s.user_id).to_string();
        let details = s.info();
        redis.eval(
            &PLACE_PLAYER,
            &[
                &marker,
                &global,
                &regional,
                &info,
                &lock,
                &touched,
                &versions,
                &generation,
            ],
            &[
                Arg::Str(&user),
                Arg::Str(&sort_score),
                Arg::Str(&details),
                Arg::Uint(s.version),
                // How long the touched set may outlive a crashed rebuild.
                Arg::Int(2 * LOCK_TTL_MS),
            ],
        )?;
    }
    Ok(())
}

/// Takes a player off every board of `mode` (`regions`: the configured ones, so a
/// region change cannot leave them behind) — a ban. While a rebuild runs, the rebuild
/// is told (touched set), so the boards it is building do not put the player back.
pub fn remove(redis: &Redis, mode: &str, regions: &[String], user_id: u64) -> Result<(), LbError> {
    let member = user_id.to_string();
    let mut keys = vec![
        info_key(mode),
        version_key(mode),
        lock_key(mode),
        key(mode, None),
    ];
    keys.extend(regions.iter().map(|r| key(mode, Some(r))));
    let (touched, generation) = (touched_key(mode), generation_key(mode));
    redis.eval(
        &REMOVE,
        &keys,
        &[
            Arg::Str(&member),
            Arg::Str(&touched),
            Arg::Int(2 * LOCK_TTL_MS),
            Arg::Str(&generation),
        ],
    )?;
    Ok(())
}

/// [`rename`] on every mode the player is ranked in; when Redis refuses, those modes'
/// boards are marked for a rebuild (which reads the new name from MySQL).
pub fn rename_everywhere(
    redis: &Redis,
    db: &rh_infra::db::Db,
    user_id: u64,
    username: &str,
) -> Result<(), LbError> {
    let rows = db.query(
        "SELECT mode FROM user_stats WHERE user_id = ? AND placed = 1 \
         AND season_id = (SELECT id FROM seasons WHERE status = 'active')",
        &rh_infra::params![user_id],
    )?;
    let modes = rows
        .iter()
        .map(|r| r.get::<String>("mode"))
        .collect::<Result<Vec<_>, _>>()?;
    if let Err(e) = rename(redis, &modes, user_id, username) {
        for mode in &modes {
            let _ = invalidate(redis, mode);
        }
        return Err(e);
    }
    Ok(())
}

/// Shows a player's new username on the boards of `modes`. While a rebuild of a mode
/// runs, the player is recorded as touched there so the rebuilt details hash, read
/// before the rename, is corrected from MySQL.
pub fn rename(
    redis: &Redis,
    modes: &[String],
    user_id: u64,
    username: &str,
) -> Result<(), LbError> {
    if modes.is_empty() {
        return Ok(());
    }
    let keys: Vec<String> = modes
        .iter()
        .flat_map(|m| [info_key(m), lock_key(m), touched_key(m), generation_key(m)])
        .collect();
    let user = user_id.to_string();
    redis.eval(
        &RENAME,
        &keys,
        &[
            Arg::Str(&user),
            Arg::Str(username),
            Arg::Int(2 * LOCK_TTL_MS),
        ],
    )?;
    Ok(())
}

/// Marks a mode's boards as untrustworthy so the next read rebuilds them.
pub fn invalidate(redis: &Redis, mode: &str) -> Result<(), LbError> {
    redis.del(&[&marker_key(mode)])?;
    Ok(())
}
