//! The caller's own audit trail.

use spin_sdk::http::Response;

use rh_app::teams::activity;
use rh_infra::db::Db;
use rh_infra::http::{json, Req};
use rh_infra::redis::Redis;
use rh_infra::{auth, AppError};

/// `GET /api/v1/users/me/activity?cursor=&limit=` (Bearer): newest first.
pub fn mine(req: &Req) -> Result<Response, AppError> {
    let redis = Redis::open()?;
    let me = auth::require_user(req, &redis)?;
    let limit = req.query_int("limit", 50, 1..=100)?;
    let cursor = req.query_parsed("cursor", "must be a cursor from a previous page")?;
    let db = Db::open()?;
    json(200, &activity::page(&db, me.id, cursor, limit)?)
}
