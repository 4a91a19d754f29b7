//! Helpers shared by the matches, rankings and feed test binaries: signing game-server
//! requests, creating matches and posting results.
#![allow(dead_code)]

use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use reqwest::{Method, Response, StatusCode};
use rh_tests::{TestApp, TestUser};
use serde_json::{json, Value};
use sha2::Sha256;

pub fn now_unix() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// Lowercase hex HMAC-SHA256 over "{timestamp}.{METHOD}.{path}.{body}".
pub fn sign(key: &str, ts: i64, method: &str, path: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(format!("{ts}.{method}.{path}.").as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The signature of a request carrying `Idempotency-Key: {idem}` (rh-infra's
/// server_sig: `"idempotency-key:{idem}\n"` before the plain form).
pub fn sign_idem(key: &str, idem: &str, ts: i64, method: &str, path: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(format!("idempotency-key:{idem}\n{ts}.{method}.{path}.").as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// Sends exactly `body` signed with the game-server key at `ts`, with an
/// `Idempotency-Key` when `idem` is given: what a game server retrying byte for byte
/// sends again.
pub async fn send_signed(
    app: &TestApp,
    ts: i64,
    idem: Option<&str>,
    method: Method,
    path: &str,
    body: &[u8],
) -> Response {
    let key = &app.game_server_key;
    let sig = match idem {
        Some(k) => sign_idem(key, k, ts, method.as_str(), path, body),
        None => sign(key, ts, method.as_str(), path, body),
    };
    let mut req = app
        .request(method, path, None)
        .header("x-rh-timestamp", ts.to_string())
        .header("x-rh-signature", sig)
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(k) = idem {
        req = req.header("idempotency-key", k);
    }
    req.send().await.unwrap()
}

/// Sends a request signed with `key` at `ts`.
pub async fn signed_at(
    app: &TestApp,
    key: &str,
    ts: i64,
    method: Method,
    path: &str,
    body: Option<&Value>,
) -> Response {
    let bytes = body
        .map(|b| serde_json::to_vec(b).unwrap())
        .unwrap_or_default();
    let sig = sign(key, ts, method.as_str(), path, &bytes);
    let mut req = app
        .request(method, path, None)
        .header("x-rh-timestamp", ts.to_string())
        .header("x-rh-signature", sig);
    if body.is_some() {
        req = req.header("content-type", "application/json").body(bytes);
    }
    req.send().await.unwrap()
}

/// Signing timestamps for one test process: each call gets a distinct second (going
/// back from now, within the 300 s window), so two requests with the same body rarely
/// share a signature (a reused signature is the same call: it gets the first answer).
pub fn fresh_ts() -> i64 {
    use std::sync::atomic::{AtomicI64, Ordering};
    static OFFSET: AtomicI64 = AtomicI64::new(0);
    now_unix() - (OFFSET.fetch_add(1, Ordering::Relaxed) % 200)
}

/// A correctly signed game-server request.
pub async fn signed(app: &TestApp, method: Method, path: &str, body: Option<&Value>) -> Response {
    signed_at(app, &app.game_server_key, fresh_ts(), method, path, body).await
}

/// Registers `n` players in `region`.
pub async fn players(app: &TestApp, n: usize, region: &str) -> Vec<TestUser> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let suffix = rh_tests::unique_suffix();
        out.push(
            app.register_user_as(
                &format!("m_{suffix}@example.com"),
                &format!("m_{suffix}"),
                "correct horse battery",
                region,
            )
            .await,
        );
    }
    out
}

/// Creates a match (asserting 201) and returns its body.
pub async fn create_match(app: &TestApp, mode: &str, region: &str, teams: &[Vec<u64>]) -> Value {
    let resp = signed(
        app,
        Method::POST,
        "/api/v1/matches",
        Some(&json!({"mode": mode, "region": region, "teams": teams})),
    )
    .await;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    assert_eq!(status, StatusCode::CREATED, "create match: {body}");
    body
}

/// The result body for a roster, everyone with `kills` kills.
pub fn result_body(teams: &[Vec<u64>], winner: Option<u8>, kills: u32) -> Value {
    let participants: Vec<Value> = teams
        .iter()
        .flatten()
        .map(|u| json!({"user_id": u, "kills": kills, "deaths": 1, "assists": 2, "hero": "ranger"}))
        .collect();
    json!({"winner_team": winner, "duration_s": 900, "participants": participants})
}

pub async fn put_result(app: &TestApp, match_id: u64, body: &Value) -> Response {
    signed(
        app,
        Method::PUT,
        &format!("/api/v1/matches/{match_id}/result"),
        Some(body),
    )
    .await
}

/// Creates and completes a match; returns the 200 body.
pub async fn play(
    app: &TestApp,
    mode: &str,
    region: &str,
    teams: &[Vec<u64>],
    winner: Option<u8>,
) -> Value {
    let created = create_match(app, mode, region, teams).await;
    let id = created["id"].as_u64().unwrap();
    let resp = put_result(app, id, &result_body(teams, winner, 3)).await;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    assert_eq!(status, StatusCode::OK, "result: {body}");
    body
}

/// One row of user_stats: (mmr, wins, losses, draws, games, streak).
pub async fn stats(
    app: &TestApp,
    user_id: u64,
    mode: &str,
) -> Option<(i32, u32, u32, u32, u32, i32)> {
    use mysql_async::prelude::Queryable;
    let mut conn = app.db.get_conn().await.unwrap();
    conn.exec_first(
        "SELECT mmr, wins, losses, draws, games, streak FROM user_stats WHERE user_id = ? AND mode = ?",
        (user_id, mode),
    )
    .await
    .unwrap()
}
