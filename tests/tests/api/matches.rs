//! Issue 5, matches: server-signed routes, creating matches, results applied exactly
//! once (replayed and concurrent), match pages, history and the timeline.

use crate::matches_support::*;
use reqwest::{Method, StatusCode};
use rh_tests::{assert_problem, spawn_app};
use serde_json::{json, Value};

// ---- signatures ---------------------------------------------------------------------

#[tokio::test]
async fn server_routes_refuse_missing_forged_stale_future_and_replayed_signatures() {
    let app = spawn_app().await;
    let p = players(&app, 2, "eu").await;
    let body = json!({"mode": "1v1", "region": "eu", "teams": [[p[0].id], [p[1].id]]});
    let path = "/api/v1/matches";
    let now = now_unix();

    // No signature at all.
    let resp = app.post_json(path, &body).await;
    assert_problem(resp, StatusCode::UNAUTHORIZED).await;
    // A player's Bearer token is not a game server.
    let resp = app.post_json_auth(path, &p[0].access_token, &body).await;
    assert_problem(resp, StatusCode::UNAUTHORIZED).await;
    // Signed with another key.
    let resp = signed_at(
        &app,
        "not-the-game-server-key",
        now,
        Method::POST,
        path,
        Some(&body),
    )
    .await;
    assert_problem(resp, StatusCode::UNAUTHORIZED).await;
    // Older than 300 s.
    let resp = signed_at(
        &app,
        &app.game_server_key,
        now - 301,
        Method::POST,
        path,
        Some(&body),
    )
    .await;
    assert_problem(resp, StatusCode::UNAUTHORIZED).await;
    // From the future.
    let resp = signed_at(
        &app,
        &app.game_server_key,
        now + 60,
        Method::POST,
        path,
        Some(&body),
    )
    .await;
    assert_problem(resp, StatusCode::UNAUTHORIZED).await;
    // Signature over another body.
    let ts = now - 7;
    let sig = sign(&app.game_server_key, ts, "POST", path, b"{}");
    let resp = app
        .request(Method::POST, path, None)
        .header("x-rh-timestamp", ts.to_string())
        .header("x-rh-signature", sig)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_problem(resp, StatusCode::UNAUTHORIZED).await;

    // A good signature works; the same request again is the same call: it gets the
    // original answer (issue 14), never a second match.
    let ts = now - 3;
    let first = signed_at(
        &app,
        &app.game_server_key,
        ts,
        Method::POST,
        path,
        Some(&body),
    )
    .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first: Value = first.json().await.unwrap();
    let again = signed_at(
        &app,
        &app.game_server_key,
        ts,
        Method::POST,
        path,
        Some(&body),
    )
    .await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["idempotent-replayed"], "true");
    assert_eq!(again.json::<Value>().await.unwrap(), first);
}

#[tokio::test]
async fn result_and_timeline_routes_need_a_signature_too() {
    let app = spawn_app().await;
    let p = players(&app, 2, "eu").await;
    let teams = vec![vec![p[0].id], vec![p[1].id]];
    let id = create_match(&app, "1v1", "eu", &teams).await["id"]
        .as_u64()
        .unwrap();

    let resp = app
        .request(
            Method::PUT,
            &format!("/api/v1/matches/{id}/result"),
            Some(&p[0].access_token),
        )
        .json(&result_body(&teams, Some(0), 1))
        .send()
        .await
        .unwrap();
    assert_problem(resp, StatusCode::UNAUTHORIZED).await;
    let resp = app
        .post_json_auth(
            &format!("/api/v1/matches/{id}/events"),
            &p[0].access_token,
            &json!({"type": "kill", "at_ms": 1, "data": {}}),
        )
        .await;
    assert_problem(resp, StatusCode::UNAUTHORIZED).await;
    // Nothing was applied.
    assert_eq!(stats(&app, p[0].id, "1v1").await, None);
}

// ---- creating matches ----------------------------------------------------------------

#[tokio::test]
async fn creating_a_match_answers_201_pending_with_the_roster() {
    let app = spawn_app().await;
    let p = players(&app, 4, "na").await;
    let teams = vec![vec![p[0].id, p[1].id], vec![p[2].id, p[3].id]];

    let body = create_match(&app, "2v2", "na", &teams).await;

    assert!(body["id"].as_u64().is_some(), "{body}");
    assert_eq!(body["mode"], "2v2");
    assert_eq!(body["region"], "na");
    assert_eq!(body["status"], "pending");
    assert_eq!(body["teams"], json!(teams));
    assert!(body["created_at"].as_i64().unwrap() > 0);

    let got: Value = app
        .get(&format!("/api/v1/matches/{}", body["id"]))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["status"], "pending");
    assert_eq!(got["teams"], json!(teams));
    assert_eq!(got["participants"].as_array().unwrap().len(), 4);
}

