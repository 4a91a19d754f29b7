//! Leaderboard routes.

use serde_json::json;
use spin_sdk::http::Response;

use rh_app::leaderboard::{self, Entry};
use rh_app::matches;
use rh_infra::db::Db;
use rh_infra::http::{json, Req};
use rh_infra::redis::Redis;
use rh_infra::{auth, config, server_sig, AppError};

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

/// The optional `?region=` (422 if not configured) and the configured regions.
fn region_of(req: &Req) -> Result<(Option<String>, Vec<String>), AppError> {
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
    Ok((region, regions))
}

/// A page of a board. The hot path is one Redis round trip; MySQL is opened only when
/// the boards are not trustworthy (never built, or lost): then the mode is validated
/// (422 if unknown; a marker only ever exists for a real mode) and the boards rebuilt.
fn read(
    redis: &Redis,
    mode: &str,
    region: Option<&str>,
    regions: &[String],
    offset: u64,
    limit: u64,
) -> Result<(u64, Vec<Entry>), AppError> {
    let board = leaderboard::key(mode, region);
    if let Some(page) = leaderboard::read_page(redis.conn(), mode, &board, offset, limit)? {
        return Ok(page);
    }
    let db = Db::open()?;
    let mode = matches::load_mode(&db, mode)?.name;
    let reading = [board.clone(), leaderboard::info_key(&mode)];
    leaderboard::ensure_built(redis.conn(), &db, &mode, regions, &reading)?;
    leaderboard::read_page(redis.conn(), &mode, &board, offset, limit)?
        .ok_or_else(|| AppError::Unavailable("leaderboard is being rebuilt".into()))
}

/// GET /api/v1/rankings/{mode}?region=&limit=&offset=
pub fn page(req: &Req) -> Result<Response, AppError> {
    let mode = req.param("mode").unwrap_or_default().to_owned();
    let (region, regions) = region_of(req)?;
    let limit = int_param(req, "limit", 50, 1..=200)?;
    let offset = int_param(req, "offset", 0, 0..=10_000_000)?;
    let redis = Redis::open()?;
    let (total, entries) = read(&redis, &mode, region.as_deref(), &regions, offset, limit)?;
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
    let mode = req.param("mode").unwrap_or_default().to_owned();
    let (region, regions) = region_of(req)?;
    // Reading one entry first makes sure the boards are trustworthy (and the mode real).
    read(&redis, &mode, region.as_deref(), &regions, 0, 1)?;
    let board = leaderboard::key(&mode, region.as_deref());
    let Some(rank0) = leaderboard::rank_of(redis.conn(), &board, user.id)? else {
        return Err(AppError::NotFound(format!(
            "you have no completed match in {mode} yet"
        )));
    };
    let start = rank0.saturating_sub(5);
    let (total, entries) = read(
        &redis,
        &mode,
        region.as_deref(),
        &regions,
        start,
        rank0 - start + 6,
    )?;
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
