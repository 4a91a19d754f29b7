//! Feed, achievements and notifications routes.

use serde_json::json;
use spin_sdk::http::Response;

use rh_app::matches::inbox;
use rh_infra::db::Db;
use rh_infra::http::{json, no_content, Req};
use rh_infra::redis::Redis;
use rh_infra::{auth, clock, AppError};

/// GET /api/v1/feed?limit=
pub fn feed(req: &Req) -> Result<Response, AppError> {
    let limit = req.query_int("limit", 20, 1..=100)?;
    let db = Db::open()?;
    let events = inbox::feed(&db, limit, clock::now_ms())?;
    json(200, &json!({"events": events}))
}

/// GET /api/v1/users/{id}/achievements
pub fn achievements(req: &Req) -> Result<Response, AppError> {
    let user_id = req.path_id("id", "id")?;
    let db = Db::open()?;
    let unlocked = inbox::achievements(&db, user_id)?;
    json(200, &json!({"user_id": user_id, "achievements": unlocked}))
}

/// GET /api/v1/notifications?limit=&before= (Bearer)
pub fn notifications(req: &Req) -> Result<Response, AppError> {
    let redis = Redis::open()?;
    let user = auth::require_user(req, &redis)?;
    let limit = req.query_int("limit", 20, 1..=100)?;
    let before = req.query_parsed("before", "must be a notification id")?;
    let db = Db::open()?;
    json(200, &inbox::notifications(&db, user.id, before, limit)?)
}

/// POST /api/v1/notifications/{id}/read (Bearer): 204; someone else's → 404.
pub fn mark_read(req: &Req) -> Result<Response, AppError> {
    let redis = Redis::open()?;
    let user = auth::require_user(req, &redis)?;
    let id = req.path_id("id", "id")?;
    let db = Db::open()?;
    inbox::mark_read(&db, user.id, id, clock::now_ms())?;
    Ok(no_content())
}
