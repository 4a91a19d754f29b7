//! Shared by the seasons tests and the rollover benchmark: signed ticks, scheduling, and
//! putting the schedule back as every other module expects it.

use std::time::Duration;

use fred::prelude::KeysInterface;
use mysql_async::prelude::Queryable;
use reqwest::{Method, StatusCode};
use rh_tests::{TestApp, TestUser};
use serde_json::{json, Value};

use crate::matches_support::signed;

/// Seasons are global state: one test of theirs at a time.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// One signed rollover tick with `options` (`batch_size`, `max_batches`).
pub async fn tick(app: &TestApp, mut options: Value) -> Value {
    options["request_id"] = json!(rh_tests::unique_suffix());
    let resp = signed(app, Method::POST, "/api/v1/seasons/tick", Some(&options)).await;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    assert_eq!(status, StatusCode::OK, "season tick: {body}");
    body
}

/// Ticks until no rollover is under way.
pub async fn finish_rollovers(app: &TestApp) {
    for _ in 0..200 {
        let out = tick(app, json!({})).await;
        if out["rolling"].is_null() || !out["finished"].is_null() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the rollover never finished");
}

/// Back to one open-ended active season without placement games.
pub async fn restore(app: &TestApp) {
    finish_rollovers(app).await;
    let mut conn = app.db.get_conn().await.unwrap();
    for sql in [
        "DELETE sm FROM season_modes sm JOIN seasons s ON s.id = sm.season_id WHERE s.status = 'scheduled'",
        "DELETE FROM seasons WHERE status = 'scheduled'",
        "UPDATE seasons SET ends_at_ms = NULL WHERE status = 'active'",
        "UPDATE season_modes sm JOIN seasons s ON s.id = sm.season_id SET sm.placement_games = 0 \
         WHERE s.status = 'active'",
    ] {
        conn.query_drop(sql).await.unwrap();
    }
    let _: i64 = app.redis.del("season:active").await.unwrap();
}

pub async fn current(app: &TestApp) -> Value {
    let resp = app.get("/api/v1/seasons/current").await;
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

/// Schedules a season starting `in_ms` from now (open-ended) with `placement` games in 1v1.
pub async fn schedule(app: &TestApp, boss: &TestUser, in_ms: i64, placement: u32) -> Value {
    let resp = app
        .post_json_auth(
            "/api/v1/admin/seasons",
            &boss.access_token,
            &json!({
                "name": format!("S {}", rh_tests::unique_suffix()),
                "starts_at": now_ms() + in_ms,
                "modes": {"1v1": {"placement_games": placement}},
            }),
        )
        .await;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body
}
