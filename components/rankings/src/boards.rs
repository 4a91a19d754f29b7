//! Leaderboard routes.

use serde::Serialize;
use serde_json::json;
use spin_sdk::http::Response;
use spin_sdk::mysql::ParameterValue;

use rh_app::db::Db;
use rh_app::http::{json, Req};
use rh_app::leaderboard::{self, Ranked};
use rh_app::matches;
use rh_app::redis::Redis;
use rh_app::{auth, config, server_sig, AppError};

/// One leaderboard row as answered.
#[derive(Debug, Serialize)]
struct Entry {
    rank: u64,
    user_id: u64,
    username: String,
    mmr: i64,
    wins: u32,
    losses: u32,
}

/// `?name=` as an integer within `range`, `default` when absent; otherwise 422.
fn int_param(
    req: &Req,
    name: &str,
    default: u64,
    range: std::ops::RangeInclusive<u64>,
) -> Result<u64, AppError> {
    match req.query_param(name) {
        None => Ok(default),
        Some(raw) => match raw.parse::<u64>() {
            Ok(n) if range.contains(&n) => Ok(n),
            _ => Err(AppError::invalid_field(
                name,
                format!(
                    "must be an integer from {} to {}",
                    range.start(),
                    range.end()
                ),
            )),
        },
    }
}

/// The mode (422 if unknown) and the optional region (422 if not configured).
fn board_of(req: &Req, db: &Db) -> Result<(String, Option<String>, Vec<String>), AppError> {
    let mode = req.param("mode").unwrap_or_default();
    let mode = matches::load_mode(db, mode)?.name;
    let regions = config::regions();
    let region = match req.query_param("region") {
        None => None,
        Some(r) if r.is_empty() => None,
        Some(r) => {
            let r = r.to_ascii_lowercase();
            if !regions.contains(&r) {
                return Err(AppError::invalid_field(
                    "region",
                    format!("unknown region {r:?}"),
                ));
            }
            Some(r)
        }
    };
    Ok((mode, region, regions))
}

/// Usernames and win/loss counts for a page, joined from MySQL in one query.
fn with_details(db: &Db, mode: &str, ranked: Vec<Ranked>) -> Result<Vec<Entry>, AppError> {
    if ranked.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT u.id, u.username, us.wins, us.losses FROM users u \
         JOIN user_stats us ON us.user_id = u.id AND us.mode = ? WHERE u.id IN ({})",
        vec!["?"; ranked.len()].join(", ")
    );
    let mut params = vec![ParameterValue::Str(mode.to_string())];
    params.extend(ranked.iter().map(|r| ParameterValue::Uint64(r.user_id)));
    let rows = db.query(&sql, &params)?;
    let mut details = Vec::with_capacity(rows.len());
    for r in rows.iter() {
        details.push((
            r.get::<u64>("id")?,
            r.get::<String>("username")?,
            r.get::<u32>("wins")?,
            r.get::<u32>("losses")?,
        ));
    }
    Ok(ranked
        .into_iter()
        .map(|r| {
            let d = details.iter().find(|d| d.0 == r.user_id);
            Entry {
                rank: r.rank,
                user_id: r.user_id,
                username: d.map(|d| d.1.clone()).unwrap_or_default(),
                mmr: r.mmr,
                wins: d.map(|d| d.2).unwrap_or_default(),
                losses: d.map(|d| d.3).unwrap_or_default(),
            }
        })
        .collect())
}

/// GET /api/v1/rankings/{mode}?region=&limit=&offset=
pub fn page(req: &Req) -> Result<Response, AppError> {
    let db = Db::open()?;
    let (mode, region, regions) = board_of(req, &db)?;
    let limit = int_param(req, "limit", 50, 1..=200)?;
    let offset = int_param(req, "offset", 0, 0..=10_000_000)?;
    let redis = Redis::open()?;
    let key = leaderboard::key(&mode, region.as_deref());
    leaderboard::ensure_built(
        redis.conn(),
        &db,
        &mode,
        &regions,
        std::slice::from_ref(&key),
    )?;
    let total = leaderboard::total(redis.conn(), &key)?;
    let ranked = leaderboard::page(redis.conn(), &key, offset, limit)?;
    let entries = with_details(&db, &mode, ranked)?;
    json(
        200,
        &json!({
            "mode": mode,
            "region": region,
            "total": total,
            "limit": limit,
            "offset": offset,
            "entries": entries,
        }),
    )
}

/// GET /api/v1/rankings/{mode}/me?region= (Bearer): the caller with five players
/// above and five below.
pub fn me(req: &Req) -> Result<Response, AppError> {
    let redis = Redis::open()?;
    let user = auth::require_user(req, &redis)?;
    let db = Db::open()?;
    let (mode, region, regions) = board_of(req, &db)?;
    let key = leaderboard::key(&mode, region.as_deref());
    leaderboard::ensure_built(
        redis.conn(),
        &db,
        &mode,
        &regions,
        std::slice::from_ref(&key),
    )?;
    let Some(rank0) = leaderboard::rank_of(redis.conn(), &key, user.id)? else {
        return Err(AppError::NotFound(format!(
            "you have no completed match in {mode} yet"
        )));
    };
    let start = rank0.saturating_sub(5);
    let window = leaderboard::page(redis.conn(), &key, start, rank0 - start + 6)?;
    let total = leaderboard::total(redis.conn(), &key)?;
    let entries = with_details(&db, &mode, window)?;
    let (mut above, mut me, mut below) = (Vec::new(), None, Vec::new());
    for e in entries {
        match e.rank.cmp(&(rank0 + 1)) {
            std::cmp::Ordering::Less => above.push(e),
            std::cmp::Ordering::Equal => me = Some(e),
            std::cmp::Ordering::Greater => below.push(e),
        }
    }
    let me = me.ok_or_else(|| AppError::internal("caller missing from its own window"))?;
    json(
        200,
        &json!({
            "mode": mode,
            "region": region,
            "total": total,
            "user_id": me.user_id,
            "rank": me.rank,
            "mmr": me.mmr,
            "wins": me.wins,
            "losses": me.losses,
            "above": above,
            "below": below,
        }),
    )
}

/// POST /api/v1/admin/leaderboards/rebuild (server): rebuilds every mode's boards.
pub fn rebuild(req: &Req) -> Result<Response, AppError> {
    let redis = Redis::open()?;
    server_sig::require_server(req, &redis)?;
    let db = Db::open()?;
    let regions = config::regions();
    let mut rebuilt = Vec::new();
    for mode in matches::mode_names(&db)? {
        let players = leaderboard::rebuild(redis.conn(), &db, &mode, &regions)?;
        rebuilt.push(json!({"mode": mode, "players": players}));
    }
    json(200, &json!({"rebuilt": rebuilt}))
}
