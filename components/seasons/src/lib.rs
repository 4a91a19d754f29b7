//! `seasons`: ranked seasons.
//!
//! Public: the schedule (`GET /api/v1/seasons`, `/current`, `/{id}`), a past season's
//! final board (`GET /api/v1/seasons/{id}/rankings/{mode}`) and a player's season history
//! with their badges (`GET /api/v1/users/{id}/seasons`). Admin (Bearer token of an
//! admin): schedule, reschedule, end early and list under `/api/v1/admin/seasons`.
//! Server-signed: `POST /api/v1/seasons/tick`, one rollover tick as the `season-tick`
//! component runs it on every `matchmaking:tick`, with its batch options in the body.
//!
//! Everything that decides is in `rh_app::seasons`; handlers decode, call, encode.
//!
//! # Layout
//! - `lib.rs`: the route table and handlers (this file).

use serde::Deserialize;
use serde_json::json;
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

use rh_app::admin::require_admin;
use rh_app::seasons::{self, history, rollover, schedule};
use rh_infra::db::Db;
use rh_infra::http::{json, Req, Router};
use rh_infra::redis::Redis;
use rh_infra::{clock, config, idempotency, params, AppError};

#[http_component]
async fn route(req: IncomingRequest) -> Response {
    Router::new()
        .get("/api/v1/seasons", list)
        .get("/api/v1/seasons/current", current)
        .get("/api/v1/seasons/:id", one)
        .get("/api/v1/seasons/:id/rankings/:mode", board)
        .post("/api/v1/seasons/tick", tick)
        .get("/api/v1/users/:id/seasons", user_history)
        .get("/api/v1/admin/seasons", admin_list)
        .post("/api/v1/admin/seasons", create)
        .patch("/api/v1/admin/seasons/:id", reschedule)
        .post("/api/v1/admin/seasons/:id/end", end_early)
        .serve(req)
        .await
}

fn db() -> Result<Db, AppError> {
    Ok(Db::open()?)
}

/// `GET /api/v1/seasons`: every season, oldest first.
fn list(_req: &Req) -> Result<Response, AppError> {
    json(200, &json!({ "items": seasons::list(&db()?)? }))
}

/// `GET /api/v1/seasons/current`: the season results count for now.
fn current(_req: &Req) -> Result<Response, AppError> {
    json(200, &seasons::current(&db()?)?)
}

/// `GET /api/v1/seasons/{id}`.
fn one(req: &Req) -> Result<Response, AppError> {
    json(200, &seasons::get(&db()?, req.path_id("id", "season")?)?)
}

/// `GET /api/v1/seasons/{id}/rankings/{mode}?region=&limit=&offset=`: an ended season's
/// final standings (a region filter ranks within the region).
fn board(req: &Req) -> Result<Response, AppError> {
    let id = req.path_id("id", "season")?;
    let mode = req.param("mode").unwrap_or_default().to_owned();
    let region = match req.query_param("region") {
        None => None,
        Some(r) => {
            let r = r.to_ascii_lowercase();
            if !config::regions().contains(&r) {
                return Err(AppError::invalid_field(
                    "region",
                    format!("unknown region {r:?}"),
                ));
            }
            Some(r)
        }
    };
    let limit: u64 = req.query_int("limit", 50, 1..=200)?;
    let offset: u64 = req.query_int("offset", 0, 0..=10_000_000)?;
    let db = db()?;
    let known: Option<u64> =
        db.query_scalar("SELECT COUNT(*) FROM modes WHERE name = ?", &params![&mode])?;
    if known.unwrap_or(0) == 0 {
        return Err(AppError::NotFound(format!("unknown mode {mode:?}")));
    }
    let (total, entries) = history::board(&db, id, &mode, region.as_deref(), offset, limit)?;
    json(
        200,
        &json!({
            "season_id": id, "mode": mode, "region": region, "total": total,
            "limit": limit, "offset": offset, "entries": entries,
        }),
    )
}

