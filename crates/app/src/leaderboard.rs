//! Leaderboards: Redis sorted sets kept equal to MySQL's `user_stats`.
//!
//! # Keys
//! - `lb:{mode}`: every player with at least one completed match in the mode;
//! - `lb:{mode}:{region}`: the same players split by their home region (`users.region`),
//!   so the regional boards partition the global one;
//! - `lbmeta:{mode}:built`: marker set when the mode's boards were (re)built from MySQL.
//!   Its value lists the boards that were empty then (`|lb:1v1:oce|`). Redis losing its
//!   data (flush, restart without persistence) loses the marker too, so "marker missing"
//!   means "boards untrustworthy": the next read rebuilds them. A board key missing
//!   while the marker says it was not empty (someone deleted just that key) counts as
//!   lost too, both on read and when a result adds to it;
//! - `lbmeta:{mode}:lock`: `SET NX EX` lock so only one request rebuilds at a time;
//! - `lbmeta:{mode}:touched`: players placed while that lock is held (see Consistency);
//! - `lbinfo:{mode}`: hash user id → `[username, wins, losses]` (JSON), so a page is
//!   answered from Redis alone in one round trip ([`read_page`]): no MySQL connection
//!   on the hot path. Written with the boards (results, rebuilds) and checked like one.
//!
//! # Score: a composite that makes ties stable
//! `score = mmr * 2^32 + (2^32 - 1 - user_id)`: higher mmr first and, for equal mmr, the
//! lower (older) user id first. Scores stay below 2^53 for any mmr under about
//! two million, so the double Redis stores is exact; `mmr = floor(score / 2^32)`.
//! User ids are below 2^32 in practice; beyond that ties fall back to Redis's member
//! order (lexicographic), still stable.
//!
//! # Consistency
//! MySQL is the source of truth. Results update Redis after their transaction commits;
//! if that update fails, [`invalidate`] drops the marker so the next read rebuilds.
//! A rebuild writes into `lbtmp:` keys and `RENAME`s them over the live ones, so
//! readers never see a half-built board.
//!
//! A result can commit after a rebuild read MySQL and place its players before the
//! `RENAME` replaces the board it wrote to (on another runtime, or another request of
//! this one): its update would be lost under a marker saying the boards are whole. So
//! every placement made while the rebuild lock is held also records its players in
//! `lbmeta:{mode}:touched`, in the same script as the write; the rebuild empties that
//! set before reading MySQL and, once its boards are live, places every player recorded
//! since then again from MySQL as it is by then.

use spin_sdk::mysql::ParameterValue;
use spin_sdk::redis::{Connection as Redis, RedisParameter, RedisResult};

use rh_infra::db::{Db, DbError};

const SHIFT: i64 = 1 << 32;
/// Rows read from MySQL per page while rebuilding (the host caps result sizes).
const REBUILD_PAGE: u64 = 5000;
/// Members per ZADD while rebuilding.
const ZADD_BATCH: usize = 1000;
/// Rebuild lock lifetime: long enough for a large board, short enough that a crashed
/// rebuilder does not block the next one for long.
const LOCK_TTL_S: i64 = 60;

/// Errors of leaderboard storage.
#[derive(Debug, thiserror::Error)]
pub enum LbError {
    #[error("redis: {0}")]
    Redis(String),
    #[error("mysql: {0}")]
    Mysql(String),
    /// Another request holds the rebuild lock and did not finish in time.
    #[error("leaderboard is being rebuilt")]
    Busy,
}

impl From<spin_sdk::redis::Error> for LbError {
    fn from(e: spin_sdk::redis::Error) -> Self {
        LbError::Redis(e.to_string())
    }
}
impl From<DbError> for LbError {
    fn from(e: DbError) -> Self {
        LbError::Mysql(e.to_string())
    }
}

impl From<LbError> for rh_infra::AppError {
    fn from(e: LbError) -> Self {
        match e {
            LbError::Busy => rh_infra::AppError::Unavailable(e.to_string()),
            other => rh_infra::AppError::internal(other),
        }
    }
}

