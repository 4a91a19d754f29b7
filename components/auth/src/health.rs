//! `GET /health`: 200 `{"status": "ok", "mysql": "ok", "redis": "ok"}`, or a 503 problem
//! whose extension members say which dependency is down. Causes are logged, not sent.

use rh_infra::db::Db;
use rh_infra::http::{self, Req};
use rh_infra::redis::Redis;
use rh_infra::{config, AppError};
use serde_json::json;
use spin_sdk::http::Response;

fn mysql_ok() -> bool {
    let result = config::db_url()
        .map_err(|e| e.to_string())
        .and_then(|url| Db::open_url(&url).map_err(|e| e.to_string()))
        .and_then(|db| db.query("SELECT 1", &[]).map_err(|e| e.to_string()));
    result
        .inspect_err(|e| rh_infra::log_warn!("health: mysql: {e}"))
        .is_ok()
}

fn redis_ok() -> bool {
    let result = config::redis_url()
        .map_err(|e| e.to_string())
        .and_then(|url| Redis::open_url(&url).map_err(|e| e.to_string()))
        .and_then(|r| r.ping().map_err(|e| e.to_string()));
    result
        .inspect_err(|e| rh_infra::log_warn!("health: redis: {e}"))
        .is_ok()
}

pub fn health(_req: &Req) -> Result<Response, AppError> {
    let state = |ok: bool| if ok { "ok" } else { "down" };
    let (mysql, redis) = (state(mysql_ok()), state(redis_ok()));
    if mysql == "ok" && redis == "ok" {
        return http::json(
            200,
            &json!({"status": "ok", "mysql": mysql, "redis": redis}),
        );
    }
    Err(AppError::Unhealthy {
        checks: vec![
            ("mysql".into(), mysql.into()),
            ("redis".into(), redis.into()),
        ],
    })
}
