//! Issue 14, point 4: clean degradation. With Redis stopped, or MySQL refusing
//! connections or frozen, every route of the queue, auth, matches and rankings answers
//! either as usual (it does not need what is down) or 503 problem+json with
//! `Retry-After`, never a 500; and each works again by itself when the dependency is
//! back. MySQL is never stopped (other sessions use the machine's MariaDB): the app
//! reaches it through a [`TcpProxy`] the test closes or freezes. Redis is one of the
//! test's own ([`PrivateRedis`]).

use std::time::{Duration, Instant};

use crate::matches_support::*;
use reqwest::{Method, StatusCode};
use rh_tests::private_redis::PrivateRedis;
use rh_tests::tcp_proxy::{Mode, TcpProxy};
use rh_tests::{spawn_app_with, test_variables, TestApp, TestUser};
use serde_json::{json, Value};

/// A failure guard for waits that must end; never a pacing sleep.
const GUARD: Duration = Duration::from_secs(60);

/// One request of the sweep: a name for messages, and how to send it.
struct Call {
    name: &'static str,
    method: Method,
    path: String,
    token: Option<String>,
    signed: bool,
    body: Option<Value>,
}

impl Call {
    fn new(name: &'static str, method: Method, path: impl Into<String>) -> Call {
        Call {
            name,
            method,
            path: path.into(),
            token: None,
            signed: false,
            body: None,
        }
    }
    fn auth(mut self, user: &TestUser) -> Call {
        self.token = Some(user.access_token.clone());
        self
    }
    fn signed(mut self) -> Call {
        self.signed = true;
        self
    }
    fn json(mut self, body: Value) -> Call {
        self.body = Some(body);
        self
    }

