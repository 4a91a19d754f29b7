//! Rebuilding a mode's boards from MySQL, under a lock so one request does it at a time.
//!
//! Nobody waits for a rebuild: a read that finds the boards untrustworthy while another
//! request holds the lock is answered from MySQL ([`super::read::page_from_db`]), and
//! an explicit rebuild that finds one running answers [`LbError::Busy`] (a 503 with
//! `Retry-After`), since the running one ends with boards equal to MySQL anyway.

use rh_infra::db::Db;
use rh_infra::params;
use rh_infra::redis::{Arg, Redis, Script};

use super::place::{place, remove};
use super::{
    generation_key, info_key, key, lock_key, marker_key, score, touched_key, version_key, LbError,
    Standing, STANDINGS_SELECT,
};

/// Rows read from MySQL per page while rebuilding (the host caps result sizes).
const REBUILD_PAGE: u64 = 5000;
/// Members per ZADD / HSET while rebuilding.
const WRITE_BATCH: usize = 1000;
/// Rebuild lock lifetime: long enough for a large board, short enough that a crashed
/// rebuilder does not block the next one for long.
pub(super) const LOCK_TTL_MS: i64 = 60_000;

/// True when the marker is there and every board in `KEYS[2..]` exists or was empty.
const CHECK: Script = Script::new(
    "leaderboard.check",
    r"
local m = redis.call('GET', KEYS[1])
if not m then return 0 end
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 and not string.find(m, '|' .. KEYS[i] .. '|', 1, true) then
    return 0
  end
end
return 1
",
);

/// The players recorded in the touched set, which is emptied in the same step.
const TAKE_TOUCHED: Script = Script::new(
    "leaderboard.take_touched",
    "local m = redis.call('SMEMBERS', KEYS[1]) redis.call('DEL', KEYS[1]) return m",
);

/// What [`ensure_built`] found or did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ensured {
    /// The boards were trustworthy.
    AlreadyBuilt,
    /// This call rebuilt the boards (with this many players).
    Rebuilt(usize),
    /// Another request is rebuilding them now: read MySQL meanwhile.
    BeingRebuilt,
}

fn trustworthy(redis: &Redis, mode: &str, reading: &[String]) -> Result<bool, LbError> {
    let mut keys: Vec<&str> = vec![];
    let marker = marker_key(mode);
    keys.push(&marker);
    keys.extend(reading.iter().map(String::as_str));
    Ok(redis.eval(&CHECK, &keys, &[])?.int() == Some(1))
}

/// Makes sure a mode's boards are trustworthy before reading the boards `reading`:
/// if they are not, rebuilds them from MySQL under the lock, unless another request
/// holds it ([`Ensured::BeingRebuilt`]).
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
    match redis.try_lock(&lock_key(mode), LOCK_TTL_MS)? {
        Some(lock) => {
            let outcome = rebuild_locked(redis, db, mode, regions);
            // Released even on failure, so the next read retries instead of waiting out
            // the TTL.
            let _ = lock.release(redis);
            outcome.map(Ensured::Rebuilt)
        }
        None => Ok(Ensured::BeingRebuilt),
    }
}

/// Rebuilds a mode's boards from MySQL now (the admin routes), under the lock;
/// [`LbError::Busy`] when another rebuild holds it.
pub fn rebuild(redis: &Redis, db: &Db, mode: &str, regions: &[String]) -> Result<usize, LbError> {
    let Some(lock) = redis.try_lock(&lock_key(mode), LOCK_TTL_MS)? else {
        return Err(LbError::Busy(mode.to_owned()));
    };
    let outcome = rebuild_locked(redis, db, mode, regions);
    let _ = lock.release(redis);
    outcome
}

/// The standings of `user_ids` in a mode as MySQL has them now (players without a
/// ranked game or banned are left out, as in [`standings_from_db`]).
fn standings_of(db: &Db, mode: &str, user_ids: &[u64]) -> Result<Vec<Standing>, LbError> {
    let mut all = Vec::with_capacity(user_ids.len());
    for chunk in user_ids.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let mut params = vec![rh_infra::db::IntoParam::into_param(mode)];
        params.extend(
            chunk
                .iter()
                .map(|&id| rh_infra::db::IntoParam::into_param(id)),
        );
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
    let reply = redis.eval(&TAKE_TOUCHED, &[&touched_key(mode)], &[])?;
    Ok(reply
        .strings()
        .iter()
        .filter_map(|s| s.parse().ok())
        .collect())
}

