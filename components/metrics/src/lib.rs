//! `metrics`: `GET /api/v1/metrics`, the business metrics in Prometheus text format
//! (`rh_app::metrics`: matches created and completed, result answers, queue depth and
//! waits, the active season and its rollover).
//!
//! The route is for a Prometheus server, not for players: it takes
//! `Authorization: Bearer <metrics_token>`, a Spin secret variable of its own (never a
//! player's or an admin's token, and not the game-server key, so a scraper's credential
//! can do nothing else). With `metrics_token` empty, the default, the route is off and
//! answers 404, so an install that never configured it exposes nothing.
//!
//! The numbers come from Redis and MySQL, so every replica answers the same.
//!
//! # Layout
//! - `lib.rs`: the route and the token check (this file).

use sha2::{Digest, Sha256};
use spin_sdk::http::{IncomingRequest, Response};
use spin_sdk::http_component;

use rh_app::metrics::{exposition, snapshot};
use rh_infra::auth::bearer_token;
use rh_infra::db::Db;
use rh_infra::http::{Req, Router};
use rh_infra::redis::Redis;
use rh_infra::{clock, config, AppError};

#[http_component]
async fn route(req: IncomingRequest) -> Response {
    Router::new()
        .get("/api/v1/metrics", metrics)
        .serve(req)
        .await
}

/// `GET /api/v1/metrics` (metrics token).
fn metrics(req: &Req) -> Result<Response, AppError> {
    let expected = config::get_or("metrics_token", "");
    if expected.is_empty() {
        return Err(AppError::NotFound(
            "the business metrics are off (set the metrics_token variable)".into(),
        ));
    }
    if !same_secret(bearer_token(req)?, &expected) {
        return Err(AppError::InvalidToken("the metrics token is wrong".into()));
    }
    let db = Db::open()?;
    let redis = Redis::open()?;
    let families = snapshot(&db, &redis, &config::regions(), clock::now_ms())?;
    Ok(Response::builder()
        .status(200)
        .header("content-type", "text/plain; version=0.0.4; charset=utf-8")
        .header("cache-control", "no-store")
        .body(exposition::render(&families))
        .build())
}

/// Compares digests, so the time taken says nothing about how much of the token matched.
fn same_secret(given: &str, expected: &str) -> bool {
    Sha256::digest(given.as_bytes()) == Sha256::digest(expected.as_bytes())
}
