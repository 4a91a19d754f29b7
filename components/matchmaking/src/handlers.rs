//! One function per route: decode, authenticate, call `rh_app::queue`, encode.

use spin_sdk::http::Response;

use rh_app::auth::require_user;
use rh_app::db::Db;
use rh_app::http::{json, no_content, Req};
use rh_app::queue::{self, JoinRequest, TickOptions};
use rh_app::redis::Redis;
use rh_app::server_sig::{self, SigError};
use rh_app::{clock, config, AppError};

fn db() -> Result<Db, AppError> {
    Db::open()
}

fn now_ms() -> u64 {
    clock::now_ms().max(0) as u64
}

/// `POST /api/v1/matchmaking/queue` → 202 with the ticket.
pub fn join(req: &Req) -> Result<Response, AppError> {
    let redis = Redis::open()?;
    let user = require_user(req, &redis)?;
    let body: JoinRequest = req.json()?;
    let joined = queue::join(
        &db()?,
        redis.conn(),
        &config::regions(),
        user.id,
        &body,
        now_ms(),
    )?;
    json(202, &joined)
}

/// `DELETE /api/v1/matchmaking/queue` → 204; 409 once the match has formed.
pub fn leave(req: &Req) -> Result<Response, AppError> {
    let redis = Redis::open()?;
    let user = require_user(req, &redis)?;
    queue::leave(redis.conn(), user.id)?;
    Ok(no_content())
}

/// `GET /api/v1/matchmaking/queue` → 200 with the caller's state.
pub fn status(req: &Req) -> Result<Response, AppError> {
    let redis = Redis::open()?;
    let user = require_user(req, &redis)?;
    let status = queue::status(&db()?, redis.conn(), user.id, now_ms())?;
    json(200, &status)
}

/// `GET /api/v1/matchmaking/queues` → 200 with every queue's size (public).
pub fn overview(_req: &Req) -> Result<Response, AppError> {
    let redis = Redis::open()?;
    let overview =
        queue::overview::overview(&db()?, redis.conn(), &config::regions(), now_ms() as i64)?;
    json(200, &overview)
}

/// `POST /api/v1/matchmaking/tick` (server-signed) → 200 with the tick's outcome.
/// An empty body runs the tick as the trigger does.
pub fn tick(req: &Req) -> Result<Response, AppError> {
    let redis = Redis::open()?;
    let key = config::get("game_server_key")?;
    verify_server(req, key.as_bytes(), &redis)?;
    let opts: TickOptions = if req.body.iter().all(u8::is_ascii_whitespace) {
        TickOptions::default()
    } else {
        req.json()?
    };
    let outcome = queue::run_tick(&db()?, redis.conn(), &config::regions(), now_ms(), &opts)?;
    json(200, &outcome)
}

/// The game-server signature (see `rh_app::server_sig`), then its one-time use: the
/// accepted signature is remembered for the validity window so it cannot be replayed.
fn verify_server(req: &Req, key: &[u8], redis: &Redis) -> Result<(), AppError> {
    let refused = |e: SigError| AppError::InvalidToken(e.to_string());
    let signature = req.header(server_sig::SIGNATURE_HEADER);
    server_sig::verify(
        key,
        req.header(server_sig::TIMESTAMP_HEADER),
        signature,
        &req.method.to_string(),
        &req.path,
        &req.body,
        clock::now_unix(),
    )
    .map_err(refused)?;
    let window_ms = (server_sig::MAX_AGE_S + server_sig::MAX_FUTURE_SKEW_S) * 1000;
    let fresh = redis.set_nx_px(
        &server_sig::replay_key(signature.unwrap_or_default()),
        "1",
        window_ms,
    )?;
    if !fresh {
        return Err(refused(SigError::Replayed));
    }
    Ok(())
}