    async fn send(&self, app: &TestApp) -> (StatusCode, Option<String>, String, String) {
        let resp = if self.signed {
            signed(app, self.method.clone(), &self.path, self.body.as_ref()).await
        } else {
            let mut req = app.request(self.method.clone(), &self.path, self.token.as_deref());
            if let Some(b) = &self.body {
                req = req.json(b);
            }
            req.send().await.unwrap()
        };
        let status = resp.status();
        let header = |n: &str| {
            resp.headers()
                .get(n)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let retry_after = header("retry-after");
        let content_type = header("content-type").unwrap_or_default();
        (
            status,
            retry_after,
            content_type,
            resp.text().await.unwrap_or_default(),
        )
    }
}

/// The sweep: every route of the four components, with what it needs.
fn calls(user: &TestUser, other: &TestUser, match_id: u64, teams: &[Vec<u64>]) -> Vec<Call> {
    let suffix = rh_tests::unique_suffix();
    vec![
        // auth
        Call::new("register", Method::POST, "/api/v1/auth/register").json(json!({
            "email": format!("d_{suffix}@example.com"), "username": format!("d_{suffix}"),
            "password": "correct horse battery", "region": "eu"})),
        Call::new("login", Method::POST, "/api/v1/auth/login")
            .json(json!({"email": user.email, "password": user.password})),
        Call::new("refresh", Method::POST, "/api/v1/auth/refresh")
            .json(json!({"refresh_token": other.refresh_token})),
        Call::new("me", Method::GET, "/api/v1/users/me").auth(user),
        Call::new("update me", Method::PATCH, "/api/v1/users/me")
            .auth(user)
            .json(json!({"avatar_url": null})),
        Call::new("profile", Method::GET, format!("/api/v1/users/{}", user.id)),
        // matches
        Call::new("create match", Method::POST, "/api/v1/matches")
            .signed()
            .json(json!({"mode": "1v1", "region": "eu", "teams": teams})),
        Call::new(
            "result",
            Method::PUT,
            format!("/api/v1/matches/{match_id}/result"),
        )
        .signed()
        .json(result_body(teams, Some(0), 1)),
        Call::new(
            "timeline event",
            Method::POST,
            format!("/api/v1/matches/{match_id}/events"),
        )
        .signed()
        .json(json!({"type": "kill", "at_ms": 1, "data": {}})),
        Call::new("match", Method::GET, format!("/api/v1/matches/{match_id}")),
        Call::new(
            "timeline",
            Method::GET,
            format!("/api/v1/matches/{match_id}/events"),
        ),
        Call::new(
            "history",
            Method::GET,
            format!("/api/v1/users/{}/matches", user.id),
        ),
        // rankings
        Call::new("board", Method::GET, "/api/v1/rankings/1v1"),
        Call::new("my rank", Method::GET, "/api/v1/rankings/1v1/me").auth(user),
        Call::new("feed", Method::GET, "/api/v1/feed"),
        Call::new(
            "achievements",
            Method::GET,
            format!("/api/v1/users/{}/achievements", user.id),
        ),
        Call::new("notifications", Method::GET, "/api/v1/notifications").auth(user),
        Call::new(
            "rebuild",
            Method::POST,
            "/api/v1/admin/leaderboards/rebuild",
        )
        .signed(),
        // queue
        Call::new("join", Method::POST, "/api/v1/matchmaking/queue")
            .auth(user)
            .json(json!({"mode": "2v2", "region": "eu"})),
        Call::new("queue status", Method::GET, "/api/v1/matchmaking/queue").auth(user),
        Call::new("leave", Method::DELETE, "/api/v1/matchmaking/queue").auth(user),
        Call::new("queues", Method::GET, "/api/v1/matchmaking/queues"),
        Call::new("tick", Method::POST, "/api/v1/matchmaking/tick").signed(),
    ]
}

/// Sends every call at once; asserts none answered 500 (or any 5xx but a clean 503),
/// and returns how many answered 503.
async fn sweep(app: &TestApp, calls: &[Call], when: &str) -> usize {
    let answers = futures::future::join_all(calls.iter().map(|c| c.send(app))).await;
    let mut unavailable = 0;
    for (call, (status, retry_after, content_type, body)) in calls.iter().zip(answers) {
        let what = format!("{} {} ({when})", call.name, call.path);
        assert!(
            !status.is_server_error() || status == StatusCode::SERVICE_UNAVAILABLE,
            "{what}: {status} {body}"
        );
        if status.is_client_error() || status.is_server_error() {
            assert!(
                content_type.starts_with("application/problem+json"),
                "{what}: {status} as {content_type:?}: {body}"
            );
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            assert!(
                retry_after.is_some(),
                "{what}: a 503 without Retry-After: {body}"
            );
            unavailable += 1;
        }
    }
    unavailable
}

/// Sweeps until no call answers 503 (the dependency is back and every route recovered
/// by itself); panics after [`GUARD`].
async fn recovers(app: &TestApp, calls: &[Call], when: &str) {
    let deadline = Instant::now() + GUARD;
    loop {
        if sweep(app, calls, when).await == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{when}: still 503s after {GUARD:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Players, a pending match and a second session to refresh, made while all is up.
async fn arrange(app: &TestApp) -> (TestUser, TestUser, u64, Vec<Vec<u64>>) {
    let p = players(app, 2, "eu").await;
    let teams = vec![vec![p[0].id], vec![p[1].id]];
    let id = create_match(app, "1v1", "eu", &teams).await["id"]
        .as_u64()
        .unwrap();
    (p[0].clone(), p[1].clone(), id, teams)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_redis_stopped_every_route_answers_503_or_as_usual_and_recovers() {
    let mut redis = PrivateRedis::start();
    let app = spawn_app_with(&[("redis_host", &redis.host())]).await;
    let (user, other, match_id, teams) = arrange(&app).await;
    let calls = calls(&user, &other, match_id, &teams);

    redis.stop();
    let unavailable = sweep(&app, &calls, "Redis stopped").await;
    assert!(unavailable > 0, "routes that need Redis answer 503");
    // Twice: a route must not turn into a 500 on a second try either.
    sweep(&app, &calls, "Redis still stopped").await;

    redis.start_again();
    recovers(&app, &calls, "Redis back").await;
}

/// A dedicated app that reaches MySQL through `proxy`.
async fn app_behind(proxy: &TcpProxy) -> TestApp {
    spawn_app_with(&[("db_host", &proxy.host())]).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_mysql_refusing_or_frozen_every_route_answers_503_or_as_usual_and_recovers() {
    let mysql = test_variables()["db_host"].clone();
    let proxy = TcpProxy::start(&mysql).await;
    let app = app_behind(&proxy).await;
    let (user, other, match_id, teams) = arrange(&app).await;
    let calls = calls(&user, &other, match_id, &teams);

    // Down: the port is closed.
    proxy.set_mode(Mode::Refuse).await;
    let unavailable = sweep(&app, &calls, "MySQL refusing").await;
    assert!(unavailable > 0, "routes that need MySQL answer 503");
    proxy.set_mode(Mode::Forward).await;
    recovers(&app, &calls, "MySQL back after refusing").await;

    // Frozen: connections open, nothing answers (the runtime's deadline ends each wait).
    proxy.set_mode(Mode::Freeze).await;
    let unavailable = sweep(&app, &calls, "MySQL frozen").await;
    assert!(unavailable > 0, "routes that need MySQL answer 503");
    proxy.set_mode(Mode::Forward).await;
    recovers(&app, &calls, "MySQL back after a freeze").await;
}
