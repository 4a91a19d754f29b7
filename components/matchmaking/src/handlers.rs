//! One function per route: decode, authenticate, call `rh_app::queue`, encode.

use spin_sdk::http::Response;

use rh_app::queue::{self, JoinRequest, TickOptions};
use rh_infra::auth::require_user;
use rh_infra::db::Db;
use rh_infra::http::{json, no_content, Req};
use rh_infra::idempotency;
use rh_infra::redis::Redis;
use rh_infra::{clock, config, AppError};

fn db() -> Result<Db, AppError> {
    Ok(Db::open()?)
}

fn now_ms() -> u64 {
    clock::now_ms().max(0) as u64
}

/// `POST /api/v1/matchmaking/queue` → 202 with the ticket.
pub fn join(req: &Req) -> Result<Response, AppError> {
    let redis = Redis::open()?;
    let user = require_user(req, &redis)?;
    let body: JoinRequest = req.json()?;
    let joined = queue::join(&db()?, &redis, &config::regions(), user.id, &body, now_ms())?;
    json(202, &joined)
}

/// `DELETE /api/v1/matchmaking/queue` → 204; 409 once the match has formed.
pub fn leave(req: &Req) -> Result<Response, AppError> {
    let redis = Redis::open()?;
    let user = require_user(req, &redis)?;
    queue::leave(&redis, user.id)?;
    Ok(no_content())
}

/// `GET /api/v1/matchmaking/queue` → 200 with the caller's state.
pub fn status(req: &Req) -> Result<Response, AppError> {
    let redis = Redis::open()?;
    let user = require_user(req, &redis)?;
    let status = queue::status(&db()?, &redis, user.id, now_ms())?;
    json(200, &status)
}

/// `GET /api/v1/matchmaking/queues` → 200 with every queue's size (public).
pub fn overview(_req: &Req) -> Result<Response, AppError> {
    let redis = Redis::open()?;
    let overview = queue::overview::overview(&db()?, &redis, &config::regions(), now_ms() as i64)?;
    json(200, &overview)
}

/// `POST /api/v1/matchmaking/tick` (server-signed) → 200 with the tick's outcome.
/// An empty body runs the tick as the trigger does.
pub fn tick(req: &Req) -> Result<Response, AppError> {
    let redis = Redis::open()?;
    idempotency::serve_signed(req, &redis, None, |_| {
        let opts: TickOptions = if req.body.iter().all(u8::is_ascii_whitespace) {
            TickOptions::default()
        } else {
            req.json()?
        };
        let outcome = queue::run_tick(&db()?, &redis, &config::regions(), now_ms(), &opts)?;
        json(200, &outcome)
    })
}