/// The composite sort score (see the module docs).
pub fn score(mmr: i64, user_id: u64) -> i64 {
    mmr * SHIFT + (SHIFT - 1 - (user_id % SHIFT as u64) as i64)
}

/// Inverse of [`score`] for the mmr part.
pub fn mmr_from_score(score: f64) -> i64 {
    (score / SHIFT as f64).floor() as i64
}

/// `lb:{mode}` or `lb:{mode}:{region}`.
pub fn key(mode: &str, region: Option<&str>) -> String {
    match region {
        Some(r) => format!("lb:{mode}:{r}"),
        None => format!("lb:{mode}"),
    }
}

fn marker_key(mode: &str) -> String {
    format!("lbmeta:{mode}:built")
}

fn lock_key(mode: &str) -> String {
    format!("lbmeta:{mode}:lock")
}

fn touched_key(mode: &str) -> String {
    format!("lbmeta:{mode}:touched")
}

/// One player's place on the boards of a mode.
#[derive(Debug, Clone, PartialEq)]
pub struct Standing {
    pub user_id: u64,
    pub mmr: i64,
    pub region: String,
    pub username: String,
    pub wins: u32,
    pub losses: u32,
}

/// Ranked players of a mode (at least one game, not banned) as [`Standing::from_row`]
/// reads them; callers append their own `AND ...` conditions after `us.mode = ?`.
const STANDINGS_SELECT: &str =
    "SELECT us.user_id, us.mmr, us.wins, us.losses, u.region, u.username FROM user_stats us \
     JOIN users u ON u.id = us.user_id \
     WHERE us.mode = ? AND us.games > 0 \
     AND (u.banned_until_ms IS NULL OR u.banned_until_ms <= UNIX_TIMESTAMP() * 1000)";

impl Standing {
    fn from_row(row: rh_infra::db::Row<'_>) -> Result<Standing, DbError> {
        Ok(Standing {
            user_id: row.get("user_id")?,
            mmr: row.get("mmr")?,
            region: row.get("region")?,
            username: row.get("username")?,
            wins: row.get("wins")?,
            losses: row.get("losses")?,
        })
    }

    fn info(&self) -> String {
        serde_json::json!([self.username, self.wins, self.losses]).to_string()
    }
}

/// The player-details hash of a mode.
pub fn info_key(mode: &str) -> String {
    format!("lbinfo:{mode}")
}

/// One row of a page, before usernames are joined in.
#[derive(Debug, Clone, PartialEq)]
pub struct Ranked {
    /// 1-based.
    pub rank: u64,
    pub user_id: u64,
    pub mmr: i64,
}

// ---- small Redis helpers over `execute` -------------------------------------------

fn bin(s: impl Into<String>) -> RedisParameter {
    RedisParameter::Binary(s.into().into_bytes())
}

fn as_i64(v: &RedisResult) -> Option<i64> {
    match v {
        RedisResult::Int64(n) => Some(*n),
        RedisResult::Binary(b) => std::str::from_utf8(b).ok()?.parse().ok(),
        RedisResult::Status(s) => s.parse().ok(),
        RedisResult::Nil => None,
    }
}

fn as_string(v: &RedisResult) -> Option<String> {
    match v {
        RedisResult::Binary(b) => String::from_utf8(b.clone()).ok(),
        RedisResult::Status(s) => Some(s.clone()),
        RedisResult::Int64(n) => Some(n.to_string()),
        RedisResult::Nil => None,
    }
}

/// `SET key value NX EX ttl`, true when this call set it. Done through a Lua script
/// because hosts differ in how they surface `OK` / nil from `execute` (older Spin
/// drops both), while an integer reply is unambiguous everywhere.
pub fn set_nx_ex(redis: &Redis, key: &str, value: &[u8], ttl_s: i64) -> Result<bool, LbError> {
    const SCRIPT: &str =
        "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then return 1 else return 0 end";
    let out = redis.execute(
        "EVAL",
        &[
            bin(SCRIPT),
            RedisParameter::Int64(1),
            bin(key),
            RedisParameter::Binary(value.to_vec()),
            RedisParameter::Int64(ttl_s),
        ],
    )?;
    Ok(out.first().and_then(as_i64) == Some(1))
}