#[tokio::test]
async fn bad_rosters_modes_regions_and_users_are_422() {
    let app = spawn_app().await;
    let p = players(&app, 3, "eu").await;
    let (a, b, c) = (p[0].id, p[1].id, p[2].id);
    let cases = [
        json!({"mode": "9v9", "region": "eu", "teams": [[a], [b]]}),
        json!({"mode": "1v1", "region": "mars", "teams": [[a], [b]]}),
        json!({"mode": "1v1", "region": "eu", "teams": [[a, c], [b]]}),
        json!({"mode": "1v1", "region": "eu", "teams": [[a], [b], [c]]}),
        json!({"mode": "1v1", "region": "eu", "teams": [[a], [a]]}),
        json!({"mode": "1v1", "region": "eu", "teams": [[a], [999_999_999]]}),
        json!({"mode": "2v2", "region": "eu", "teams": [[a, b], [c]]}),
    ];
    for body in cases {
        let resp = signed(&app, Method::POST, "/api/v1/matches", Some(&body)).await;
        let problem = assert_problem(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
        assert!(
            problem["detail"].is_string() || problem["errors"].is_array(),
            "{body} → {problem}"
        );
        // The problem names what is wrong: the mode, the region, the unknown user.
        for named in ["9v9", "mars", "999999999"] {
            if body.to_string().contains(named) {
                assert!(problem.to_string().contains(named), "{body} → {problem}");
            }
        }
    }
}

// ---- results -------------------------------------------------------------------------

#[tokio::test]
async fn a_result_updates_ratings_and_stats_and_a_replay_returns_the_same_body() {
    let app = spawn_app().await;
    let p = players(&app, 2, "eu").await;
    let teams = vec![vec![p[0].id], vec![p[1].id]];
    let id = create_match(&app, "1v1", "eu", &teams).await["id"]
        .as_u64()
        .unwrap();
    let body = result_body(&teams, Some(0), 4);

    let first = put_result(&app, id, &body).await;
    assert_eq!(first.status(), StatusCode::OK);
    let first: Value = first.json().await.unwrap();

    assert_eq!(first["match"]["status"], "completed");
    assert_eq!(first["match"]["winner_team"], 0);
    let changes = first["rating_changes"].as_array().unwrap();
    let change = |u: u64| changes.iter().find(|c| c["user_id"] == u).unwrap().clone();
    assert_eq!(change(p[0].id)["mmr_before"], 1500);
    assert_eq!(change(p[1].id)["mmr_before"], 1500);
    let winner_after = change(p[0].id)["mmr_after"].as_i64().unwrap();
    let loser_after = change(p[1].id)["mmr_after"].as_i64().unwrap();
    assert!(winner_after > 1500 && loser_after < 1500, "{first}");
    assert_eq!(
        stats(&app, p[0].id, "1v1").await,
        Some((winner_after as i32, 1, 0, 0, 1, 1))
    );
    assert_eq!(
        stats(&app, p[1].id, "1v1").await,
        Some((loser_after as i32, 0, 1, 0, 1, -1))
    );

    // The same result again (freshly signed): 200, the same body, nothing applied twice.
    let again = put_result(&app, id, &body).await;
    assert_eq!(again.status(), StatusCode::OK);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again, first);
    assert_eq!(
        stats(&app, p[0].id, "1v1").await.unwrap().4,
        1,
        "games counted once"
    );

    // The same result with participants in another order is still the same result.
    let mut reordered = body.clone();
    reordered["participants"].as_array_mut().unwrap().reverse();
    let resp = put_result(&app, id, &reordered).await;
    assert_eq!(resp.status(), StatusCode::OK);

    // A different result for the completed match is a conflict.
    let resp = put_result(&app, id, &result_body(&teams, Some(1), 4)).await;
    assert_problem(resp, StatusCode::CONFLICT).await;
    assert_eq!(
        stats(&app, p[1].id, "1v1").await.unwrap().1,
        0,
        "loser has no win"
    );
}

