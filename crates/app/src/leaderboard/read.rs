//! Reading the boards: a page or a rank from Redis in one round trip, and the same
//! answers from MySQL for the moments when the boards are being rebuilt.

use rh_infra::db::Db;
use rh_infra::params;
use rh_infra::redis::{reply_int, reply_string, Arg, Redis, Script};

use super::{
    generation_key, info_key, marker_key, mmr_from_score, Entry, LbError, STANDINGS_SELECT,
};

/// Checks the boards, then answers a page in one round trip: `{0}` when the boards are
/// untrustworthy; `{2, body}` when `KEYS[5]` (a page cache, optional) holds a body tagged
/// with the mode's current generation `KEYS[4]`; else
/// `{1, total, generation, member, score, info, member, score, info, ...}`.
const READ_PAGE: Script = Script::new(
    "leaderboard.read_page",
    r"
local m = redis.call('GET', KEYS[1])
if not m then return {0} end
for i = 2, 3 do
  if redis.call('EXISTS', KEYS[i]) == 0 and not string.find(m, '|' .. KEYS[i] .. '|', 1, true) then
    return {0}
  end
end
local g = redis.call('GET', KEYS[4])
if g and KEYS[5] then
  local c = redis.call('GET', KEYS[5])
  if c and string.sub(c, 1, #g + 1) == g .. '|' then return {2, string.sub(c, #g + 2)} end
end
local out = {1, redis.call('ZCARD', KEYS[2]), g or ''}
if tonumber(ARGV[2]) >= tonumber(ARGV[1]) then
  local r = redis.call('ZREVRANGE', KEYS[2], ARGV[1], ARGV[2], 'WITHSCORES')
  for i = 1, #r, 2 do
    out[#out + 1] = r[i]
    out[#out + 1] = r[i + 1]
    out[#out + 1] = redis.call('HGET', KEYS[3], r[i]) or ''
  end
end
return out
",
);

/// A page as [`read_page_cached`] found it.
#[derive(Debug)]
pub enum Page {
    /// The cached response body, still current.
    Cached(String),
    /// `(total, entries)` read from the boards, and the generation they were read at
    /// (what [`fill_page`] tags the rendered body with; `None`: do not cache).
    Read {
        total: u64,
        entries: Vec<Entry>,
        generation: Option<String>,
    },
}

/// A page of `board` (offset 0-based) with details, or `None` when the boards of
/// `mode` must be rebuilt first ([`super::ensure_built`]). Redis only, one round trip.
pub fn read_page(
    redis: &Redis,
    mode: &str,
    board: &str,
    offset: u64,
    limit: u64,
) -> Result<Option<(u64, Vec<Entry>)>, LbError> {
    Ok(
        match read_page_cached(redis, mode, board, offset, limit, None)? {
            Some(Page::Read { total, entries, .. }) => Some((total, entries)),
            // Not asked for a cached body, so never given one.
            Some(Page::Cached(_)) | None => None,
        },
    )
}

/// [`read_page`], answered from the page cache `cache` ([`page_cache_key`]) when it holds
/// a body rendered since the boards last changed ([`super::generation_key`]).
pub fn read_page_cached(
    redis: &Redis,
    mode: &str,
    board: &str,
    offset: u64,
    limit: u64,
    cache: Option<&str>,
) -> Result<Option<Page>, LbError> {
    let mut keys = vec![
        marker_key(mode),
        board.to_owned(),
        info_key(mode),
        generation_key(mode),
    ];
    keys.extend(cache.map(str::to_owned));
    let reply = redis.eval(
        &READ_PAGE,
        &keys,
        &[
            Arg::Int(offset as i64),
            Arg::Int(offset as i64 + limit as i64 - 1),
        ],
    )?;
    let out = reply.values();
    match reply.int() {
        Some(1) => {}
        Some(2) => return Ok(out.get(1).and_then(reply_string).map(Page::Cached)),
        _ => return Ok(None),
    }
    let total = out.get(1).and_then(reply_int).unwrap_or(0).max(0) as u64;
    let generation = out.get(2).and_then(reply_string).filter(|g| !g.is_empty());
    let rows = out.get(3..).unwrap_or_default();
    let mut entries = Vec::with_capacity(rows.len() / 3);
    for (i, row) in rows.chunks_exact(3).enumerate() {
        let user_id = reply_string(&row[0]).and_then(|s| s.parse::<u64>().ok());
        let score = reply_string(&row[1]).and_then(|s| s.parse::<f64>().ok());
        let (Some(user_id), Some(score)) = (user_id, score) else {
            continue;
        };
        let (username, wins, losses) = reply_string(&row[2])
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
    Ok(Some(Page::Read {
        total,
        entries,
        generation,
    }))
}

/// Where a rendered page of `board` is cached.
pub fn page_cache_key(board: &str, offset: u64, limit: u64) -> String {
    format!("lbpage:{board}:{offset}:{limit}")
}

/// How long a cached page lives (a bound on memory; freshness comes from the tag).
pub const PAGE_TTL_S: i64 = 30;

/// Caches `body` under `cache`, tagged with the generation its page was read at. A
/// writer that moved the generation on since makes the tag stale, so the body is never
/// served. Best effort.
pub fn fill_page(redis: &Redis, cache: &str, generation: &str, body: &str) {
    let tagged = format!("{generation}|{body}");
    if let Err(e) = redis.set_ex(cache, &tagged, PAGE_TTL_S) {
        rh_infra::log_warn!("leaderboard page cache fill: {e}");
    }
}

/// 0-based ranks of players on `KEYS[1]`, `-1` for a player not on it.
const RANKS_OF: Script = Script::new(
    "leaderboard.ranks_of",
    r"
local out = {}
for i = 1, #ARGV do out[i] = redis.call('ZREVRANK', KEYS[1], ARGV[i]) or -1 end
return out
",
);

/// [`rank_of`] for several players in one round trip, in their order.
pub fn ranks_of(redis: &Redis, key: &str, users: &[u64]) -> Result<Vec<Option<u64>>, LbError> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let args: Vec<Arg<'_>> = users.iter().map(|u| Arg::Uint(*u)).collect();
    let reply = redis.eval(&RANKS_OF, &[key], &args)?;
    let mut ranks: Vec<Option<u64>> = reply
        .values()
        .iter()
        .map(|v| reply_int(v).filter(|r| *r >= 0).map(|r| r as u64))
        .collect();
    ranks.resize(users.len(), None);
    Ok(ranks)
}

/// 0-based rank of a player (best = 0), `None` when not on the board.
pub fn rank_of(redis: &Redis, key: &str, user_id: u64) -> Result<Option<u64>, LbError> {
    let reply = redis.execute("ZREVRANK", &[Arg::Str(key), Arg::Uint(user_id)])?;
    Ok(reply.int().map(|r| r as u64))
}

/// `AND u.region = ?` when reading a regional board.
fn region_filter(region: Option<&str>) -> &'static str {
    if region.is_some() {
        " AND u.region = ?"
    } else {
        ""
    }
}

/// What [`read_page`] answers, read from MySQL: the ranked players of `mode` (in
/// `region`, if given) in board order (mmr descending, then the older account first,
/// as the score orders them). Used while another request rebuilds the boards, so a
/// reader never waits for the rebuild (the `user_stats_ranking_idx` index serves it).
pub fn page_from_db(
    db: &Db,
    mode: &str,
    region: Option<&str>,
    offset: u64,
    limit: u64,
) -> Result<(u64, Vec<Entry>), LbError> {
    let filter = region_filter(region);
    let count_sql = format!("SELECT COUNT(*) AS n FROM ({STANDINGS_SELECT}{filter}) ranked",);
    let page_sql =
        format!("{STANDINGS_SELECT}{filter} ORDER BY us.mmr DESC, us.user_id ASC LIMIT ? OFFSET ?");
    let (total, rows) = match region {
        Some(r) => (
            db.query_scalar::<u64>(&count_sql, &params![mode, r])?,
            db.query(&page_sql, &params![mode, r, limit, offset])?,
        ),
        None => (
            db.query_scalar::<u64>(&count_sql, &params![mode])?,
            db.query(&page_sql, &params![mode, limit, offset])?,
        ),
    };
    let mut entries = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let s = super::Standing::from_row(row)?;
        entries.push(Entry {
            rank: offset + i as u64 + 1,
            user_id: s.user_id,
            username: s.username,
            mmr: s.mmr,
            wins: s.wins,
            losses: s.losses,
        });
    }
    Ok((total.unwrap_or(0), entries))
}

/// What [`rank_of`] answers, read from MySQL (see [`page_from_db`]): the number of
/// ranked players ahead of `user_id`, or `None` when they are not ranked there.
pub fn rank_from_db(
    db: &Db,
    mode: &str,
    region: Option<&str>,
    user_id: u64,
) -> Result<Option<u64>, LbError> {
    let filter = region_filter(region);
    let mine_sql = format!("{STANDINGS_SELECT}{filter} AND us.user_id = ?");
    let mine = match region {
        Some(r) => db.query(&mine_sql, &params![mode, r, user_id])?,
        None => db.query(&mine_sql, &params![mode, user_id])?,
    };
    let Some(row) = mine.first() else {
        return Ok(None);
    };
    let mmr: i64 = row.get("mmr")?;
    let ahead_sql = format!(
        "SELECT COUNT(*) AS n FROM ({STANDINGS_SELECT}{filter} \
         AND (us.mmr > ? OR (us.mmr = ? AND us.user_id < ?))) ahead"
    );
    let ahead = match region {
        Some(r) => db.query_scalar::<u64>(&ahead_sql, &params![mode, r, mmr, mmr, user_id])?,
        None => db.query_scalar::<u64>(&ahead_sql, &params![mode, mmr, mmr, user_id])?,
    };
    Ok(Some(ahead.unwrap_or(0)))
}
