//! Leaderboard routes.

use serde_json::json;
use spin_sdk::http::Response;

use rh_app::leaderboard::{self, Ensured, Entry, Page};
use rh_app::matches;
use rh_infra::db::Db;
use rh_infra::http::{json, json_body, Req};
use rh_infra::redis::Redis;
use rh_infra::{auth, config, idempotency, AppError};

/// The optional `?region=` (422 if not configured) and the configured regions.
fn region_of(req: &Req) -> Result<(Option<String>, Vec<String>), AppError> {
    let regions = config::regions();
    let region = match req.query_param("region") {
        None => None,
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

/// Where a board is read from: Redis, or MySQL (the source of truth) while another
/// request rebuilds the boards, so no reader waits for a rebuild.
enum Boards {
    Redis,
    Mysql(Db),
}

/// Makes sure a mode's boards can be read. The hot path is one Redis round trip (a
/// page of one, discarded); MySQL is opened only when the boards are not trustworthy
/// (never built, or lost): then the mode is validated (422 if unknown; a marker only
/// ever exists for a real mode) and the boards rebuilt, or read from MySQL if another
/// request is rebuilding them.
fn boards(
    redis: &Redis,
    mode: &str,
    region: Option<&str>,
    regions: &[String],
) -> Result<(String, Boards), AppError> {
    let board = leaderboard::key(mode, region);
    if leaderboard::read_page(redis, mode, &board, 0, 0)?.is_some() {
        return Ok((mode.to_owned(), Boards::Redis));
    }
    let db = Db::open()?;
    let mode = matches::load_mode(&db, mode)?.name;
    let reading = [board, leaderboard::info_key(&mode)];
    match leaderboard::ensure_built(redis, &db, &mode, regions, &reading)? {
        Ensured::BeingRebuilt => Ok((mode, Boards::Mysql(db))),
        Ensured::AlreadyBuilt | Ensured::Rebuilt(_) => Ok((mode, Boards::Redis)),
    }
}

/// A page of a board: `offset` 0-based, best first.
fn read(
    redis: &Redis,
    mode: &str,
    region: Option<&str>,
    regions: &[String],
    offset: u64,
    limit: u64,
) -> Result<(u64, Vec<Entry>), AppError> {
    let board = leaderboard::key(mode, region);
    if let Some(page) = leaderboard::read_page(redis, mode, &board, offset, limit)? {
        return Ok(page);
    }
    match boards(redis, mode, region, regions)? {
        (mode, Boards::Mysql(db)) => Ok(leaderboard::page_from_db(
            &db, &mode, region, offset, limit,
        )?),
        (mode, Boards::Redis) => leaderboard::read_page(redis, &mode, &board, offset, limit)?
            // Lost again between the rebuild and this read (a flush): the next try rebuilds.
            .ok_or_else(|| AppError::Busy("the leaderboard is being rebuilt".into())),
    }
}

/// The page body: what the cache holds and the route answers.
fn page_body(
    mode: &str,
    region: Option<&str>,
    limit: u64,
    offset: u64,
    total: u64,
    entries: &[Entry],
) -> Result<String, AppError> {
    serde_json::to_string(&json!({
        "mode": mode,
        "region": region,
        "total": total,
        "limit": limit,
        "offset": offset,
        "entries": entries,
    }))
    .map_err(AppError::internal)
}

/// GET /api/v1/rankings/{mode}?region=&limit=&offset=. The hot path is one Redis round
/// trip that also checks the boards, answered from the page cache while the boards are
/// unchanged (`rh_app::leaderboard`, `# Keys`).
pub fn page(req: &Req) -> Result<Response, AppError> {
    let mode = req.param("mode").unwrap_or_default().to_owned();
    let (region, regions) = region_of(req)?;
    let limit = req.query_int("limit", 50, 1..=200)?;
    let offset = req.query_int("offset", 0, 0..=10_000_000)?;
    let redis = Redis::open()?;
    let board = leaderboard::key(&mode, region.as_deref());
    let cache = leaderboard::page_cache_key(&board, offset, limit);
    let cached = leaderboard::read_page_cached(&redis, &mode, &board, offset, limit, Some(&cache))?;
    let (total, entries) = match cached {
        Some(Page::Cached(body)) => return Ok(json_body(200, body)),
        Some(Page::Read {
            total,
            entries,
            generation,
        }) => {
            let body = page_body(&mode, region.as_deref(), limit, offset, total, &entries)?;
            if let Some(generation) = generation {
                leaderboard::fill_page(&redis, &cache, &generation, &body);
            }
            return Ok(json_body(200, body));
        }
        // Untrustworthy boards: rebuilt (or read from MySQL) as any read does.
        None => read(&redis, &mode, region.as_deref(), &regions, offset, limit)?,
    };
    let body = page_body(&mode, region.as_deref(), limit, offset, total, &entries)?;
    Ok(json_body(200, body))
}

/// GET /api/v1/rankings/{mode}/me?region= (Bearer): the caller with five players
/// above and five below.
pub fn me(req: &Req) -> Result<Response, AppError> {
    let redis = Redis::open()?;
    let user = auth::require_user(req, &redis)?;
    let mode = req.param("mode").unwrap_or_default().to_owned();
    let (region, regions) = region_of(req)?;
    let rank0 = match boards(&redis, &mode, region.as_deref(), &regions)? {
        (_, Boards::Redis) => {
            let board = leaderboard::key(&mode, region.as_deref());
            leaderboard::rank_of(&redis, &board, user.id)?
        }
        (mode, Boards::Mysql(db)) => {
            leaderboard::rank_from_db(&db, &mode, region.as_deref(), user.id)?
        }
    };
    let Some(rank0) = rank0 else {
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
    idempotency::serve_signed(req, &redis, None, |_| {
        let db = Db::open()?;
        let regions = config::regions();
        let mut rebuilt = Vec::new();
        for mode in matches::mode_names(&db)? {
            let players = leaderboard::rebuild(&redis, &db, &mode, &regions)?;
            rebuilt.push(json!({"mode": mode, "players": players}));
        }
        json(200, &json!({"rebuilt": rebuilt}))
    })
}
