//! `GET /api/v1/users/me/activity` through the real runtime: the caller's own audit
//! trail after the auth flows, newest first, cursor-paginated, nobody else's rows.

use reqwest::StatusCode;
use serde_json::{json, Value};

use rh_tests::{assert_problem, spawn_app};

fn actions(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn the_trail_shows_logins_and_failed_logins_newest_first() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let other = app.register_user().await;

    let failed = app.login(&user.email, "wrong password!!").await;
    assert_eq!(failed.status(), StatusCode::UNAUTHORIZED);
    let ok = app.login(&user.email, &user.password).await;
    assert_eq!(ok.status(), StatusCode::OK);
    let session: Value = ok.json().await.unwrap();
    // Revoking that session's tokens is in the trail too.
    let logout = app
        .post_json_auth(
            "/api/v1/auth/logout",
            session["access_token"].as_str().unwrap(),
            &json!({}),
        )
        .await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    // Someone else's failure is not in this trail.
    app.login(&other.email, "wrong password!!").await;

    let resp = app
        .get_auth("/api/v1/users/me/activity", &user.access_token)
        .await;

    assert_eq!(resp.status(), StatusCode::OK);
    let page: Value = resp.json().await.unwrap();
    let got = actions(&page);
    let login = got.iter().position(|a| a == "login").expect("login");
    let failed = got
        .iter()
        .position(|a| a == "login_failed")
        .expect("login_failed");
    assert!(login < failed, "newest first: {got:?}");
    assert_eq!(got[0], "logout", "newest first: {got:?}");
    let ids: Vec<u64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_u64().unwrap())
        .collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "{ids:?}");
    for e in page["items"].as_array().unwrap() {
        let mine = e["actor_id"] == user.id
            || (e["target_type"] == "user"
                && e["target_id"].as_str() == Some(user.id.to_string().as_str()));
        assert!(mine, "not the caller's row: {e}");
        assert!(e.get("before").is_none() && e.get("after").is_none());
    }
    assert!(page["items"][0]["created_at"].as_i64().unwrap() > 0);
}

#[tokio::test]
async fn the_trail_pages_with_a_cursor_and_includes_team_changes() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    app.login(&user.email, &user.password).await;
    let tag: String = rh_tests::unique_suffix()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(5)
        .collect::<String>()
        .to_uppercase();
    let resp = app
        .post_json_auth(
            "/api/v1/teams",
            &user.access_token,
            &json!({"name": format!("Trail {}", rh_tests::unique_suffix()), "tag": tag}),
        )
        .await;
    // A tag clash with an earlier run would only skip the team part of this test.
    let created_team = resp.status() == StatusCode::CREATED;

    let all: Value = app
        .get_auth("/api/v1/users/me/activity", &user.access_token)
        .await
        .json()
        .await
        .unwrap();
    let first: Value = app
        .get_auth("/api/v1/users/me/activity?limit=1", &user.access_token)
        .await
        .json()
        .await
        .unwrap();
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next cursor")
        .to_string();
    let second: Value = app
        .get_auth(
            &format!("/api/v1/users/me/activity?limit=1&cursor={cursor}"),
            &user.access_token,
        )
        .await
        .json()
        .await
        .unwrap();

    let all_actions = actions(&all);
    assert!(
        all_actions.contains(&"register".to_string()),
        "{all_actions:?}"
    );
    if created_team {
        assert_eq!(all_actions[0], "team_create", "{all_actions:?}");
    }
    assert_eq!(all["next_cursor"], Value::Null);
    assert_eq!(first["items"][0], all["items"][0]);
    assert_eq!(second["items"][0], all["items"][1]);
}

#[tokio::test]
async fn the_trail_needs_a_token_and_a_valid_cursor() {
    let app = spawn_app().await;
    let user = app.register_user().await;

    assert_problem(
        app.get("/api/v1/users/me/activity").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_problem(
        app.get_auth("/api/v1/users/me/activity?cursor=abc", &user.access_token)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_problem(
        app.get_auth("/api/v1/users/me/activity?limit=1000", &user.access_token)
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
}
