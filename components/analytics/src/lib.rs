//! `analytics`: hero pick rates and the platform overview (public, read-only).
//!
//! The aggregates are written by the match result transaction
//! (`rh_app::analytics::record_hero_picks`); this component only reads them.
//!
//! # Layout
//! - `lib.rs`: the route table and the two handlers (this file).

use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

use rh_app::analytics;
use rh_infra::db::Db;
use rh_infra::http::{json, Req, Router};
use rh_infra::redis::Redis;
use rh_infra::{clock, AppError};

#[http_component]
async fn route(req: IncomingRequest) -> Response {
    Router::new()
        .get("/api/v1/analytics/heroes", heroes)
        .get("/api/v1/analytics/overview", overview)
        .serve(req)
        .await
}

/// `GET /api/v1/analytics/heroes?mode=&days=7`.
fn heroes(req: &Req) -> Result<Response, AppError> {
    let days = req.query_int("days", 7, 1..=90)?;
    let mode = req
        .query_param("mode")
        .ok_or_else(|| AppError::invalid_field("mode", "is required"))?;
    let db = Db::open()?;
    if !analytics::mode_exists(&db, &mode)? {
        return Err(AppError::invalid_field("mode", "unknown mode"));
    }
    json(200, &analytics::heroes(&db, &mode, days, clock::now_ms())?)
}

/// How long an overview is served from Redis. Its three aggregates scan every match
/// and participant of the window (about 1 s under load with 10,000 matches, see
/// docs/benchmarks.md), and a dashboard does not need them fresher than a minute.
const OVERVIEW_CACHE_S: i64 = 60;

/// `GET /api/v1/analytics/overview?days=7`: cached per `days` for a minute.
fn overview(req: &Req) -> Result<Response, AppError> {
    let days = req.query_int("days", 7, 1..=90)?;
    let redis = Redis::open()?;
    let key = format!("analytics:overview:{days}");
    if let Some(cached) = redis.get_string(&key)? {
        if let Ok(value) = serde_json::from_str::<serde_json::Value>(&cached) {
            return json(200, &value);
        }
    }
    let db = Db::open()?;
    let report = analytics::overview(&db, days, clock::now_ms())?;
    let body = serde_json::to_string(&report).map_err(AppError::internal)?;
    redis.set_ex(&key, &body, OVERVIEW_CACHE_S)?;
    json(200, &report)
}