fn exists(redis: &Redis, key: &str) -> Result<bool, LbError> {
    let out = redis.execute("EXISTS", &[bin(key)])?;
    Ok(out.first().and_then(as_i64).unwrap_or(0) > 0)
}

fn zadd(redis: &Redis, key: &str, members: &[(i64, u64)]) -> Result<(), LbError> {
    if members.is_empty() {
        return Ok(());
    }
    let mut args = Vec::with_capacity(1 + members.len() * 2);
    args.push(bin(key));
    for (score, user_id) in members {
        args.push(bin(score.to_string()));
        args.push(bin(user_id.to_string()));
    }
    redis.execute("ZADD", &args)?;
    Ok(())
}

// ---- reads --------------------------------------------------------------------------

/// Number of players on a board.
pub fn total(redis: &Redis, key: &str) -> Result<u64, LbError> {
    let out = redis.execute("ZCARD", &[bin(key)])?;
    Ok(out.first().and_then(as_i64).unwrap_or(0).max(0) as u64)
}

/// Entries `offset .. offset + limit` (0-based offset), best first.
pub fn page(redis: &Redis, key: &str, offset: u64, limit: u64) -> Result<Vec<Ranked>, LbError> {
    if limit == 0 {
        return Ok(Vec::new());
    }
    let out = redis.execute(
        "ZREVRANGE",
        &[
            bin(key),
            RedisParameter::Int64(offset as i64),
            RedisParameter::Int64((offset + limit - 1) as i64),
            bin("WITHSCORES"),
        ],
    )?;
    let mut entries = Vec::with_capacity(out.len() / 2);
    for (i, pair) in out.chunks_exact(2).enumerate() {
        let user_id = as_string(&pair[0]).and_then(|s| s.parse::<u64>().ok());
        let score = as_string(&pair[1]).and_then(|s| s.parse::<f64>().ok());
        if let (Some(user_id), Some(score)) = (user_id, score) {
            entries.push(Ranked {
                rank: offset + i as u64 + 1,
                user_id,
                mmr: mmr_from_score(score),
            });
        }
    }
    Ok(entries)
}

/// One row of a page with the player's details.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Entry {
    /// 1-based.
    pub rank: u64,
    pub user_id: u64,
    pub username: String,
    pub mmr: i64,
    pub wins: u32,
    pub losses: u32,
}

/// Checks the boards, counts and pages in one round trip: `{0}` when the boards are
/// untrustworthy, else `{1, total, member, score, info, member, score, info, ...}`.
const READ_SCRIPT: &str = r"
local m = redis.call('GET', KEYS[1])
if not m then return {0} end
for i = 2, 3 do
  if redis.call('EXISTS', KEYS[i]) == 0 and not string.find(m, '|' .. KEYS[i] .. '|', 1, true) then
    return {0}
  end
