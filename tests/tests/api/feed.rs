//! Issue 5, feed, achievements and notifications written by result processing.

use crate::matches_support::*;
use mysql_async::prelude::Queryable;
use reqwest::StatusCode;
use rh_tests::{assert_problem, spawn_app};
use serde_json::Value;

#[tokio::test]
async fn a_completed_match_appears_in_the_feed_newest_first_and_old_events_are_gone() {
    let app = spawn_app().await;
    let p = players(&app, 2, "eu").await;
    // An event from eight days ago, written as the app would have.
    let eight_days_ms = 8 * 24 * 3600 * 1000;
    let now_ms = now_unix() * 1000;
    let mut conn = app.db.get_conn().await.unwrap();
    conn.exec_drop(
        "INSERT INTO feed_events (kind, user_id, payload, created_at_ms) VALUES ('match_completed', NULL, '{\"old\":true}', ?)",
        (now_ms - eight_days_ms,),
    )
    .await
    .unwrap();
    let old_id: u64 = conn
        .query_first("SELECT LAST_INSERT_ID()")
        .await
        .unwrap()
        .unwrap();

    let first = play(&app, "1v1", "eu", &[vec![p[0].id], vec![p[1].id]], Some(0)).await;
    let second = play(&app, "1v1", "eu", &[vec![p[0].id], vec![p[1].id]], Some(0)).await;

    let feed: Value = app
        .get("/api/v1/feed?limit=100")
        .await
        .json()
        .await
        .unwrap();
    let events = feed["events"].as_array().unwrap();
    let ids: Vec<u64> = events.iter().map(|e| e["id"].as_u64().unwrap()).collect();
    let mut sorted = ids.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(ids, sorted, "newest first");
    assert!(!ids.contains(&old_id), "events older than 7 days are gone");
    let completed = |match_id: &Value| {
        events
            .iter()
            .position(|e| e["kind"] == "match_completed" && e["data"]["match_id"] == *match_id)
    };
    let (a, b) = (
        completed(&first["match"]["id"]),
        completed(&second["match"]["id"]),
    );
    assert!(a.is_some() && b.is_some(), "{feed}");
    assert!(b < a, "the later match comes first");
    // The winner's first win is in the feed too.
    assert!(events.iter().any(|e| e["kind"] == "achievement_unlocked"
        && e["user_id"] == p[0].id
        && e["data"]["code"] == "first_win"));

    assert_problem(
        app.get("/api/v1/feed?limit=0").await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
}

#[tokio::test]
async fn achievements_unlock_once_during_results() {
    let app = spawn_app().await;
    let p = players(&app, 2, "eu").await;
    let teams = vec![vec![p[0].id], vec![p[1].id]];
    let created = create_match(&app, "1v1", "eu", &teams).await;
    let id = created["id"].as_u64().unwrap();
    // 100 kills in one match: first win and centurion at once.
    let body = result_body(&teams, Some(0), 100);
    assert_eq!(put_result(&app, id, &body).await.status(), StatusCode::OK);
    assert_eq!(put_result(&app, id, &body).await.status(), StatusCode::OK);
    play(&app, "1v1", "eu", &teams, Some(0)).await;

    let got: Value = app
        .get(&format!("/api/v1/users/{}/achievements", p[0].id))
        .await
        .json()
        .await
        .unwrap();
    let codes: Vec<&str> = got["achievements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    assert!(codes.contains(&"first_win"), "{got}");
    assert!(codes.contains(&"kills_100"), "{got}");
    assert_eq!(codes.iter().filter(|c| **c == "first_win").count(), 1);
    let first_win = got["achievements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["code"] == "first_win")
        .unwrap();
    assert_eq!(first_win["match_id"], id);
    assert!(first_win["name"].is_string());

    let loser: Value = app
        .get(&format!("/api/v1/users/{}/achievements", p[1].id))
        .await
        .json()
        .await
        .unwrap();
    let codes: Vec<&str> = loser["achievements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    assert!(!codes.contains(&"first_win"));
    assert!(codes.contains(&"kills_100"), "kills count for losers too");

    assert_problem(
        app.get("/api/v1/users/999999999/achievements").await,
        StatusCode::NOT_FOUND,
    )
    .await;
}

#[tokio::test]
async fn notifications_list_newest_first_with_unread_count_and_only_the_owner_marks_them() {
    let app = spawn_app().await;
    let p = players(&app, 2, "eu").await;
    let teams = vec![vec![p[0].id], vec![p[1].id]];
    play(&app, "1v1", "eu", &teams, Some(1)).await;
    play(&app, "1v1", "eu", &teams, Some(1)).await;

    let resp = app
        .get_auth("/api/v1/notifications", &p[0].access_token)
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let inbox: Value = resp.json().await.unwrap();
    let list = inbox["notifications"].as_array().unwrap();
    assert_eq!(list.len(), 2, "two match results for the loser: {inbox}");
    assert_eq!(inbox["unread"], 2);
    assert!(list[0]["id"].as_u64() > list[1]["id"].as_u64());
    assert!(list
        .iter()
        .all(|n| n["user_id"] == p[0].id && n["kind"] == "match_completed"));
    assert_eq!(list[0]["data"]["result"], "loss");

    // Another player cannot mark it (nor learn that it exists).
    let target = list[0]["id"].as_u64().unwrap();
    let path = format!("/api/v1/notifications/{target}/read");
    assert_problem(
        app.post_json_auth(&path, &p[1].access_token, &serde_json::json!({}))
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_problem(
        app.post_json(&path, &serde_json::json!({})).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let resp = app
        .post_json_auth(&path, &p[0].access_token, &serde_json::json!({}))
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);

    let inbox: Value = app
        .get_auth("/api/v1/notifications", &p[0].access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(inbox["unread"], 1);
    assert_eq!(inbox["notifications"][0]["read"], true);
    // The other player's inbox never shows it.
    let theirs: Value = app
        .get_auth("/api/v1/notifications?limit=100", &p[1].access_token)
        .await
        .json()
        .await
        .unwrap();
    assert!(!theirs["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["id"] == target));

    assert_problem(
        app.get("/api/v1/notifications").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
}
