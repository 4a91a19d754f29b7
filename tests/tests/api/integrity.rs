//! Issue 14, points 1 to 3: safe retries of signed calls, replay protection and token
//! revocation that survive Redis losing its data.
//!
//! Retries run on the shared app. Tests that flush or restart Redis run a dedicated app
//! on a `redis-server` of their own ([`PrivateRedis`]), never the shared one.

use crate::matches_support::*;
use fred::prelude::*;
use mysql_async::prelude::Queryable;
use reqwest::{Method, Response, StatusCode};
use rh_tests::private_redis::PrivateRedis;
use rh_tests::{assert_problem, spawn_app, spawn_app_with, TestApp, TestUser};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

const MATCHES: &str = "/api/v1/matches";

/// Matches `user` takes part in, as MySQL has them.
async fn matches_of(app: &TestApp, user: u64) -> u64 {
    let mut conn = app.db.get_conn().await.unwrap();
    conn.exec_first(
        "SELECT COUNT(*) FROM match_participants WHERE user_id = ?",
        (user,),
    )
    .await
    .unwrap()
    .unwrap_or(0)
}

fn replayed(resp: &Response) -> bool {
    resp.headers()
        .get("idempotent-replayed")
        .is_some_and(|v| v == "true")
}

fn roster(p: &[TestUser]) -> Vec<u8> {
    serde_json::to_vec(&json!({"mode": "1v1", "region": "eu", "teams": [[p[0].id], [p[1].id]]}))
        .unwrap()
}

async fn admin(app: &TestApp) -> TestUser {
    let user = app.register_user().await;
    let mut conn = app.db.get_conn().await.unwrap();
    conn.exec_drop("UPDATE users SET role = 'admin' WHERE id = ?", (user.id,))
        .await
        .unwrap();
    user
}

// ---- 1. retries return the original answer ------------------------------------------

#[tokio::test]
async fn a_byte_for_byte_retry_of_a_create_returns_the_original_match_and_creates_nothing() {
    let app = spawn_app().await;
    let p = players(&app, 2, "eu").await;
    let body = roster(&p);
    let ts = now_unix();

    let first = send_signed(&app, ts, None, Method::POST, MATCHES, &body).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(!replayed(&first));
    let first = first.bytes().await.unwrap();

    // The game server timed out and sends the very same bytes again, twice.
    for _ in 0..2 {
        let again = send_signed(&app, ts, None, Method::POST, MATCHES, &body).await;
        assert_eq!(again.status(), StatusCode::CREATED);
        assert!(replayed(&again), "the answer says it is a replay");
        assert_eq!(again.bytes().await.unwrap(), first, "byte for byte");
    }
    assert_eq!(matches_of(&app, p[0].id).await, 1, "one match, not three");
}

#[tokio::test]
async fn a_byte_for_byte_retry_of_a_result_returns_the_original_answer() {
    let app = spawn_app().await;
    let p = players(&app, 2, "eu").await;
    let teams = vec![vec![p[0].id], vec![p[1].id]];
    let id = create_match(&app, "1v1", "eu", &teams).await["id"]
        .as_u64()
        .unwrap();
    let path = format!("/api/v1/matches/{id}/result");
    let body = serde_json::to_vec(&result_body(&teams, Some(0), 3)).unwrap();
    let ts = now_unix();

    let first = send_signed(&app, ts, None, Method::PUT, &path, &body).await;
    assert_eq!(first.status(), StatusCode::OK);
    let first = first.bytes().await.unwrap();
    let again = send_signed(&app, ts, None, Method::PUT, &path, &body).await;
    assert_eq!(again.status(), StatusCode::OK);
    assert!(replayed(&again));
    assert_eq!(again.bytes().await.unwrap(), first);
    // Applied once.
    assert_eq!(stats(&app, p[0].id, "1v1").await.unwrap().4, 1);
}

