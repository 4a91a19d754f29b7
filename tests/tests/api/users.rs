//! `/api/v1/users/*` and `/health` through the real runtime and the `auth` component.

use mysql_async::prelude::Queryable;
use reqwest::StatusCode;
use rh_tests::problem::error_fields;
use rh_tests::{assert_problem, spawn_app, spawn_app_with, unique_suffix};
use serde_json::{json, Value};

#[tokio::test]
async fn me_returns_the_private_profile() {
    let app = spawn_app().await;
    let user = app.register_user().await;

    let resp = app.get_auth("/api/v1/users/me", &user.access_token).await;

    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["id"], user.id);
    assert_eq!(body["username"], user.username);
    assert_eq!(body["email"], user.email);
    assert_eq!(body["region"], "eu");
    assert_eq!(body["avatar_url"], Value::Null);
    assert_eq!(body["stats"], json!({}));
    assert!(body["created_at"].is_i64());
}

#[tokio::test]
async fn me_without_a_token_is_a_401_with_a_challenge() {
    let app = spawn_app().await;

    let resp = app.get("/api/v1/users/me").await;

    assert!(resp.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    assert_problem(resp, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn profiles_show_stats_for_each_mode_with_a_row() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let mut conn = app.db.get_conn().await.unwrap();
    conn.exec_drop(
        "INSERT INTO user_stats (user_id, mode, mmr, mu, sigma, wins, losses, draws, games, streak, \
         season_id, season_games, placed) \
         VALUES (?, '1v1', 1234, 27.5, 6.1, 3, 1, 0, 4, 2, \
         (SELECT id FROM seasons WHERE status = 'active'), 3, 1)",
        (user.id,),
    )
    .await
    .unwrap();
    let season: u64 = conn
        .query_first("SELECT id FROM seasons WHERE status = 'active'")
        .await
        .unwrap()
        .unwrap();

    let me: Value = app
        .get_auth("/api/v1/users/me", &user.access_token)
        .await
        .json()
        .await
        .unwrap();
    let public: Value = app
        .get(&format!("/api/v1/users/{}", user.id))
        .await
        .json()
        .await
        .unwrap();

    // Placed in the active season (3 of its games), so the tier shows.
    let expected = json!({"1v1": {
        "mmr": 1234, "wins": 3, "losses": 1, "draws": 0, "games": 4,
        "season_id": season, "season_games": 3, "placed": true, "placement_games_left": 0,
        "tier": "bronze",
    }});
    assert_eq!(me["stats"], expected);
    assert_eq!(public["stats"], expected);
}

#[tokio::test]
async fn the_public_profile_has_no_email() {
    let app = spawn_app().await;
    let user = app.register_user().await;

    let resp = app.get(&format!("/api/v1/users/{}", user.id)).await;

    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["id"], user.id);
    assert_eq!(body["username"], user.username);
    assert!(body.get("email").is_none(), "{body}");
    assert!(!body.to_string().contains(&user.email));
}

#[tokio::test]
async fn an_unknown_or_malformed_user_id_is_a_404() {
    let app = spawn_app().await;

    for path in [
        "/api/v1/users/999999999999",
        "/api/v1/users/abc",
        "/api/v1/users/-1",
    ] {
        assert_problem(app.get(path).await, StatusCode::NOT_FOUND).await;
    }
}

#[tokio::test]
async fn patch_me_updates_username_region_and_avatar() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    let new_name = format!("New_{}", unique_suffix());

    let resp = app
        .patch_json_auth(
            "/api/v1/users/me",
            &user.access_token,
            &json!({"username": new_name, "region": "ASIA", "avatar_url": "https://cdn.example.com/a.png"}),
        )
        .await;

    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["username"], new_name);
    assert_eq!(body["region"], "asia");
    assert_eq!(body["avatar_url"], "https://cdn.example.com/a.png");
    assert_eq!(body["email"], user.email);
    let again: Value = app
        .get_auth("/api/v1/users/me", &user.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again, body);
    // The lowercase copy follows, so the old name is free and the new one taken.
    let mut conn = app.db.get_conn().await.unwrap();
    let lower: Option<String> = conn
        .exec_first("SELECT username_lower FROM users WHERE id = ?", (user.id,))
        .await
        .unwrap();
    assert_eq!(lower.unwrap(), new_name.to_lowercase());
}

