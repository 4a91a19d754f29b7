//! `admin`: admin operations under `/api/v1/admin/...`, Bearer token of a user whose
//! `users.role` is `admin` (read from MySQL on each request; production makes the first
//! admin with `rh-migrate promote-admin EMAIL`). Non-admins get 403 and an audit row.
//!
//! Everything that decides is in `rh_app::admin`; handlers decode, check the role, call
//! it and encode. `POST /api/v1/admin/leaderboards/rebuild` stays with the rankings
//! component (server-signed, an exact route that wins over this component's wildcard).
//!
//! # Layout
//! - `lib.rs`: the route table and handlers (this file).

use serde::Deserialize;
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

use rh_app::admin::{self, audit_read, boards, search, users, void};
use rh_infra::db::Db;
use rh_infra::http::{json, Req, Router};
use rh_infra::redis::Redis;
use rh_infra::AppError;

#[http_component]
async fn route(req: IncomingRequest) -> Response {
    Router::new()
        .get("/api/v1/admin/users", search_users)
        .post("/api/v1/admin/users/:id/ban", ban)
        .post("/api/v1/admin/users/:id/unban", unban)
        .post("/api/v1/admin/users/:id/rating", rating)
        .post("/api/v1/admin/matches/:id/void", void_match)
        .get("/api/v1/admin/audit", audit)
        .post("/api/v1/admin/rankings/rebuild", rebuild)
        .serve(req)
        .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReasonBody {
    reason: String,
}

/// Opens MySQL and Redis and checks the caller is an admin.
fn admin_ctx(req: &Req) -> Result<(Db, Redis, u64), AppError> {
    let db = Db::open()?;
    let redis = Redis::open()?;
    let me = admin::require_admin(req, &db, &redis)?;
    Ok((db, redis, me.id))
}

/// `GET /api/v1/admin/users?query=&limit=`.
fn search_users(req: &Req) -> Result<Response, AppError> {
    let (db, _redis, _me) = admin_ctx(req)?;
    let limit: u32 = req.query_int("limit", 20, 1..=100)?;
    let query = req.query_param("query").unwrap_or_default();
    if query.chars().count() > 254 {
        return Err(AppError::invalid_field(
            "query",
            "must be at most 254 characters",
        ));
    }
    json(
        200,
        &serde_json::json!({ "items": search::search(&db, &query, limit)? }),
    )
}

fn ban(req: &Req) -> Result<Response, AppError> {
    let (db, redis, me) = admin_ctx(req)?;
    let body: users::BanBody = req.json()?;
    json(
        200,
        &users::ban(
            &db,
            &redis,
            me,
            req.path_id("id", "user")?,
            body,
            req.client_ip(),
        )?,
    )
}

fn unban(req: &Req) -> Result<Response, AppError> {
    let (db, redis, me) = admin_ctx(req)?;
    let body: ReasonBody = req.json()?;
    json(
        200,
        &users::unban(
            &db,
            &redis,
            me,
            req.path_id("id", "user")?,
            &body.reason,
            req.client_ip(),
        )?,
    )
}

fn rating(req: &Req) -> Result<Response, AppError> {
    let (db, redis, me) = admin_ctx(req)?;
    let body: users::RatingBody = req.json()?;
    json(
        200,
        &users::adjust_rating(
            &db,
            &redis,
            me,
            req.path_id("id", "user")?,
            body,
            req.client_ip(),
        )?,
    )
}

fn void_match(req: &Req) -> Result<Response, AppError> {
    let (db, redis, me) = admin_ctx(req)?;
    let body: ReasonBody = req.json()?;
    json(
        200,
        &void::void_match(
            &db,
            &redis,
            me,
            req.path_id("id", "match")?,
            &body.reason,
            req.client_ip(),
        )?,
    )
}

/// `POST /api/v1/admin/rankings/rebuild`.
fn rebuild(req: &Req) -> Result<Response, AppError> {
    let (db, redis, me) = admin_ctx(req)?;
    json(200, &boards::rebuild_all(&db, &redis, me, req.client_ip())?)
}

/// `GET /api/v1/admin/audit?actor_id=&target_type=&target_id=&action=&from_ms=&to_ms=&cursor=&limit=`.
fn audit(req: &Req) -> Result<Response, AppError> {
    let (db, _redis, _me) = admin_ctx(req)?;
    let limit: u64 = req.query_int("limit", 50, 1..=200)?;
    let text = |n: &str| req.query_param(n);
    let q = audit_read::AuditQuery {
        actor_id: req.query_parsed("actor_id", "must be an integer")?,
        target_type: text("target_type"),
        target_id: text("target_id"),
        action: text("action"),
        from_ms: req.query_parsed("from_ms", "must be an integer")?,
        to_ms: req.query_parsed("to_ms", "must be an integer")?,
        cursor: req.query_parsed("cursor", "must be an integer")?,
        limit,
    };
    json(200, &audit_read::page(&db, &q)?)
}
