//! Helpers shared by the matchmaking test binaries: joining, reading the queue state,
//! signed ticks, awaiting `match_found` events, and reading formed matches from MySQL.
#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use fred::prelude::*;
use hmac::{Hmac, Mac};
use mysql_async::prelude::Queryable;
use reqwest::StatusCode;
use rh_tests::{TestApp, TestUser};
use serde_json::{json, Value};
use sha2::Sha256;

pub const QUEUE: &str = "/api/v1/matchmaking/queue";
pub const TICK: &str = "/api/v1/matchmaking/tick";

/// The shared app, with the queues of `clear` emptied of what earlier runs left there
/// (the test database and Redis persist between runs). Each must be one of
/// [`rh_tests::TEST_REGIONS`], the shared app's regions.
pub async fn queue_app(clear: &[&str]) -> TestApp {
    for region in clear {
        assert!(
            rh_tests::TEST_REGIONS.split(',').any(|r| r == *region),
            "{region} is not in rh_tests::TEST_REGIONS"
        );
    }
    let app = rh_tests::spawn_app().await;
    for region in clear {
        for mode in ["1v1", "2v2", "4v4"] {
            let _: i64 = app
                .redis
                .del(format!("mm:queue:{mode}:{region}"))
                .await
                .unwrap();
        }
    }
    app
}

pub async fn join(app: &TestApp, user: &TestUser, body: Value) -> reqwest::Response {
    app.post_json_auth(QUEUE, &user.access_token, &body).await
}

pub async fn join_ok(app: &TestApp, user: &TestUser, mode: &str, region: &str) -> Value {
    let resp = join(app, user, json!({"mode": mode, "region": region})).await;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    assert_eq!(status, StatusCode::ACCEPTED, "join failed: {body}");
    body
}

pub async fn status(app: &TestApp, user: &TestUser) -> Value {
    let resp = app.get_auth(QUEUE, &user.access_token).await;
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

/// Runs one tick through the signed route; `use_lock: false` races claims directly.
pub async fn tick(app: &TestApp, use_lock: bool) -> Value {
    signed_tick(
        app.http.clone(),
        app.url(TICK),
        app.game_server_key.clone(),
        use_lock,
    )
    .await
}

pub async fn signed_tick(http: reqwest::Client, url: String, key: String, use_lock: bool) -> Value {
    let body = json!({"use_lock": use_lock, "request_id": rh_tests::unique_suffix()}).to_string();
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
    mac.update(format!("{ts}.POST.{TICK}.{body}").as_bytes());
    let sig = hex::encode(mac.finalize().into_bytes());
    let resp = http
        .post(url)
        .header("content-type", "application/json")
        .header("x-rh-timestamp", ts.to_string())
        .header("x-rh-signature", sig)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let outcome: Value = resp.json().await.unwrap_or(Value::Null);
    assert_eq!(status, StatusCode::OK, "tick failed: {outcome}");
    outcome
}

/// A subscriber on the players' `user:{id}` channels.
pub struct Events {
    pub client: fred::clients::SubscriberClient,
    pub rx: tokio::sync::broadcast::Receiver<fred::types::Message>,
}

impl Events {
    pub async fn subscribe(users: &[&TestUser]) -> Events {
        let redis_host = rh_tests::test_variables()["redis_host"].clone();
        let config = Config::from_url(&format!("redis://{redis_host}")).unwrap();
        let client = Builder::from_config(config)
            .build_subscriber_client()
            .unwrap();
        client.init().await.unwrap();
        let rx = client.message_rx();
        let channels: Vec<String> = users.iter().map(|u| format!("user:{}", u.id)).collect();
        client.subscribe(channels).await.unwrap();
        Events { client, rx }
    }

    /// The next `match_found` for each of `users` (panics after 15 s).
    pub async fn match_found(&mut self, users: &[&TestUser]) -> HashMap<u64, Value> {
        let wanted: HashSet<String> = users.iter().map(|u| format!("user:{}", u.id)).collect();
        let mut found = HashMap::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        while found.len() < wanted.len() {
            let msg = tokio::time::timeout_at(deadline, self.rx.recv())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "only {} of {} match_found events",
                        found.len(),
                        wanted.len()
                    )
                })
                .unwrap();
            let channel = msg.channel.to_string();
            let data: Value = serde_json::from_str(&msg.value.as_string().unwrap_or_default())
                .unwrap_or(Value::Null);
            if wanted.contains(&channel) && data["type"] == "match_found" {
                let id: u64 = channel.trim_start_matches("user:").parse().unwrap();
                assert!(
                    found.insert(id, data).is_none(),
                    "{channel} got two match_found events"
                );
            }
        }
        found
    }

    pub async fn close(self) {
        let _ = self.client.quit().await;
    }
}

/// (match id, user id, team) of every match in `region` that includes one of `users`
/// (earlier runs' matches stay in the test database), from MySQL.
pub async fn matches_in_region(
    app: &TestApp,
    region: &str,
    users: &[TestUser],
) -> Vec<(u64, u64, u8)> {
    let mut conn = app.db.get_conn().await.unwrap();
    let rows: Vec<(u64, u64, u8)> = conn
        .exec(
            "SELECT m.id, p.user_id, p.team FROM matches m JOIN match_participants p ON p.match_id = m.id \
             WHERE m.region = ? ORDER BY m.id, p.team, p.user_id",
            (region,),
        )
        .await
        .unwrap();
    let ids: HashSet<u64> = users.iter().map(|u| u.id).collect();
    let ours: HashSet<u64> = rows
        .iter()
        .filter(|r| ids.contains(&r.1))
        .map(|r| r.0)
        .collect();
    rows.into_iter().filter(|r| ours.contains(&r.0)).collect()
}

pub async fn set_mmr(app: &TestApp, user: &TestUser, mode: &str, mmr: i32) {
    let mut conn = app.db.get_conn().await.unwrap();
    conn.exec_drop(
        "INSERT INTO user_stats (user_id, mode, mmr, mu, sigma) VALUES (?, ?, ?, 25.0, 8.0)",
        (user.id, mode, mmr),
    )
    .await
    .unwrap();
}

/// Moves a ticket's joined time back by `ms`, as if it had waited that long.
pub async fn age_ticket(app: &TestApp, ticket_id: u64, mode: &str, region: &str, ms: u64) {
    let key = format!("mm:ticket:{ticket_id}");
    let joined: u64 = app.redis.hget(&key, "joined_at_ms").await.unwrap();
    let aged = joined - ms;
    let _: () = app.redis.hset(&key, ("joined_at_ms", aged)).await.unwrap();
    let _: () = app
        .redis
        .zadd(
            format!("mm:queue:{mode}:{region}"),
            None,
            None,
            false,
            false,
            (aged as f64, ticket_id.to_string()),
        )
        .await
        .unwrap();
}

pub async fn users(app: &TestApp, n: usize) -> Vec<TestUser> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(app.register_user().await);
    }
    out
}
