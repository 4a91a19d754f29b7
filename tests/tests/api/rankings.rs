//! Issue 5, leaderboards: pages with usernames and records, stable ties, regions, the
//! caller's neighbourhood, rebuilding after Redis lost the boards, and agreement with
//! MySQL after a sequence of results.
//!
//! Tests that compare a whole board with MySQL take `BOARD` so no other test of this
//! binary posts a result in between.

use crate::matches_support::*;
use fred::prelude::{KeysInterface, SortedSetsInterface};
use mysql_async::prelude::Queryable;
use reqwest::{Method, StatusCode};
use rh_tests::{assert_problem, spawn_app, TestApp};
use serde_json::Value;
use tokio::sync::Mutex;

static BOARD: Mutex<()> = Mutex::const_new(());

/// Every ranked player of `mode` (optionally one region) from MySQL, in leaderboard
/// order: mmr descending, then user id.
/// Banned players are off the boards (admin bans), so they are left out here too.
async fn mysql_board(app: &TestApp, mode: &str, region: Option<&str>) -> Vec<(u64, i64)> {
    let mut conn = app.db.get_conn().await.unwrap();
    let rows: Vec<(u64, i64, String)> = conn
        .exec(
            "SELECT us.user_id, us.mmr, u.region FROM user_stats us JOIN users u ON u.id = us.user_id \
             WHERE us.mode = ? AND us.placed = 1 \
         AND us.season_id = (SELECT id FROM seasons WHERE status = 'active') \
             AND (u.banned_until_ms IS NULL OR u.banned_until_ms <= UNIX_TIMESTAMP() * 1000) \
             ORDER BY us.mmr DESC, us.user_id",
            (mode,),
        )
        .await
        .unwrap();
    rows.into_iter()
        .filter(|(_, _, r)| region.is_none_or(|want| want == r))
        .map(|(u, m, _)| (u, m))
        .collect()
}

/// The whole board through the API, paging 200 at a time.
async fn api_board(app: &TestApp, mode: &str, region: Option<&str>) -> Vec<(u64, i64)> {
    let mut out = Vec::new();
    loop {
        let mut path = format!("/api/v1/rankings/{mode}?limit=200&offset={}", out.len());
        if let Some(r) = region {
            path.push_str(&format!("&region={r}"));
        }
        let resp = app.get(&path).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let body: Value = resp.json().await.unwrap();
        let entries = body["entries"].as_array().unwrap();
        for (i, e) in entries.iter().enumerate() {
            assert_eq!(
                e["rank"].as_u64().unwrap() as usize,
                out.len() + 1,
                "ranks are consecutive ({i})"
            );
            out.push((e["user_id"].as_u64().unwrap(), e["mmr"].as_i64().unwrap()));
        }
        if entries.len() < 200 {
            assert_eq!(body["total"].as_u64().unwrap() as usize, out.len());
            return out;
        }
    }
}

async fn delete_boards(app: &TestApp, mode: &str) {
    let mut keys = vec![format!("lb:{mode}"), format!("lbinfo:{mode}")];
    for r in ["na", "eu", "sa", "asia", "oce"] {
        keys.push(format!("lb:{mode}:{r}"));
    }
    let _: i64 = app.redis.del(keys).await.unwrap();
}

#[tokio::test]
async fn a_page_lists_ranked_players_with_usernames_and_records() {
    let _board = BOARD.lock().await;
    let app = spawn_app().await;
    let p = players(&app, 3, "oce").await;
    play(&app, "1v1", "oce", &[vec![p[0].id], vec![p[1].id]], Some(0)).await;

    // The oce board: the global one outgrows one page as the shared test database fills.
    let body: Value = app
        .get("/api/v1/rankings/1v1?region=oce&limit=200")
        .await
        .json()
        .await
        .unwrap();
    let entries = body["entries"].as_array().unwrap();
    let find = |u: u64| entries.iter().find(|e| e["user_id"] == u).cloned();

    assert_eq!(body["mode"], "1v1");
    let winner = find(p[0].id).expect("winner is ranked");
    assert_eq!(winner["username"], p[0].username.as_str());
    assert_eq!(
        (winner["wins"].as_u64(), winner["losses"].as_u64()),
        (Some(1), Some(0))
    );
    let loser = find(p[1].id).expect("loser is ranked");
    assert_eq!(
        (loser["wins"].as_u64(), loser["losses"].as_u64()),
        (Some(0), Some(1))
    );
    assert!(winner["rank"].as_u64() < loser["rank"].as_u64());
    // No completed match in the mode: not on the board.
    let all = api_board(&app, "1v1", None).await;
    assert!(!all.iter().any(|(u, _)| *u == p[2].id));
}