#[tokio::test]
async fn two_concurrent_submissions_apply_once() {
    let app = spawn_app().await;
    let p = players(&app, 4, "eu").await;
    let teams = vec![vec![p[0].id, p[1].id], vec![p[2].id, p[3].id]];
    let id = create_match(&app, "2v2", "eu", &teams).await["id"]
        .as_u64()
        .unwrap();
    let body = result_body(&teams, Some(1), 2);

    let (a, b) = tokio::join!(put_result(&app, id, &body), put_result(&app, id, &body));

    assert_eq!(a.status(), StatusCode::OK);
    assert_eq!(b.status(), StatusCode::OK);
    let (a, b): (Value, Value) = (a.json().await.unwrap(), b.json().await.unwrap());
    assert_eq!(a, b);
    for u in &p {
        assert_eq!(
            stats(&app, u.id, "2v2").await.unwrap().4,
            1,
            "one game for {}",
            u.id
        );
    }
}

#[tokio::test]
async fn two_concurrent_different_results_one_wins_the_other_conflicts() {
    let app = spawn_app().await;
    let p = players(&app, 2, "eu").await;
    let teams = vec![vec![p[0].id], vec![p[1].id]];
    let id = create_match(&app, "1v1", "eu", &teams).await["id"]
        .as_u64()
        .unwrap();

    let (zero_wins, one_wins) = (
        result_body(&teams, Some(0), 1),
        result_body(&teams, Some(1), 1),
    );
    let (a, b) = tokio::join!(
        put_result(&app, id, &zero_wins),
        put_result(&app, id, &one_wins)
    );

    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
    let (s0, s1) = (
        stats(&app, p[0].id, "1v1").await.unwrap(),
        stats(&app, p[1].id, "1v1").await.unwrap(),
    );
    assert_eq!(s0.1 + s1.1, 1, "exactly one win applied");
    assert_eq!((s0.4, s1.4), (1, 1));
}