#[tokio::test]
async fn an_idempotency_key_outlives_its_signature_and_refuses_another_request() {
    let app = spawn_app().await;
    let p = players(&app, 2, "eu").await;
    let key = format!("create-{}", rh_tests::unique_suffix());
    let body = roster(&p);
    let ts = now_unix();

    let first = send_signed(&app, ts, Some(&key), Method::POST, MATCHES, &body).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first = first.bytes().await.unwrap();
    // A retry signed afresh (a new timestamp, so another signature) with the same key.
    let again = send_signed(&app, ts - 1, Some(&key), Method::POST, MATCHES, &body).await;
    assert_eq!(again.status(), StatusCode::CREATED);
    assert!(replayed(&again));
    assert_eq!(again.bytes().await.unwrap(), first);
    assert_eq!(matches_of(&app, p[0].id).await, 1);

    // The same key with another body is refused, and creates nothing.
    let q = players(&app, 2, "eu").await;
    let other = send_signed(&app, ts - 2, Some(&key), Method::POST, MATCHES, &roster(&q)).await;
    let problem = assert_problem(other, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(problem.to_string().contains("idempotency-key"), "{problem}");
    assert_eq!(matches_of(&app, q[0].id).await, 0);

    // The key is signed: sent without its header, the signature does not verify.
    let sig = sign_idem(&app.game_server_key, &key, ts, "POST", MATCHES, &body);
    let stripped = app
        .request(Method::POST, MATCHES, None)
        .header("x-rh-timestamp", ts.to_string())
        .header("x-rh-signature", sig)
        .body(body.clone())
        .send()
        .await
        .unwrap();
    assert_problem(stripped, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn a_repeat_while_the_first_call_runs_is_a_409_and_runs_nothing() {
    let app = spawn_app().await;
    let p = players(&app, 2, "eu").await;
    let key = format!("running-{}", rh_tests::unique_suffix());
    let body = roster(&p);
    // What the first attempt's claim looks like while it runs (rh-infra's idempotency).
    let record = format!("idem:{}", hex::encode(Sha256::digest(format!("key:{key}"))));
    let mut fp = Sha256::new();
    fp.update(b"POST\n/api/v1/matches\n");
    fp.update(&body);
    let claim = format!("run|{}", hex::encode(fp.finalize()));
    let _: () = app
        .redis
        .set(&record, claim, Some(Expiration::PX(60_000)), None, false)
        .await
        .unwrap();

    let resp = send_signed(&app, now_unix(), Some(&key), Method::POST, MATCHES, &body).await;
    assert_problem(resp, StatusCode::CONFLICT).await;
    assert_eq!(matches_of(&app, p[0].id).await, 0);
    // Another body under the running key is still another request.
    let q = players(&app, 2, "eu").await;
    let resp = send_signed(
        &app,
        now_unix(),
        Some(&key),
        Method::POST,
        MATCHES,
        &roster(&q),
    )
    .await;
    assert_problem(resp, StatusCode::UNPROCESSABLE_ENTITY).await;

    // Once the first attempt is gone (crashed: its claim expired), the retry runs.
    let _: i64 = app.redis.del(&record).await.unwrap();
    let resp = send_signed(
        &app,
        now_unix() - 1,
        Some(&key),
        Method::POST,
        MATCHES,
        &body,
    )
    .await;
    assert_eq!(resp.status(), StatusCode::CREATED);
    assert_eq!(matches_of(&app, p[0].id).await, 1);
}

// ---- 2. durable: a replay after Redis lost everything --------------------------------

/// A dedicated app on a Redis of its own, which the test may flush or restart.
/// (`TestApp::redis` is the shared Redis: never flush through it.)
async fn app_on_private_redis() -> (TestApp, PrivateRedis) {
    let redis = PrivateRedis::start();
    let app = spawn_app_with(&[("redis_host", &redis.host())]).await;
    (app, redis)
}

/// FLUSHALL on the private Redis only.
async fn flushall(redis: &PrivateRedis) {
    let url = format!("redis://{}/{}", redis.host(), rh_tests::TEST_REDIS_DB);
    let client = Client::new(Config::from_url(&url).unwrap(), None, None, None);
    client
        .init()
        .await
        .expect("connecting to the private Redis");
    let _: () = client.flushall(false).await.unwrap();
    let _ = client.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_flushall_a_replayed_create_returns_the_original_match_and_creates_nothing() {
    let (app, redis) = app_on_private_redis().await;
    let p = players(&app, 2, "eu").await;
    let body = roster(&p);
    let ts = now_unix();
    let key = format!("flush-{}", rh_tests::unique_suffix());
    let q = players(&app, 2, "eu").await;
    let keyed_body = roster(&q);

    let first = send_signed(&app, ts, None, Method::POST, MATCHES, &body).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let first = first.bytes().await.unwrap();
    let keyed = send_signed(&app, ts, Some(&key), Method::POST, MATCHES, &keyed_body).await;
    assert_eq!(keyed.status(), StatusCode::CREATED);
    let keyed = keyed.bytes().await.unwrap();
    let id = serde_json::from_slice::<Value>(&first).unwrap()["id"]
        .as_u64()
        .unwrap();
    // A timeline event (create-type too).
    let event_path = format!("/api/v1/matches/{id}/events");
    let event = serde_json::to_vec(&json!({"type": "kill", "at_ms": 5, "data": {}})).unwrap();
    let stored = send_signed(&app, ts, None, Method::POST, &event_path, &event).await;
    assert_eq!(stored.status(), StatusCode::CREATED);
    let stored = stored.bytes().await.unwrap();

    // Redis loses everything.
    flushall(&redis).await;

    // The captured requests replayed: the original answers, nothing created.
    let replay = send_signed(&app, ts, None, Method::POST, MATCHES, &body).await;
    assert_eq!(replay.status(), StatusCode::CREATED);
    assert!(replayed(&replay));
    assert_eq!(replay.bytes().await.unwrap(), first);
    let replay = send_signed(&app, ts - 3, Some(&key), Method::POST, MATCHES, &keyed_body).await;
    assert_eq!(replay.status(), StatusCode::CREATED);
    assert_eq!(replay.bytes().await.unwrap(), keyed);
    let replay = send_signed(&app, ts, None, Method::POST, &event_path, &event).await;
    assert_eq!(replay.status(), StatusCode::CREATED);
    assert_eq!(replay.bytes().await.unwrap(), stored);
    assert_eq!(matches_of(&app, p[0].id).await, 1);
    assert_eq!(matches_of(&app, q[0].id).await, 1);
    let timeline: Value = app.get(&event_path).await.json().await.unwrap();
    assert_eq!(
        timeline["events"].as_array().unwrap().len(),
        1,
        "{timeline}"
    );

    // And once more, now answered from the record Redis got back.
    let replay = send_signed(&app, ts, None, Method::POST, MATCHES, &body).await;
    assert_eq!(replay.bytes().await.unwrap(), first);
    assert_eq!(matches_of(&app, p[0].id).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_result_replayed_after_flushall_is_answered_and_applied_once() {
    let (app, redis) = app_on_private_redis().await;
    let p = players(&app, 2, "eu").await;
    let teams = vec![vec![p[0].id], vec![p[1].id]];
    let id = create_match(&app, "1v1", "eu", &teams).await["id"]
        .as_u64()
        .unwrap();
    let path = format!("/api/v1/matches/{id}/result");
    let body = serde_json::to_vec(&result_body(&teams, Some(1), 2)).unwrap();
    let ts = now_unix();
    let first = send_signed(&app, ts, None, Method::PUT, &path, &body).await;
    assert_eq!(first.status(), StatusCode::OK);
    let first = first.bytes().await.unwrap();

    flushall(&redis).await;
    let replay = send_signed(&app, ts, None, Method::PUT, &path, &body).await;
    assert_eq!(replay.status(), StatusCode::OK);
    assert!(replayed(&replay));
    assert_eq!(replay.bytes().await.unwrap(), first);
    assert_eq!(stats(&app, p[1].id, "1v1").await.unwrap().4, 1, "one game");
}

// ---- 3. revocation that survives Redis loss -----------------------------------------

/// Revokes both ways a token can be: `user` logs out (its access token's id), `boss`
/// bans `banned` (a cut-off for every token issued before now).
async fn log_out_and_ban(app: &TestApp, boss: &TestUser, user: &TestUser, banned: &TestUser) {
    let resp = app
        .request(
            Method::POST,
            "/api/v1/auth/logout",
            Some(&user.access_token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = app
        .post_json_auth(
            &format!("/api/v1/admin/users/{}/ban", banned.id),
            &boss.access_token,
            &json!({"reason": "cheating"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_flushall_the_sidecar_still_refuses_revoked_tokens() {
    let (app, redis) = app_on_private_redis().await;
    let (ws_url, _stop) = crate::realtime::spawn_sidecar_on(&format!(
        "redis://{}/{}",
        redis.host(),
        rh_tests::TEST_REDIS_DB
    ))
    .await;
    let boss = admin(&app).await;
    let user = app.register_user().await;
    let banned = app.register_user().await;
    let fine = app.register_user().await;
    log_out_and_ban(&app, &boss, &user, &banned).await;
    let revoked = || Err(("token_revoked".to_owned(), 1008));
    assert_eq!(
        crate::realtime::ws_auth_outcome(&ws_url, &user.access_token).await,
        revoked()
    );

    // Redis loses every mark, and no API request runs to rebuild them: the sidecar alone
    // must not take a missing mark for a valid token.
    flushall(&redis).await;
    for (who, token) in [
        ("logged out", &user.access_token),
        ("banned", &banned.access_token),
    ] {
        assert_eq!(
            crate::realtime::ws_auth_outcome(&ws_url, token).await,
            revoked(),
            "{who}"
        );
    }
    assert_eq!(
        crate::realtime::ws_auth_outcome(&ws_url, &fine.access_token).await,
        Ok(())
    );
}

async fn me(app: &TestApp, token: &str) -> StatusCode {
    app.get_auth("/api/v1/users/me", token).await.status()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_revoked_before_a_redis_restart_stays_refused_after_it() {
    let (app, mut redis) = app_on_private_redis().await;
    let boss = admin(&app).await;
    let user = app.register_user().await;
    // A second session of the same user, which stays valid.
    let login: Value = app
        .login(&user.email, &user.password)
        .await
        .json()
        .await
        .unwrap();
    let other_session = login["access_token"].as_str().unwrap().to_owned();
    let banned = app.register_user().await;

    log_out_and_ban(&app, &boss, &user, &banned).await;
    assert_eq!(me(&app, &user.access_token).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        me(&app, &banned.access_token).await,
        StatusCode::UNAUTHORIZED
    );

    // Redis restarts empty: every revocation mark it held is gone.
    redis.start_again();

    // Both stay refused (MySQL decides until Redis is rebuilt), the others work.
    for round in 0..2 {
        assert_eq!(
            me(&app, &user.access_token).await,
            StatusCode::UNAUTHORIZED,
            "logged-out token, round {round}"
        );
        assert_eq!(
            me(&app, &banned.access_token).await,
            StatusCode::UNAUTHORIZED,
            "banned user's token, round {round}"
        );
        assert_eq!(me(&app, &other_session).await, StatusCode::OK);
        assert_eq!(me(&app, &boss.access_token).await, StatusCode::OK);
    }
    // The refresh token of the logged-out session stays dead too (MySQL only).
    let resp = app
        .post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": user.refresh_token}),
        )
        .await;
    assert_problem(resp, StatusCode::UNAUTHORIZED).await;
}