/// The oce page of 1v1 (limit 200), as the API answers it now.
async fn oce_page(app: &TestApp) -> Vec<Value> {
    let resp = app.get("/api/v1/rankings/1v1?region=oce&limit=200").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    body["entries"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_cached_page_is_retired_by_every_write_to_its_board() {
    let _board = BOARD.lock().await;
    let app = spawn_app().await;
    let boss = crate::admin::admin(&app).await;
    let p = players(&app, 3, "oce").await;
    play(&app, "1v1", "oce", &[vec![p[0].id], vec![p[1].id]], Some(0)).await;
    let entry = |page: &[Value], u: u64| page.iter().find(|e| e["user_id"] == u).cloned();

    // A read fills the page cache, tagged with the board's generation.
    assert!(entry(&oce_page(&app).await, p[0].id).is_some());
    let cached: Option<String> = app.redis.get("lbpage:lb:1v1:oce:0:200").await.unwrap();
    let generation: Option<String> = app.redis.get("lbmeta:1v1:gen").await.unwrap();
    let (cached, generation) = (cached.expect("the page is cached"), generation.unwrap());
    assert!(cached.starts_with(&format!("{generation}|")), "{cached}");

    // A rename: the next page shows the new name.
    let name = format!("q_{}", rh_tests::unique_suffix());
    let resp = app
        .patch_json_auth(
            "/api/v1/users/me",
            &p[0].access_token,
            &serde_json::json!({"username": name}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let page = oce_page(&app).await;
    assert_eq!(entry(&page, p[0].id).unwrap()["username"], name.as_str());

    // A result: the newcomer is on the next page, the loser's record moved.
    play(&app, "1v1", "oce", &[vec![p[2].id], vec![p[0].id]], Some(0)).await;
    let page = oce_page(&app).await;
    assert_eq!(entry(&page, p[2].id).expect("ranked")["wins"], 1);
    assert_eq!(entry(&page, p[0].id).unwrap()["losses"], 1);

    // A ban: off the next page.
    let resp = app
        .post_json_auth(
            &format!("/api/v1/admin/users/{}/ban", p[2].id),
            &boss.access_token,
            &serde_json::json!({"reason": "cheating"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(entry(&oce_page(&app).await, p[2].id).is_none());
}

#[tokio::test]
async fn the_board_agrees_with_mysql_after_a_sequence_of_results_with_stable_ties() {
    let _board = BOARD.lock().await;
    let app = spawn_app().await;
    let p = players(&app, 6, "na").await;
    let ids: Vec<u64> = p.iter().map(|u| u.id).collect();
    // Draws between fresh players leave equal mmr: ties ordered by user id.
    play(
        &app,
        "2v2",
        "na",
        &[vec![ids[0], ids[1]], vec![ids[2], ids[3]]],
        Some(0),
    )
    .await;
    play(
        &app,
        "2v2",
        "na",
        &[vec![ids[2], ids[4]], vec![ids[1], ids[5]]],
        None,
    )
    .await;
    play(
        &app,
        "2v2",
        "na",
        &[vec![ids[5], ids[0]], vec![ids[3], ids[4]]],
        Some(1),
    )
    .await;
    play(&app, "1v1", "na", &[vec![ids[4]], vec![ids[5]]], None).await;

    for mode in ["1v1", "2v2"] {
        assert_eq!(
            api_board(&app, mode, None).await,
            mysql_board(&app, mode, None).await,
            "{mode}"
        );
        assert_eq!(
            api_board(&app, mode, Some("na")).await,
            mysql_board(&app, mode, Some("na")).await,
            "{mode} na"
        );
    }
}

#[tokio::test]
async fn a_board_redis_lost_is_rebuilt_from_mysql_on_the_next_read() {
    let _board = BOARD.lock().await;
    let app = spawn_app().await;
    let p = players(&app, 2, "eu").await;
    play(&app, "1v1", "eu", &[vec![p[0].id], vec![p[1].id]], Some(1)).await;
    let expected = mysql_board(&app, "1v1", None).await;

    // Just the board keys, as a flush of those keys would.
    delete_boards(&app, "1v1").await;
    assert_eq!(api_board(&app, "1v1", None).await, expected);

    // Everything, markers included; and a result arriving before the next read must
    // not pass a partial board off as the whole one.
    delete_boards(&app, "1v1").await;
    let _: i64 = app.redis.del("lbmeta:1v1:built").await.unwrap();
    let q = players(&app, 2, "eu").await;
    play(&app, "1v1", "eu", &[vec![q[0].id], vec![q[1].id]], Some(0)).await;
    assert_eq!(
        api_board(&app, "1v1", None).await,
        mysql_board(&app, "1v1", None).await
    );
    assert_eq!(
        api_board(&app, "1v1", Some("eu")).await,
        mysql_board(&app, "1v1", Some("eu")).await
    );

    delete_boards(&app, "1v1").await;
    let q2 = players(&app, 2, "eu").await;
    play(
        &app,
        "1v1",
        "eu",
        &[vec![q2[0].id], vec![q2[1].id]],
        Some(0),
    )
    .await;
    assert_eq!(
        api_board(&app, "1v1", None).await,
        mysql_board(&app, "1v1", None).await
    );
}

#[tokio::test]
async fn the_signed_admin_route_rebuilds_every_board() {
    let _board = BOARD.lock().await;
    let app = spawn_app().await;
    let p = players(&app, 2, "sa").await;
    play(&app, "1v1", "sa", &[vec![p[0].id], vec![p[1].id]], Some(0)).await;
    // Corrupt the board behind the app's back: a stranger with a huge score.
    let _: i64 = app
        .redis
        .zadd("lb:1v1", None, None, false, false, (1e15, "424242"))
        .await
        .unwrap();

    let resp = app
        .post_json("/api/v1/admin/leaderboards/rebuild", &serde_json::json!({}))
        .await;
    assert_problem(resp, StatusCode::UNAUTHORIZED).await;
    let resp = signed(
        &app,
        Method::POST,
        "/api/v1/admin/leaderboards/rebuild",
        None,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["rebuilt"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["mode"] == "1v1"),
        "{body}"
    );

    assert_eq!(
        api_board(&app, "1v1", None).await,
        mysql_board(&app, "1v1", None).await
    );
}

#[tokio::test]
async fn me_shows_the_caller_with_five_above_and_five_below() {
    let _board = BOARD.lock().await;
    let app = spawn_app().await;
    let p = players(&app, 2, "asia").await;
    play(
        &app,
        "1v1",
        "asia",
        &[vec![p[0].id], vec![p[1].id]],
        Some(0),
    )
    .await;

    let resp = app
        .get_auth("/api/v1/rankings/1v1/me", &p[0].access_token)
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let me: Value = resp.json().await.unwrap();
    let board = api_board(&app, "1v1", None).await;
    let pos = board.iter().position(|(u, _)| *u == p[0].id).unwrap();

    assert_eq!(me["user_id"], p[0].id);
    assert_eq!(me["rank"].as_u64().unwrap() as usize, pos + 1);
    assert_eq!(me["mmr"].as_i64().unwrap(), board[pos].1);
    let above: Vec<u64> = me["above"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["user_id"].as_u64().unwrap())
        .collect();
    let below: Vec<u64> = me["below"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["user_id"].as_u64().unwrap())
        .collect();
    let want_above: Vec<u64> = board[pos.saturating_sub(5)..pos]
        .iter()
        .map(|(u, _)| *u)
        .collect();
    let want_below: Vec<u64> = board[pos + 1..(pos + 6).min(board.len())]
        .iter()
        .map(|(u, _)| *u)
        .collect();
    assert_eq!(above, want_above);
    assert_eq!(below, want_below);

    assert_problem(
        app.get("/api/v1/rankings/1v1/me").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let fresh = players(&app, 1, "eu").await;
    assert_problem(
        app.get_auth("/api/v1/rankings/4v4/me", &fresh[0].access_token)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn unknown_modes_regions_and_bad_paging_are_422() {
    let app = spawn_app().await;
    for path in [
        "/api/v1/rankings/9v9",
        "/api/v1/rankings/1v1?region=mars",
        "/api/v1/rankings/1v1?limit=0",
        "/api/v1/rankings/1v1?limit=abc",
        "/api/v1/rankings/1v1?offset=-1",
    ] {
        assert_problem(app.get(path).await, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
}