#[tokio::test]
async fn a_draw_counts_as_a_draw_and_resets_streaks() {
    let app = spawn_app().await;
    let p = players(&app, 2, "sa").await;
    let teams = vec![vec![p[0].id], vec![p[1].id]];

    let body = play(&app, "1v1", "sa", &teams, None).await;

    assert_eq!(body["match"]["winner_team"], Value::Null);
    for u in &p {
        let (mmr, wins, losses, draws, games, streak) = stats(&app, u.id, "1v1").await.unwrap();
        assert_eq!((wins, losses, draws, games, streak), (0, 0, 1, 1, 0));
        assert!(
            (mmr - 1500).abs() <= 2,
            "a draw between equals changes little: {mmr}"
        );
    }
    let results: Vec<&str> = body["match"]["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["result"].as_str().unwrap())
        .collect();
    assert_eq!(results, ["draw", "draw"]);
}

#[tokio::test]
async fn results_for_unknown_matches_or_other_players_are_refused() {
    let app = spawn_app().await;
    let p = players(&app, 3, "eu").await;
    let teams = vec![vec![p[0].id], vec![p[1].id]];

    let resp = put_result(&app, 987_654_321, &result_body(&teams, Some(0), 1)).await;
    assert_problem(resp, StatusCode::NOT_FOUND).await;

    let id = create_match(&app, "1v1", "eu", &teams).await["id"]
        .as_u64()
        .unwrap();
    let wrong = vec![vec![p[0].id], vec![p[2].id]];
    let resp = put_result(&app, id, &result_body(&wrong, Some(0), 1)).await;
    assert_problem(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    let missing =
        json!({"winner_team": 0, "duration_s": 60, "participants": [{"user_id": p[0].id}]});
    let resp = put_result(&app, id, &missing).await;
    assert_problem(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    let resp = put_result(&app, id, &result_body(&teams, Some(2), 1)).await;
    assert_problem(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    // Still pending, nothing applied.
    let got: Value = app
        .get(&format!("/api/v1/matches/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(got["status"], "pending");
    assert_eq!(stats(&app, p[0].id, "1v1").await, None);
}

// ---- reads ---------------------------------------------------------------------------

#[tokio::test]
async fn the_match_page_shows_participants_and_their_stats() {
    let app = spawn_app().await;
    let p = players(&app, 2, "eu").await;
    let teams = vec![vec![p[0].id], vec![p[1].id]];
    let played = play(&app, "1v1", "eu", &teams, Some(1)).await;
    let id = played["match"]["id"].as_u64().unwrap();

    let resp = app.get(&format!("/api/v1/matches/{id}")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let got: Value = resp.json().await.unwrap();

    assert_eq!(got, played["match"]);
    let winner = got["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["user_id"] == p[1].id)
        .unwrap();
    assert_eq!(winner["result"], "win");
    assert_eq!(winner["kills"], 3);
    assert_eq!(winner["hero"], "ranger");
    assert_eq!(got["duration_s"], 900);

    assert_problem(
        app.get("/api/v1/matches/999999999").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_problem(app.get("/api/v1/matches/abc").await, StatusCode::NOT_FOUND).await;
}

#[tokio::test]
async fn history_is_newest_first_and_cursor_paginated() {
    let app = spawn_app().await;
    let p = players(&app, 2, "asia").await;
    let teams = vec![vec![p[0].id], vec![p[1].id]];
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(
            play(&app, "1v1", "asia", &teams, Some(0)).await["match"]["id"]
                .as_u64()
                .unwrap(),
        );
    }
    ids.reverse();

    let page1: Value = app
        .get(&format!("/api/v1/users/{}/matches?limit=2", p[0].id))
        .await
        .json()
        .await
        .unwrap();
    let got: Vec<u64> = page1["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_u64().unwrap())
        .collect();
    assert_eq!(got, ids[..2]);
    assert_eq!(page1["next_before"], ids[1]);
    assert_eq!(page1["matches"][0]["result"], "win");

    let page2: Value = app
        .get(&format!(
            "/api/v1/users/{}/matches?limit=2&before={}",
            p[0].id, ids[1]
        ))
        .await
        .json()
        .await
        .unwrap();
    let got: Vec<u64> = page2["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_u64().unwrap())
        .collect();
    assert_eq!(got, ids[2..]);
    assert_eq!(page2["next_before"], Value::Null);

    assert_problem(
        app.get(&format!("/api/v1/users/{}/matches?limit=0", p[0].id))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_problem(
        app.get("/api/v1/users/999999999/matches").await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn timeline_events_are_appended_and_read_in_order() {
    let app = spawn_app().await;
    let p = players(&app, 2, "eu").await;
    let teams = vec![vec![p[0].id], vec![p[1].id]];
    let id = create_match(&app, "1v1", "eu", &teams).await["id"]
        .as_u64()
        .unwrap();
    let path = format!("/api/v1/matches/{id}/events");

    for (kind, at) in [("spawn", 0), ("kill", 1500), ("objective", 4000)] {
        let body = json!({"type": kind, "at_ms": at, "data": {"by": p[0].id}});
        let resp = signed(&app, Method::POST, &path, Some(&body)).await;
        assert_eq!(resp.status(), StatusCode::CREATED);
        let stored: Value = resp.json().await.unwrap();
        assert_eq!(stored["type"], kind);
    }

    let got: Value = app.get(&path).await.json().await.unwrap();
    let kinds: Vec<&str> = got["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["spawn", "kill", "objective"]);
    assert_eq!(got["events"][1]["data"]["by"], p[0].id);

    let resp = signed(
        &app,
        Method::POST,
        "/api/v1/matches/999999999/events",
        Some(&json!({"type": "kill", "at_ms": 1})),
    )
    .await;
    assert_problem(resp, StatusCode::NOT_FOUND).await;
    assert_problem(
        app.get("/api/v1/matches/999999999/events").await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn history_and_the_match_page_carry_mu_and_sigma_for_rating_charts() {
    let app = spawn_app().await;
    let p = players(&app, 2, "oce").await;
    let teams = vec![vec![p[0].id], vec![p[1].id]];
    let id = play(&app, "1v1", "oce", &teams, Some(0)).await["match"]["id"]
        .as_u64()
        .unwrap();

    let page: Value = app
        .get(&format!("/api/v1/users/{}/matches", p[0].id))
        .await
        .json()
        .await
        .unwrap();
    let m = &page["matches"][0];
    assert_eq!(m["id"], id);
    let (mu0, mu1) = (
        m["mu_before"].as_f64().unwrap(),
        m["mu_after"].as_f64().unwrap(),
    );
    let (s0, s1) = (
        m["sigma_before"].as_f64().unwrap(),
        m["sigma_after"].as_f64().unwrap(),
    );
    assert!(mu1 > mu0, "a win raises mu: {m}");
    assert!(s1 < s0, "a game shrinks sigma: {m}");
    // mmr is mu on the display scale (rh_domain::rating::mmr_from_mu).
    assert_eq!(m["mmr_after"], rh_domain::rating::mmr_from_mu(mu1));

    let got: Value = app
        .get(&format!("/api/v1/matches/{id}"))
        .await
        .json()
        .await
        .unwrap();
    let loser = got["participants"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["user_id"] == p[1].id)
        .unwrap();
    assert!(loser["mu_after"].as_f64().unwrap() < loser["mu_before"].as_f64().unwrap());
    assert!(loser["sigma_after"].as_f64().unwrap() > 0.0);
}