/// Every ranked player of a mode, read from MySQL in keyset pages.
pub fn standings_from_db(db: &Db, mode: &str) -> Result<Vec<Standing>, LbError> {
    let mut all = Vec::new();
    let mut after: u64 = 0;
    loop {
        let rows = db.query(
            &format!("{STANDINGS_SELECT} AND us.user_id > ? ORDER BY us.user_id LIMIT ?"),
            &params![mode, after, REBUILD_PAGE],
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

/// Writes `pairs` into the hash or sorted set `key` with `command`, a batch at a time.
fn write_batched(
    redis: &Redis,
    command: &str,
    key: &str,
    pairs: &[(String, String)],
) -> Result<(), LbError> {
    for chunk in pairs.chunks(WRITE_BATCH) {
        let mut args = Vec::with_capacity(1 + chunk.len() * 2);
        args.push(Arg::Str(key));
        for (a, b) in chunk {
            args.push(Arg::Str(a));
            args.push(Arg::Str(b));
        }
        redis.execute(command, &args)?;
    }
    Ok(())
}

/// Builds `live` under a temporary key and renames it over the live one, so readers
/// never see it half-built; an empty board is deleted and recorded in `empty`
/// (`|key|key|`), which becomes the marker's value.
fn replace(
    redis: &Redis,
    command: &str,
    live: &str,
    pairs: &[(String, String)],
    empty: &mut String,
) -> Result<(), LbError> {
    let tmp = format!("lbtmp:{live}");
    redis.del(&[&tmp])?;
    write_batched(redis, command, &tmp, pairs)?;
    if pairs.is_empty() {
        redis.del(&[live])?;
        empty.push_str(live);
        empty.push('|');
    } else {
        redis.execute("RENAME", &[Arg::Str(&tmp), Arg::Str(live)])?;
    }
    Ok(())
}

fn rebuild_locked(
    redis: &Redis,
    db: &Db,
    mode: &str,
    regions: &[String],
) -> Result<usize, LbError> {
    // Placements from here on are recorded (the lock is held) and placed again below.
    redis.del(&[&touched_key(mode)])?;
    let standings = standings_from_db(db, mode)?;

    // Group into the global board and each regional board.
    let mut boards: Vec<(String, Vec<(String, String)>)> = vec![(key(mode, None), Vec::new())];
    for r in regions {
        boards.push((key(mode, Some(r)), Vec::new()));
    }
    for s in &standings {
        let member = (score(s.mmr, s.user_id).to_string(), s.user_id.to_string());
        let regional = key(mode, Some(&s.region));
        match boards.iter_mut().find(|(k, _)| *k == regional) {
            Some((_, members)) => members.push(member.clone()),
            None => boards.push((regional, vec![member.clone()])),
        }
        boards[0].1.push(member);
    }
    let mut empty = String::from("|");
    for (live, members) in &boards {
        replace(redis, "ZADD", live, members, &mut empty)?;
    }
    let info: Vec<(String, String)> = standings
        .iter()
        .map(|s| (s.user_id.to_string(), s.info()))
        .collect();
    replace(redis, "HSET", &info_key(mode), &info, &mut empty)?;
    let versions: Vec<(String, String)> = standings
        .iter()
        .map(|s| (s.user_id.to_string(), s.version.to_string()))
        .collect();
    // Not a board: its absence is no sign of loss, so it stays out of the marker.
    let mut versions_empty = String::new();
    replace(
        redis,
        "HSET",
        &version_key(mode),
        &versions,
        &mut versions_empty,
    )?;
    redis.set(&marker_key(mode), empty.as_bytes())?;
    // The boards are live: pages cached before are stale. A random start, so a
    // generation lost with its pages' tags still around can never match one of them.
    let start = u64::from_le_bytes(rh_infra::ids::random_bytes::<8>()) >> 4;
    redis.set(&generation_key(mode), start.to_string().as_bytes())?;
    // Results, bans and renames that landed meanwhile may have written to boards the
    // RENAMEs replaced: place those players again as MySQL has them now, and take off
    // those no longer ranked (banned while the rebuild read).
    let touched = take_touched(redis, mode)?;
    if !touched.is_empty() {
        let now = standings_of(db, mode, &touched)?;
        place(redis, mode, &now)?;
        for gone in touched
            .iter()
            .filter(|id| !now.iter().any(|s| s.user_id == **id))
        {
            remove(redis, mode, regions, *gone)?;
        }
    }
    Ok(standings.len())
}
