//! Issue 12, ranked seasons, through the real runtime and components: the schedule's
//! rules, a season that rolls over by itself on the sidecar's ticks (soft reset,
//! archived board, history, badges once, placement, events), a rollover interrupted by
//! a runtime going away and finished by another, results during a rollover, inactivity.
//!
//! Seasons are global state, so the tests of this module run one at a time ([`SERIAL`])
//! and each leaves the schedule as it found it: one open-ended active season without
//! placement games ([`restore`]), which is what every other module expects.
//!
//! [`SERIAL`]: crate::seasons_support::SERIAL
//! [`restore`]: crate::seasons_support::restore

use std::time::Duration;

use mysql_async::prelude::Queryable;
use reqwest::StatusCode;
use rh_tests::problem::assert_problem;
use rh_tests::{spawn_app, spawn_app_with, TestApp, TestUser};
use serde_json::{json, Value};

use crate::admin::admin;
use crate::matches_support::{play, players};
use crate::realtime::{client, event_where, spawn_sidecar_ticking, test_redis_url};
use crate::seasons_support::{current, finish_rollovers, now_ms, restore, schedule, tick, SERIAL};

const DAY_MS: i64 = 86_400_000;

/// The soft reset with the default k (rh_domain::seasons, pinned there by unit tests).
fn soft(mu: f64) -> f64 {
    25.0 + 0.75 * (mu - 25.0)
}

/// `(mu, sigma, season_id, placed, season_games)` of a player in 1v1.
async fn rating(app: &TestApp, user: u64) -> (f64, f64, u64, u8, u32) {
    let mut conn = app.db.get_conn().await.unwrap();
    conn.exec_first(
        "SELECT mu, sigma, season_id, placed, season_games FROM user_stats WHERE user_id = ? AND mode = '1v1'",
        (user,),
    )
    .await
    .unwrap()
    .expect("a 1v1 row")
}