/// `GET /api/v1/users/{id}/seasons`: the player's past seasons and season badges
/// (public, like the profile they belong to).
fn user_history(req: &Req) -> Result<Response, AppError> {
    let id = req.path_id("id", "user")?;
    let db = db()?;
    let exists: Option<u64> =
        db.query_scalar("SELECT COUNT(*) FROM users WHERE id = ?", &params![id])?;
    if exists.unwrap_or(0) == 0 {
        return Err(AppError::NotFound(format!("user {id} does not exist")));
    }
    json(
        200,
        &json!({
            "user_id": id,
            "items": history::user_history(&db, id)?,
            "badges": history::badges(&db, id)?,
        }),
    )
}

/// Opens MySQL and Redis and checks the caller is an admin.
fn admin_ctx(req: &Req) -> Result<(Db, Redis), AppError> {
    let db = db()?;
    let redis = Redis::open()?;
    require_admin(req, &db, &redis)?;
    Ok((db, redis))
}

/// `GET /api/v1/admin/seasons`: the schedule, as the public list shows it.
fn admin_list(req: &Req) -> Result<Response, AppError> {
    let (db, _) = admin_ctx(req)?;
    json(200, &json!({ "items": seasons::list(&db)? }))
}

/// `POST /api/v1/admin/seasons` → 201 with the season.
fn create(req: &Req) -> Result<Response, AppError> {
    let (db, redis) = admin_ctx(req)?;
    let body: schedule::CreateBody = req.json()?;
    json(201, &schedule::create(&db, &redis, body, clock::now_ms())?)
}

/// `PATCH /api/v1/admin/seasons/{id}`.
fn reschedule(req: &Req) -> Result<Response, AppError> {
    let (db, redis) = admin_ctx(req)?;
    let id = req.path_id("id", "season")?;
    let body: schedule::PatchBody = req.json()?;
    json(
        200,
        &schedule::reschedule(&db, &redis, id, body, clock::now_ms())?,
    )
}

/// `POST /api/v1/admin/seasons/{id}/end`: the season under way ends now; the next
/// tick rolls it over.
fn end_early(req: &Req) -> Result<Response, AppError> {
    let (db, redis) = admin_ctx(req)?;
    let id = req.path_id("id", "season")?;
    json(200, &schedule::end_early(&db, &redis, id, clock::now_ms())?)
}

/// `POST /api/v1/seasons/tick`'s optional body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TickBody {
    #[serde(default)]
    batch_size: Option<usize>,
    #[serde(default)]
    max_batches: Option<u32>,
    /// `false` skips the Redis lease, so racing ticks meet at the MySQL claim alone.
    #[serde(default)]
    use_lease: Option<bool>,
    /// Ignored: lets a caller make each call's signature unique (a repeated signature is
    /// answered as a replay).
    #[serde(default)]
    #[allow(dead_code)]
    request_id: Option<String>,
}

/// `POST /api/v1/seasons/tick` (server-signed): one rollover tick.
fn tick(req: &Req) -> Result<Response, AppError> {
    let redis = Redis::open()?;
    idempotency::serve_signed(req, &redis, None, |_| {
        let body: TickBody = if req.body.iter().all(u8::is_ascii_whitespace) {
            TickBody {
                batch_size: None,
                max_batches: None,
                use_lease: None,
                request_id: None,
            }
        } else {
            req.json()?
        };
        let mut options = rollover::Options::default();
        if let Some(n) = body.batch_size {
            if !(1..=5000).contains(&n) {
                return Err(AppError::invalid_field("batch_size", "must be 1 to 5000"));
            }
            options.batch_size = n;
        }
        options.max_batches = body.max_batches;
        options.use_lease = body.use_lease.unwrap_or(true);
        let outcome = rollover::tick(
            &db()?,
            &redis,
            &config::regions(),
            clock::now_ms(),
            &options,
        )?;
        json(200, &outcome)
    })
}