#[tokio::test]
async fn patch_me_with_null_avatar_clears_it_and_absent_fields_stay() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    app.patch_json_auth(
        "/api/v1/users/me",
        &user.access_token,
        &json!({"avatar_url": "https://x.example/a.png"}),
    )
    .await;

    let resp = app
        .patch_json_auth(
            "/api/v1/users/me",
            &user.access_token,
            &json!({"avatar_url": null}),
        )
        .await;

    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["avatar_url"], Value::Null);
    assert_eq!(body["username"], user.username);
    assert_eq!(body["region"], "eu");
}

#[tokio::test]
async fn patch_me_rejects_invalid_fields_with_422() {
    let app = spawn_app().await;
    let user = app.register_user().await;

    let resp = app
        .patch_json_auth(
            "/api/v1/users/me",
            &user.access_token,
            &json!({"username": "x!", "region": "moon", "avatar_url": "javascript:alert(1)"}),
        )
        .await;

    let problem = assert_problem(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    let mut fields = error_fields(&problem);
    fields.sort();
    assert_eq!(fields, ["avatar_url", "region", "username"]);
}

#[tokio::test]
async fn patch_me_to_a_taken_username_is_a_409() {
    let app = spawn_app().await;
    let alice = app.register_user().await;
    let bob = app.register_user().await;

    let resp = app
        .patch_json_auth(
            "/api/v1/users/me",
            &bob.access_token,
            &json!({"username": alice.username.to_uppercase()}),
        )
        .await;

    assert_problem(resp, StatusCode::CONFLICT).await;
}

#[tokio::test]
async fn patch_me_refuses_fields_it_cannot_change() {
    let app = spawn_app().await;
    let user = app.register_user().await;

    let resp = app
        .patch_json_auth(
            "/api/v1/users/me",
            &user.access_token,
            &json!({"email": "new@example.com"}),
        )
        .await;

    assert_problem(resp, StatusCode::BAD_REQUEST).await;
}

#[tokio::test]
async fn a_wrong_method_on_users_is_a_405() {
    let app = spawn_app().await;
    let user = app.register_user().await;

    let resp = app
        .delete_auth("/api/v1/users/me", &user.access_token)
        .await;

    let allow = resp.headers()["allow"].to_str().unwrap().to_string();
    assert!(allow.contains("GET") && allow.contains("PATCH"), "{allow}");
    assert_problem(resp, StatusCode::METHOD_NOT_ALLOWED).await;
}

#[tokio::test]
async fn health_is_ok_when_mysql_and_redis_answer() {
    let app = spawn_app().await;

    let resp = app.get("/health").await;

    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body, json!({"status": "ok", "mysql": "ok", "redis": "ok"}));
}

#[tokio::test]
async fn health_is_503_naming_what_is_down() {
    // Nothing listens on port 9 of loopback: both dependencies are "down".
    let app = spawn_app_with(&[("db_host", "127.0.0.1:9")]).await;
    let resp = app.get("/health").await;
    let problem = assert_problem(resp, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(problem["mysql"], "down");
    assert_eq!(problem["redis"], "ok");
    assert!(problem["detail"].as_str().unwrap().contains("mysql"));
    drop(app);

    let app = spawn_app_with(&[("redis_host", "127.0.0.1:9")]).await;
    let problem = assert_problem(app.get("/health").await, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(problem["mysql"], "ok");
    assert_eq!(problem["redis"], "down");
}