async fn board_ids(app: &TestApp) -> Vec<u64> {
    let resp = app.get("/api/v1/rankings/1v1?limit=200").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    body["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["user_id"].as_u64().unwrap())
        .collect()
}

async fn notifications(app: &TestApp, user: &TestUser, kind: &str) -> Vec<Value> {
    let resp = app
        .get_auth("/api/v1/notifications?limit=100", &user.access_token)
        .await;
    let body: Value = resp.json().await.unwrap();
    body["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["kind"] == kind)
        .cloned()
        .collect()
}

#[tokio::test]
async fn the_schedule_refuses_overlaps_gaps_inverted_and_past_windows_and_changes_nothing() {
    let _serial = SERIAL.lock().await;
    let app = spawn_app().await;
    restore(&app).await;
    let boss = admin(&app).await;
    let player = app.register_user().await;
    let base = now_ms() + 3_600_000;

    let create = |body: Value, token: String| {
        let app = &app;
        async move {
            app.post_json_auth("/api/v1/admin/seasons", &token, &body)
                .await
        }
    };
    // Only admins schedule.
    let resp = create(
        json!({"name": "x", "starts_at": base}),
        player.access_token.clone(),
    )
    .await;
    assert_problem(resp, StatusCode::FORBIDDEN).await;

    let next = schedule(&app, &boss, 3_600_000, 3).await;
    let next_id = next["id"].as_u64().unwrap();
    assert_eq!(next["status"], "scheduled");
    assert_eq!(next["modes"]["1v1"]["placement_games"], 3);
    assert_eq!(
        next["modes"]["2v2"]["placement_games"], 5,
        "defaults for modes left out"
    );
    // The open-ended active season now ends where the new one starts.
    let cur = current(&app).await;
    assert_eq!(cur["ends_at"], next["starts_at"]);

    let before = app.get("/api/v1/seasons").await.text().await.unwrap();
    let token = boss.access_token.clone();
    for (body, status) in [
        // Starts inside the current season, before the scheduled one.
        (
            json!({"name": "o", "starts_at": base - 60_000}),
            StatusCode::CONFLICT,
        ),
        (
            json!({"name": "i", "starts_at": base + 7_200_000, "ends_at": base + 3_600_000}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"name": "p", "starts_at": now_ms() - 1_000}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"name": "", "starts_at": base + 7_200_000}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"name": "m", "starts_at": base + 7_200_000, "modes": {"9v9": {}}}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            json!({"name": "k", "starts_at": base + 7_200_000, "modes": {"1v1": {"soft_reset_k": 2.0}}}),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    ] {
        assert_problem(create(body, token.clone()).await, status).await;
    }
    // A gap after a fixed end.
    let resp = app
        .patch_json_auth(
            &format!("/api/v1/admin/seasons/{next_id}"),
            &token,
            &json!({"ends_at": base + 7_200_000, "modes": {"1v1": {"soft_reset_k": 0.5}}}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let patched: Value = resp.json().await.unwrap();
    // Only the field sent changed.
    assert_eq!(patched["modes"]["1v1"]["soft_reset_k"], 0.5);
    assert_eq!(patched["modes"]["1v1"]["placement_games"], 3);
    for bad in [
        json!({"modes": {"1v1": {"bogus": 1}}}),
        json!({"modes": {"1v1": {"placement_games": 99}}}),
        json!({"ends_at": base - 7_200_000}),
    ] {
        let resp = app
            .patch_json_auth(&format!("/api/v1/admin/seasons/{next_id}"), &token, &bad)
            .await;
        assert_problem(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    }
    let before_gap = app.get("/api/v1/seasons").await.text().await.unwrap();
    let gap = create(
        json!({"name": "g", "starts_at": base + 9_000_000}),
        token.clone(),
    )
    .await;
    let problem = assert_problem(gap, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(problem.to_string().contains("without gaps"), "{problem}");
    // Only the season under way ends early; unknown seasons are 404.
    let resp = app
        .post_json_auth(
            &format!("/api/v1/admin/seasons/{next_id}/end"),
            &token,
            &json!({}),
        )
        .await;
    assert_problem(resp, StatusCode::CONFLICT).await;
    assert_problem(
        app.get("/api/v1/seasons/999999999").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_problem(
        app.get("/api/v1/seasons/999999999/rankings/1v1").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_problem(
        app.get(&format!("/api/v1/seasons/{}/rankings/1v1", cur["id"]))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_problem(
        app.get("/api/v1/users/999999999/seasons").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    // Nothing refused changed the schedule.
    assert_ne!(before, before_gap, "the accepted PATCH did change it");
    assert_eq!(
        app.get("/api/v1/seasons").await.text().await.unwrap(),
        before_gap
    );
    restore(&app).await;
}

#[tokio::test]
async fn a_season_rolls_over_by_itself_with_soft_reset_archive_badges_and_placement() {
    let _serial = SERIAL.lock().await;
    let app = spawn_app().await;
    restore(&app).await;
    let boss = admin(&app).await;
    let p = players(&app, 3, "eu").await;
    let ids: Vec<u64> = p.iter().map(|u| u.id).collect();
    // p0 beats p1 twice and p2 once: three different ratings, all placed (no placement
    // games in the install's season).
    play(&app, "1v1", "eu", &[vec![ids[0]], vec![ids[1]]], Some(0)).await;
    play(&app, "1v1", "eu", &[vec![ids[0]], vec![ids[1]]], Some(0)).await;
    play(&app, "1v1", "eu", &[vec![ids[0]], vec![ids[2]]], Some(0)).await;
    let mut before = Vec::new();
    for id in &ids {
        before.push(rating(&app, *id).await);
    }
    let old = current(&app).await;
    let old_id = old["id"].as_u64().unwrap();
    // Profiles read (and cached) before the rollover must not outlive it.
    let me_before: Value = app
        .get_auth("/api/v1/users/me", &p[0].access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        me_before["stats"]["1v1"]["season_id"], old_id,
        "{me_before}"
    );
    let public_path = format!("/api/v1/users/{}", ids[0]);
    let public_before: Value = app.get(&public_path).await.json().await.unwrap();
    assert_eq!(public_before["season_badges"], serde_json::json!([]));

    // The sidecar's ticker drives the rollover; a WebSocket client hears it.
    let (ws_url, _stop) =
        spawn_sidecar_ticking(&test_redis_url(), Duration::from_millis(200)).await;
    let mut ws = client(&ws_url, &p[0].access_token, &["seasons"]).await;
    let next = schedule(&app, &boss, 2_000, 2).await;
    let next_id = next["id"].as_u64().unwrap();
    let ended = event_where(&mut ws, "seasons", |d| d["type"] == "season_ended").await;
    assert_eq!(ended["season"]["id"], old_id);
    assert_eq!(ended["next_season_id"], next_id);
    let started = event_where(&mut ws, "seasons", |d| d["type"] == "season_started").await;
    assert_eq!(started["season"]["id"], next_id);
    assert_eq!(current(&app).await["id"], next_id);
    let old_after = app.get(&format!("/api/v1/seasons/{old_id}")).await;
    let old_after: Value = old_after.json().await.unwrap();
    assert_eq!(old_after["status"], "ended");

    // Soft reset, exactly once, and nobody placed yet.
    for (i, id) in ids.iter().enumerate() {
        let (mu, sigma, season, placed, games) = rating(&app, *id).await;
        assert!(
            (mu - soft(before[i].0)).abs() < 1e-9,
            "player {i}: {mu} vs {}",
            soft(before[i].0)
        );
        assert!(
            sigma >= 5.0 - 1e-9 && sigma >= before[i].1,
            "sigma raised: {sigma}"
        );
        assert_eq!((season, placed, games), (next_id, 0, 0));
    }
    let board = board_ids(&app).await;
    assert!(
        ids.iter().all(|id| !board.contains(id)),
        "unplaced players are off the board"
    );
    // The profiles show the new season at once: in placement, no tier, the badge earned.
    let me_after: Value = app
        .get_auth("/api/v1/users/me", &p[0].access_token)
        .await
        .json()
        .await
        .unwrap();
    let s1 = &me_after["stats"]["1v1"];
    assert_eq!(
        (
            &s1["season_id"],
            &s1["placed"],
            &s1["placement_games_left"],
            &s1["tier"]
        ),
        (
            &serde_json::json!(next_id),
            &serde_json::json!(false),
            &serde_json::json!(2),
            &Value::Null
        ),
        "{me_after}"
    );
    let public_after: Value = app.get(&public_path).await.json().await.unwrap();
    assert_eq!(public_after["stats"]["1v1"]["season_id"], next_id);
    assert!(
        !public_after["season_badges"].as_array().unwrap().is_empty(),
        "{public_after}"
    );

    // The old season's final board, in rating order, and each player's history.
    let resp = app
        .get(&format!(
            "/api/v1/seasons/{old_id}/rankings/1v1?limit=200&region=eu"
        ))
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let archived: Value = resp.json().await.unwrap();
    let ranks: Vec<(u64, u64)> = archived["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| ids.contains(&e["user_id"].as_u64().unwrap()))
        .map(|e| (e["user_id"].as_u64().unwrap(), e["rank"].as_u64().unwrap()))
        .collect();
    let total = archived["total"].as_u64().unwrap();
    if total <= 200 {
        assert_eq!(ranks.len(), 3, "{archived}");
        assert_eq!(ranks[0].0, ids[0], "the winner ranks first of the three");
    }
    let resp = app.get(&format!("/api/v1/users/{}/seasons", ids[0])).await;
    let history: Value = resp.json().await.unwrap();
    let entry = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["season_id"] == old_id && e["mode"] == "1v1")
        .cloned()
        .expect("the old season in the history");
    assert_eq!(
        (entry["games"].as_u64(), entry["wins"].as_u64()),
        (Some(3), Some(3))
    );
    assert!(entry["final_rank"].as_u64().is_some());
    assert!(entry["final_tier"].is_string() && entry["peak_tier"].is_string());
    assert!(!entry["badges"].as_array().unwrap().is_empty(), "{entry}");

    // Badges exactly once, announced by one notification each.
    let mut conn = app.db.get_conn().await.unwrap();
    for id in &ids {
        let (n, distinct): (u64, u64) = conn
            .exec_first(
                "SELECT COUNT(*), COUNT(DISTINCT badge) FROM season_rewards WHERE season_id = ? AND user_id = ?",
                (old_id, id),
            )
            .await
            .unwrap()
            .unwrap();
        assert!(
            n >= 1 && n == distinct,
            "player {id}: {n} badges, {distinct} distinct"
        );
    }
    let profile: Value = app
        .get(&format!("/api/v1/users/{}", ids[0]))
        .await
        .json()
        .await
        .unwrap();
    let on_profile = profile["season_badges"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["season_id"] == old_id)
        .count();
    assert_eq!(
        on_profile,
        entry["badges"].as_array().unwrap().len(),
        "{profile}"
    );
    let again = tick(&app, json!({})).await;
    assert!(
        again["claimed"].is_null() && again["batches"] == 0,
        "{again}"
    );
    for u in &p {
        assert_eq!(notifications(&app, u, "season_reward").await.len(), 1);
    }

    // Placement: two games in the new season, then on the board with a tier.
    let mut me = client(&ws_url, &p[1].access_token, &[&format!("user:{}", ids[1])]).await;
    play(&app, "1v1", "eu", &[vec![ids[1]], vec![ids[2]]], Some(0)).await;
    assert!(
        !board_ids(&app).await.contains(&ids[1]),
        "one placement game is not enough"
    );
    let profile: Value = app
        .get(&format!("/api/v1/users/{}", ids[1]))
        .await
        .json()
        .await
        .unwrap();
    assert!(profile["stats"]["1v1"]["tier"].is_null(), "{profile}");
    assert_eq!(profile["stats"]["1v1"]["placement_games_left"], 1);
    play(&app, "1v1", "eu", &[vec![ids[1]], vec![ids[2]]], Some(0)).await;
    let placed = event_where(&mut me, &format!("user:{}", ids[1]), |d| {
        d["type"] == "placement_complete"
    })
    .await;
    assert_eq!(placed["season_id"], next_id);
    let board = board_ids(&app).await;
    assert!(
        board.contains(&ids[1]) && board.contains(&ids[2]),
        "both placed"
    );
    let profile: Value = app
        .get(&format!("/api/v1/users/{}", ids[1]))
        .await
        .json()
        .await
        .unwrap();
    assert!(profile["stats"]["1v1"]["tier"].is_string(), "{profile}");
    assert_eq!(
        notifications(&app, &p[1], "placement_complete").await.len(),
        1
    );
    restore(&app).await;
}

#[tokio::test]
async fn an_interrupted_rollover_finishes_on_another_runtime_and_resets_everyone_once() {
    let _serial = SERIAL.lock().await;
    let app = spawn_app().await;
    restore(&app).await;
    let boss = admin(&app).await;
    let p = players(&app, 4, "na").await;
    let ids: Vec<u64> = p.iter().map(|u| u.id).collect();
    play(&app, "1v1", "na", &[vec![ids[0]], vec![ids[1]]], Some(0)).await;
    play(&app, "1v1", "na", &[vec![ids[2]], vec![ids[3]]], Some(1)).await;
    let mut before = Vec::new();
    for id in &ids {
        before.push(rating(&app, *id).await);
    }
    let old_id = current(&app).await["id"].as_u64().unwrap();
    schedule(&app, &boss, 1_500, 0).await;
    tokio::time::sleep(Duration::from_millis(1_700)).await;

    // A runtime of its own claims the rollover and runs one small batch, then goes away.
    {
        let doomed = spawn_app_with(&[]).await;
        let out = tick(&doomed, json!({"batch_size": 2, "max_batches": 1})).await;
        assert_eq!(out["claimed"], old_id, "{out}");
        assert_eq!(out["batches"], 1);
        assert!(out["finished"].is_null());
    }
    let mut conn = app.db.get_conn().await.unwrap();
    let left: u64 = conn
        .exec_first(
            "SELECT COUNT(*) FROM user_stats WHERE season_id = ?",
            (old_id,),
        )
        .await
        .unwrap()
        .unwrap();
    assert!(left > 0, "the rollover is half done");
    let status: String = conn
        .exec_first("SELECT status FROM seasons WHERE id = ?", (old_id,))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(status, "rolling");

    // A result in the middle counts for the new season: its players are reset first.
    let mid = play(&app, "1v1", "na", &[vec![ids[0]], vec![ids[2]]], Some(0)).await;
    let mu_before: Vec<(u64, f64)> = {
        let rows: Vec<(u64, f64)> = conn
            .exec(
                "SELECT user_id, mu_before FROM match_participants WHERE match_id = ?",
                (mid["match"]["id"].as_u64().unwrap(),),
            )
            .await
            .unwrap();
        rows
    };
    for (user, mu) in &mu_before {
        let i = ids.iter().position(|x| x == user).unwrap();
        assert!(
            (mu - soft(before[i].0)).abs() < 1e-9,
            "reset before rating: {mu}"
        );
    }
    let after_mid = [rating(&app, ids[0]).await, rating(&app, ids[2]).await];

    // The shared runtime's ticks finish it.
    finish_rollovers(&app).await;
    let left: u64 = conn
        .exec_first(
            "SELECT COUNT(*) FROM user_stats WHERE season_id = ?",
            (old_id,),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(left, 0);
    for (i, id) in ids.iter().enumerate() {
        let (mu, ..) = rating(&app, *id).await;
        match i {
            // Played in the new season: reset once (by their result), never again.
            0 => assert_eq!(mu, after_mid[0].0),
            2 => assert_eq!(mu, after_mid[1].0),
            _ => assert!(
                (mu - soft(before[i].0)).abs() < 1e-9,
                "player {i} reset once: {mu}"
            ),
        }
    }
    let archived: u64 = conn
        .exec_first(
            "SELECT COUNT(*) FROM season_standings WHERE season_id = ? AND user_id IN (?, ?, ?, ?)",
            (old_id, ids[0], ids[1], ids[2], ids[3]),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        archived, 4,
        "the middle result did not enter the old season's standings"
    );
    // Badges once each, also for the two the middle result moved on before any batch.
    for id in &ids {
        let (n, distinct): (u64, u64) = conn
            .exec_first(
                "SELECT COUNT(*), COUNT(DISTINCT badge) FROM season_rewards WHERE season_id = ? AND user_id = ?",
                (old_id, id),
            )
            .await
            .unwrap()
            .unwrap();
        assert!(
            n >= 1 && n == distinct,
            "player {id}: {n} badges, {distinct} distinct"
        );
        let notes: u64 = conn
            .exec_first(
                "SELECT COUNT(*) FROM notifications WHERE user_id = ? AND kind = 'season_reward'",
                (id,),
            )
            .await
            .unwrap()
            .unwrap();
        assert_eq!(notes, 1, "player {id}");
    }
    restore(&app).await;
}

#[tokio::test]
async fn concurrent_ticks_claim_a_rollover_once() {
    let _serial = SERIAL.lock().await;
    let app = spawn_app().await;
    restore(&app).await;
    let boss = admin(&app).await;
    let old_id = current(&app).await["id"].as_u64().unwrap();
    schedule(&app, &boss, 1_000, 0).await;
    tokio::time::sleep(Duration::from_millis(1_200)).await;
    // Without the Redis lease every tick reaches the MySQL claim.
    let ticks = (0..6).map(|_| tick(&app, json!({"batch_size": 50, "use_lease": false})));
    let outcomes = futures::future::join_all(ticks).await;
    let claims = outcomes.iter().filter(|o| o["claimed"] == old_id).count();
    assert_eq!(claims, 1, "{outcomes:?}");
    restore(&app).await;
}

#[tokio::test]
async fn a_player_back_after_months_plays_with_a_wider_sigma() {
    let _serial = SERIAL.lock().await;
    let app = spawn_app().await;
    restore(&app).await;
    let p = players(&app, 2, "eu").await;
    let teams = [vec![p[0].id], vec![p[1].id]];
    for _ in 0..4 {
        play(&app, "1v1", "eu", &teams, Some(0)).await;
    }
    let (_, settled, ..) = rating(&app, p[0].id).await;
    let mut conn = app.db.get_conn().await.unwrap();
    // Idleness counts from the later of the last match and the season's start (the
    // rollover's reset covered the time before): move every season 200 days back,
    // keeping the timeline contiguous, so the whole 120 days count.
    conn.query_drop(
        "UPDATE seasons SET starts_at_ms = starts_at_ms - 17280000000, \
         ends_at_ms = ends_at_ms - 17280000000",
    )
    .await
    .unwrap();
    conn.exec_drop(
        "UPDATE user_stats SET last_match_at_ms = ? WHERE user_id = ? AND mode = '1v1'",
        (now_ms() - 120 * DAY_MS, p[0].id),
    )
    .await
    .unwrap();
    let out = play(&app, "1v1", "eu", &teams, Some(0)).await;
    let sigma_before: f64 = conn
        .exec_first(
            "SELECT sigma_before FROM match_participants WHERE match_id = ? AND user_id = ?",
            (out["match"]["id"].as_u64().unwrap(), p[0].id),
        )
        .await
        .unwrap()
        .unwrap();
    // 120 days off, 14 of grace: sqrt(σ² + 0.3²·106).
    let expected = (settled * settled + 0.09 * 106.0).sqrt();
    assert!(
        (sigma_before - expected).abs() < 0.01,
        "{sigma_before} vs {expected}"
    );
}