end
local out = {1, redis.call('ZCARD', KEYS[2])}
if tonumber(ARGV[2]) >= tonumber(ARGV[1]) then
  local r = redis.call('ZREVRANGE', KEYS[2], ARGV[1], ARGV[2], 'WITHSCORES')
  for i = 1, #r, 2 do
    out[#out + 1] = r[i]
    out[#out + 1] = r[i + 1]
    out[#out + 1] = redis.call('HGET', KEYS[3], r[i]) or ''
  end
end
return out
";

/// A page of `board` (offset 0-based) with details, or `None` when the boards of
/// `mode` must be rebuilt first ([`ensure_built`]). Redis only, one round trip.
pub fn read_page(
    redis: &Redis,
    mode: &str,
    board: &str,
    offset: u64,
    limit: u64,
) -> Result<Option<(u64, Vec<Entry>)>, LbError> {
    let out = redis.execute(
        "EVAL",
        &[
            bin(READ_SCRIPT),
            RedisParameter::Int64(3),
            bin(marker_key(mode)),
            bin(board),
            bin(info_key(mode)),
            RedisParameter::Int64(offset as i64),
            RedisParameter::Int64(offset as i64 + limit as i64 - 1),
        ],
    )?;
    if out.first().and_then(as_i64) != Some(1) {
        return Ok(None);
    }
    let total = out.get(1).and_then(as_i64).unwrap_or(0).max(0) as u64;
    let mut entries = Vec::with_capacity(out.len().saturating_sub(2) / 3);
    for (i, row) in out[2..].chunks_exact(3).enumerate() {
        let user_id = as_string(&row[0]).and_then(|s| s.parse::<u64>().ok());
        let score = as_string(&row[1]).and_then(|s| s.parse::<f64>().ok());
        let (Some(user_id), Some(score)) = (user_id, score) else {
            continue;
        };
        let (username, wins, losses) = as_string(&row[2])
            .and_then(|s| serde_json::from_str::<(String, u32, u32)>(&s).ok())
            .unwrap_or_default();
        entries.push(Entry {
            rank: offset + i as u64 + 1,
            user_id,
            username,
            mmr: mmr_from_score(score),
            wins,
            losses,
        });
    }
    Ok(Some((total, entries)))
}

/// 0-based rank of a player (best = 0), `None` when not on the board.
pub fn rank_of(redis: &Redis, key: &str, user_id: u64) -> Result<Option<u64>, LbError> {
    let out = redis.execute("ZREVRANK", &[bin(key), bin(user_id.to_string())])?;
    Ok(out.first().and_then(as_i64).map(|r| r as u64))
}

// ---- writes -------------------------------------------------------------------------

/// Adds members to one board; if the board vanished although the marker says it was
/// built non-empty, drops the marker so the next read rebuilds (a partial board must
/// not pass for a whole one). While a rebuild holds the lock (`KEYS[3]`), records the
/// players in `KEYS[4]` so the rebuild places them again (module docs, Consistency).
const PLACE_SCRIPT: &str = r"
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
  redis.call('EXPIRE', KEYS[4], ARGV[#ARGV])
end
return redis.call(ARGV[1], KEYS[2], unpack(ARGV, 2, #ARGV - 1))
";

/// True when the marker is there and every board in `KEYS[2..]` exists or was empty.
const CHECK_SCRIPT: &str = r"
local m = redis.call('GET', KEYS[1])
if not m then return 0 end
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 and not string.find(m, '|' .. KEYS[i] .. '|', 1, true) then
    return 0
  end
end
return 1
";

/// `command` (`ZADD` or `HSET`) on `key` with `pairs`, through [`PLACE_SCRIPT`].
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
    let mut args = vec![
        bin(PLACE_SCRIPT),
        RedisParameter::Int64(4),
        bin(marker_key(mode)),
        bin(key),
        bin(lock_key(mode)),
        bin(touched_key(mode)),
        bin(command),
    ];
    for (a, b) in pairs {
        args.push(bin(a.clone()));
        args.push(bin(b.clone()));
    }
    // Last: how long the touched set may outlive a crashed rebuild.
    args.push(RedisParameter::Int64(2 * LOCK_TTL_S));
    redis.execute("EVAL", &args)?;
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

/// Marks a mode's boards as untrustworthy so the next read rebuilds them.
pub fn invalidate(redis: &Redis, mode: &str) -> Result<(), LbError> {
    redis.del(&[marker_key(mode)])?;
    Ok(())
}

/// What [`ensure_built`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ensured {
    /// The marker was there.
    AlreadyBuilt,
    /// This call rebuilt the boards (with this many players).
    Rebuilt(usize),
    /// Another request rebuilt them while this one waited.
    BuiltByOther,
}

fn trustworthy(redis: &Redis, mode: &str, reading: &[String]) -> Result<bool, LbError> {
    let mut args = vec![
        bin(CHECK_SCRIPT),
        RedisParameter::Int64(1 + reading.len() as i64),
    ];
    args.push(bin(marker_key(mode)));
    args.extend(reading.iter().map(|k| bin(k.clone())));
    let out = redis.execute("EVAL", &args)?;
    Ok(out.first().and_then(as_i64) == Some(1))
}

/// Makes sure a mode's boards are trustworthy before reading the boards `reading`:
/// if they are not, rebuild from MySQL under the lock, or wait for the lock's holder.
pub fn ensure_built(
    redis: &Redis,
    db: &Db,
    mode: &str,
    regions: &[String],
    reading: &[String],
) -> Result<Ensured, LbError> {
    if trustworthy(redis, mode, reading)? {
        return Ok(Ensured::AlreadyBuilt);
    }
    if set_nx_ex(redis, &lock_key(mode), b"1", LOCK_TTL_S)? {
        let outcome = rebuild_locked(redis, db, mode, regions);
        // Release even on failure, so the next read retries instead of waiting out the TTL.
        let _ = redis.del(&[lock_key(mode)]);
        return outcome.map(Ensured::Rebuilt);
    }
    // Someone else is rebuilding: wait for their marker (a bounded, short poll).
    for _ in 0..200 {
        std::thread::sleep(std::time::Duration::from_millis(25));
        if trustworthy(redis, mode, reading)? {
            return Ok(Ensured::BuiltByOther);
        }
        if !exists(redis, &lock_key(mode))? {
            // The other rebuilder gave up; try ourselves once.
            return ensure_built_once(redis, db, mode, regions, reading);
        }
    }
    Err(LbError::Busy)
}

fn ensure_built_once(
    redis: &Redis,
    db: &Db,
    mode: &str,
    regions: &[String],
    reading: &[String],
) -> Result<Ensured, LbError> {
    if trustworthy(redis, mode, reading)? {
        return Ok(Ensured::BuiltByOther);
    }
    if !set_nx_ex(redis, &lock_key(mode), b"1", LOCK_TTL_S)? {
        return Err(LbError::Busy);
    }
    let outcome = rebuild_locked(redis, db, mode, regions);
    let _ = redis.del(&[lock_key(mode)]);
    outcome.map(Ensured::Rebuilt)
}

/// Rebuilds a mode's boards from MySQL now (the admin route), under the lock.
pub fn rebuild(redis: &Redis, db: &Db, mode: &str, regions: &[String]) -> Result<usize, LbError> {
    if !set_nx_ex(redis, &lock_key(mode), b"1", LOCK_TTL_S)? {
        return Err(LbError::Busy);
    }
    let outcome = rebuild_locked(redis, db, mode, regions);
    let _ = redis.del(&[lock_key(mode)]);
    outcome
}

/// The standings of `user_ids` in a mode as MySQL has them now (players without a
/// ranked game or banned are left out, as in [`standings_from_db`]).
fn standings_of(db: &Db, mode: &str, user_ids: &[u64]) -> Result<Vec<Standing>, LbError> {
    let mut all = Vec::with_capacity(user_ids.len());
    for chunk in user_ids.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let mut params = vec![ParameterValue::Str(mode.to_string())];
        params.extend(chunk.iter().map(|&id| ParameterValue::Uint64(id)));
        let rows = db.query(
            &format!("{STANDINGS_SELECT} AND us.user_id IN ({marks})"),
            &params,
        )?;
        for row in rows.iter() {
            all.push(Standing::from_row(row)?);
        }
    }
    Ok(all)
}

/// The players recorded in the touched set, which is emptied in the same step.
fn take_touched(redis: &Redis, mode: &str) -> Result<Vec<u64>, LbError> {
    const SCRIPT: &str =
        "local m = redis.call('SMEMBERS', KEYS[1]) redis.call('DEL', KEYS[1]) return m";
    let out = redis.execute(
        "EVAL",
        &[
            bin(SCRIPT),
            RedisParameter::Int64(1),
            bin(touched_key(mode)),
        ],
    )?;
    Ok(out
        .iter()
        .filter_map(|v| as_string(v)?.parse().ok())
        .collect())
}

/// Every ranked player of a mode, read from MySQL in keyset pages.
pub fn standings_from_db(db: &Db, mode: &str) -> Result<Vec<Standing>, LbError> {
    let mut all = Vec::new();
    let mut after: u64 = 0;
    loop {
        let rows = db.query(
            &format!("{STANDINGS_SELECT} AND us.user_id > ? ORDER BY us.user_id LIMIT ?"),
            &[
                ParameterValue::Str(mode.to_string()),
                ParameterValue::Uint64(after),
                ParameterValue::Uint64(REBUILD_PAGE),
            ],
        )?;
        let n = rows.len() as u64;
        for row in rows.iter() {
            let standing = Standing::from_row(row)?;
            after = standing.user_id;
            all.push(standing);
        }
        if n < REBUILD_PAGE {
            return Ok(all);
        }
    }
}

fn rebuild_locked(
    redis: &Redis,
    db: &Db,
    mode: &str,
    regions: &[String],
) -> Result<usize, LbError> {
    // Placements from here on are recorded (the lock is held) and placed again below.
    redis.del(&[touched_key(mode)])?;
    let standings = standings_from_db(db, mode)?;

    // Group into the global board and each regional board, built under temporary keys.
    let mut boards: Vec<(String, Vec<(i64, u64)>)> = vec![(key(mode, None), Vec::new())];
    for r in regions {
        boards.push((key(mode, Some(r)), Vec::new()));
    }
    for s in &standings {
        let member = (score(s.mmr, s.user_id), s.user_id);
        boards[0].1.push(member);
        let regional = key(mode, Some(&s.region));
        match boards.iter_mut().find(|(k, _)| *k == regional) {
            Some((_, members)) => members.push(member),
            None => boards.push((regional, vec![member])),
        }
    }
    let mut empty = String::from("|");
    for (live, members) in &boards {
        let tmp = format!("lbtmp:{live}");
        redis.del(std::slice::from_ref(&tmp))?;
        for chunk in members.chunks(ZADD_BATCH) {
            zadd(redis, &tmp, chunk)?;
        }
        if members.is_empty() {
            redis.del(std::slice::from_ref(live))?;
            empty.push_str(live);
            empty.push('|');
        } else {
            redis.execute("RENAME", &[bin(tmp), bin(live.clone())])?;
        }
    }
    let info = info_key(mode);
    let tmp = format!("lbtmp:{info}");
    redis.del(std::slice::from_ref(&tmp))?;
    for chunk in standings.chunks(ZADD_BATCH) {
        let mut args = vec![bin(tmp.clone())];
        for s in chunk {
            args.push(bin(s.user_id.to_string()));
            args.push(bin(s.info()));
        }
        redis.execute("HSET", &args)?;
    }
    if standings.is_empty() {
        redis.del(std::slice::from_ref(&info))?;
        empty.push_str(&info);
        empty.push('|');
    } else {
        redis.execute("RENAME", &[bin(tmp), bin(info)])?;
    }
    redis.set(&marker_key(mode), empty.as_bytes())?;
    // Results that landed meanwhile may have written to boards the RENAMEs replaced.
    let touched = take_touched(redis, mode)?;
    if !touched.is_empty() {
        place(redis, mode, &standings_of(db, mode, &touched)?)?;
    }
    Ok(standings.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn higher_mmr_always_scores_higher() {
        assert!(score(1501, 999_999) > score(1500, 1));
        assert!(score(-3, 5) > score(-4, 1));
    }

    #[test]
    fn equal_mmr_puts_the_lower_user_id_first() {
        assert!(score(1500, 1) > score(1500, 2));
        assert!(score(1500, 2) > score(1500, 4_000_000));
    }

    #[test]
    fn mmr_round_trips_through_a_double() {
        for mmr in [-250, 0, 1, 1500, 1799, 2000, 4321, 100_000] {
            for user in [1, 2, 77, 123_456, (1 << 32) - 1] {
                let s = score(mmr, user);
                assert_eq!(s as f64 as i64, s, "score must be exact as f64");
                assert_eq!(mmr_from_score(s as f64), mmr);
            }
        }
    }

    #[test]
    fn keys_follow_the_documented_names() {
        assert_eq!(key("1v1", None), "lb:1v1");
        assert_eq!(key("2v2", Some("eu")), "lb:2v2:eu");
        assert_eq!(marker_key("4v4"), "lbmeta:4v4:built");
    }
}
