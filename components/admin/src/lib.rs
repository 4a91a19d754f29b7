//! `admin`: admin operations under `/api/v1/admin/...`, Bearer token of a user whose
//! `users.role` is `admin` (read from MySQL on each request; production makes the first
//! admin with `rh-migrate promote-admin EMAIL`). Non-admins get 403 and an audit row.
//!
//! Everything that decides is in `rh_app::admin`; handlers decode, check the role, call
//! it and encode. `POST /api/v1/admin/leaderboards/rebuild` stays with the matches
//! component (server-signed, an exact route that wins over this component's wildcard).
//!
//! # Layout
//! - `lib.rs`: the route table and handlers (this file).

use serde::Deserialize;
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

use rh_app::admin::{self, audit_read, boards, search, users, void};
use rh_app::db::Db;
use rh_app::http::{json, Req, Router};
use rh_app::redis::Redis;
use rh_app::AppError;

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

fn id_param(req: &Req) -> Result<u64, AppError> {
    req.param("id")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| AppError::NotFound("no such id".into()))
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
    let limit: u32 = opt(req, "limit")?.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(AppError::invalid_field("limit", "must be from 1 to 100"));
    }
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
        &users::ban(&db, &redis, me, id_param(req)?, body, req.client_ip())?,
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
            id_param(req)?,
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
        &users::adjust_rating(&db, &redis, me, id_param(req)?, body, req.client_ip())?,
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
            id_param(req)?,
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

fn opt<T: std::str::FromStr>(req: &Req, name: &str) -> Result<Option<T>, AppError> {
    match req.query_param(name).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(raw) => raw
            .parse()
            .map(Some)
            .map_err(|_| AppError::invalid_field(name, "must be an integer")),
    }
}

/// `GET /api/v1/admin/audit?actor_id=&target_type=&target_id=&action=&from_ms=&to_ms=&cursor=&limit=`.
fn audit(req: &Req) -> Result<Response, AppError> {
    let (db, _redis, _me) = admin_ctx(req)?;
    let limit: u64 = opt(req, "limit")?.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        return Err(AppError::invalid_field("limit", "must be from 1 to 200"));
    }
    let text = |n: &str| req.query_param(n).filter(|v| !v.is_empty());
    let q = audit_read::AuditQuery {
        actor_id: opt(req, "actor_id")?,
        target_type: text("target_type"),
        target_id: text("target_id"),
        action: text("action"),
        from_ms: opt(req, "from_ms")?,
        to_ms: opt(req, "to_ms")?,
        cursor: opt(req, "cursor")?,
        limit,
    };
    json(200, &audit_read::page(&db, &q)?)
}
