//! Issue 8, hero pick-rate analytics through the real runtime: results (and only fresh
//! ones, never replays) feed the daily aggregate, voids take it back, the overview
//! counts matches and players, and bad `days`/`mode` are 422s.
//!
//! Heroes get unique names per test: the test database is shared by every test.

use crate::matches_support::*;
use fred::prelude::KeysInterface;
use mysql_async::prelude::Queryable;
use reqwest::StatusCode;
use rh_tests::{assert_problem, spawn_app, unique_suffix, TestApp};
use serde_json::{json, Value};

async fn heroes(app: &TestApp, query: &str) -> Value {
    let resp = app.get(&format!("/api/v1/analytics/heroes?{query}")).await;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

fn hero<'a>(report: &'a Value, name: &str) -> Option<&'a Value> {
    report["heroes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["hero"] == name)
}

#[tokio::test]
async fn days_and_mode_are_validated() {
    let app = spawn_app().await;
    for q in [
        "mode=1v1&days=0",
        "mode=1v1&days=91",
        "mode=1v1&days=abc",
        "mode=1v1&days=-1",
        "mode=9v9&days=7",
        "days=7",
    ] {
        let resp = app.get(&format!("/api/v1/analytics/heroes?{q}")).await;
        assert_problem(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let resp = app.get("/api/v1/analytics/overview?days=91").await;
    assert_problem(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    let ok = heroes(&app, "mode=1v1&days=90").await;
    assert_eq!(ok["days"], 90);
    assert_eq!(heroes(&app, "mode=2v2").await["days"], 7, "default window");
}

#[tokio::test]
async fn results_count_once_replays_never_and_voids_take_picks_back() {
    let app = spawn_app().await;
    let p = players(&app, 2, "eu").await;
    let (a, b) = (
        format!("ha_{}", unique_suffix()),
        format!("hb_{}", unique_suffix()),
    );
    let teams = vec![vec![p[0].id], vec![p[1].id]];
    let id = create_match(&app, "1v1", "eu", &teams).await["id"]
        .as_u64()
        .unwrap();
    let body = json!({"winner_team": 0, "duration_s": 600, "participants": [
        {"user_id": p[0].id, "kills": 5, "hero": a},
        {"user_id": p[1].id, "kills": 1, "hero": b},
    ]});
    assert_eq!(put_result(&app, id, &body).await.status(), StatusCode::OK);
    // A replay of the same result changes nothing.
    assert_eq!(put_result(&app, id, &body).await.status(), StatusCode::OK);

    let report = heroes(&app, "mode=1v1&days=1").await;
    let ha = hero(&report, &a).expect("hero a listed");
    assert_eq!(
        (ha["picks"].as_u64(), ha["wins"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(ha["win_rate"], 1.0);
    let hb = hero(&report, &b).expect("hero b listed");
    assert_eq!(
        (hb["picks"].as_u64(), hb["wins"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(hb["win_rate"], 0.0);
    let total = report["total_picks"].as_f64().unwrap();
    assert!((ha["pick_rate"].as_f64().unwrap() - 1.0 / total).abs() < 1e-9);
    // Sorted by pick rate.
    let rates: Vec<f64> = report["heroes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["pick_rate"].as_f64().unwrap())
        .collect();
    assert!(rates.windows(2).all(|w| w[0] >= w[1]), "{rates:?}");
    // Another mode does not see them.
    assert!(hero(&heroes(&app, "mode=2v2&days=90").await, &a).is_none());

    // The overview counts today's matches and players.
    let overview: Value = app
        .get("/api/v1/analytics/overview?days=1")
        .await
        .json()
        .await
        .unwrap();
    let today = report["to_day"].clone();
    let m = overview["matches_per_day"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["day"] == today && r["mode"] == "1v1")
        .expect("today's 1v1 matches");
    assert!(m["matches"].as_u64().unwrap() >= 1);
    assert!(overview["mmr_distribution"]
        .as_array()
        .unwrap()
        .iter()
        .any(|b| b["mode"] == "1v1" && b["from"].as_i64().unwrap() % 100 == 0));

    let cached: bool = app.redis.exists("analytics:overview:1").await.unwrap();
    assert!(cached, "the overview is cached for a minute");

    // Voiding the match takes its picks back.
    let boss = app.register_user().await;
    let mut conn = app.db.get_conn().await.unwrap();
    conn.exec_drop("UPDATE users SET role = 'admin' WHERE id = ?", (boss.id,))
        .await
        .unwrap();
    let resp = app
        .post_json_auth(
            &format!("/api/v1/admin/matches/{id}/void"),
            &boss.access_token,
            &json!({"reason": "test void"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    // ... and drops the cached overviews that counted it.
    let cached: bool = app.redis.exists("analytics:overview:1").await.unwrap();
    assert!(!cached);
    let report = heroes(&app, "mode=1v1&days=1").await;
    assert!(hero(&report, &a).is_none(), "{report}");
    assert!(hero(&report, &b).is_none(), "{report}");
}
