//! The whole stack answers: the real runtime serving spin.toml's components, reaching
//! MariaDB and Redis through the variables the harness sets.

use reqwest::StatusCode;
use serde_json::Value;

#[tokio::test]
async fn health_reports_mysql_and_redis_ok() {
    let app = rh_tests::spawn_app().await;

    let resp = app.get("/health").await;

    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], "ok", "{body}");
    assert_eq!(body["mysql"], "ok", "{body}");
    assert_eq!(body["redis"], "ok", "{body}");
}

#[tokio::test]
async fn the_harness_reaches_the_test_database_and_redis_db_1() {
    use fred::prelude::ClientLike;
    use mysql_async::prelude::Queryable;
    let app = rh_tests::spawn_app().await;

    let mut conn = app.db.get_conn().await.unwrap();
    let db: Option<String> = conn.query_first("SELECT DATABASE()").await.unwrap();
    let modes: Vec<String> = conn
        .query("SELECT name FROM modes ORDER BY name")
        .await
        .unwrap();
    let pong: String = app.redis.ping(None).await.unwrap();

    assert_eq!(db, Some(rh_tests::test_db_name()));
    assert_eq!(modes, ["1v1", "2v2", "4v4"]);
    assert_eq!(pong, "PONG");
}

#[tokio::test]
async fn an_unknown_route_is_not_served() {
    let app = rh_tests::spawn_app().await;

    let resp = app.get("/no-such-route").await;

    // A problem+json 404 from the catch-all route, like every other error of the API.
    rh_tests::assert_problem(resp, StatusCode::NOT_FOUND).await;
}
