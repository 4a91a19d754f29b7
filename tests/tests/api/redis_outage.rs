//! A Redis restart under production's layout, with rh-runtime behaving as Spin does.
//!
//! The API (`spin.toml`) and the worker (`spin-worker.toml`) run as two apps on a
//! `redis-server` of this test's own, with rh-runtime's default `OnDisconnect::Exit`: a
//! Redis trigger that loses its connection ends its app, as on Spin. Redis is killed
//! and started again, empty. The API must never exit, answer 503 problem+json where a
//! route needs Redis and its normal answer where it does not, and recover by itself;
//! the worker exits, as Spin's does, and a new one (what Kubernetes starts after the
//! crash) handles messages again.
//!
//! Needs what every rh-tests binary needs (./scripts/test prepares it) plus
//! `redis-server` on the PATH. Run: `./scripts/test -p rh-tests --test api -- redis_outage::`.

use std::collections::HashMap;
use std::future::Future;
use std::time::{Duration, Instant};

use fred::prelude::*;
use reqwest::StatusCode;
use rh_runtime::App;
use rh_tests::private_redis::PrivateRedis;
use rh_tests::{assert_problem, server, test_variables, TestApp};
use tokio::task::JoinHandle;

/// A failure guard for waits that must end; never a pacing sleep.
const GUARD: Duration = Duration::from_secs(60);

type Served = JoinHandle<anyhow::Result<()>>;

/// Loads `manifest` with `vars` (rh-runtime's defaults: Spin's behaviour).
async fn load(manifest: &str, vars: &HashMap<String, String>) -> App {
    App::load(server::options(manifest, vars.clone()))
        .await
        .unwrap_or_else(|e| panic!("loading {manifest}: {e:#}"))
}

/// The worker, run until it fails (it has no other way to stop here).
async fn start_worker(vars: &HashMap<String, String>) -> Served {
    let worker = load("spin-worker.toml", vars).await;
    assert!(!worker.has_http_trigger(), "the worker serves no HTTP");
    tokio::spawn(worker.run(std::future::pending()))
}

/// A client on the private Redis, connected now (fred's default: no reconnect).
async fn redis_client(redis: &PrivateRedis) -> Client {
    let url = format!("redis://{}/{}", redis.host(), rh_tests::TEST_REDIS_DB);
    let client = Client::new(Config::from_url(&url).unwrap(), None, None, None);
    client
        .init()
        .await
        .expect("connecting to the private Redis");
    client
}

/// Runs of the streams refresh the worker made (run or skipped by the minute's claim).
async fn refreshes(redis: &Client) -> i64 {
    let runs: Option<i64> = redis.get("streams:refresh:runs").await.unwrap();
    let skipped: Option<i64> = redis.get("streams:refresh:skipped").await.unwrap();
    runs.unwrap_or(0) + skipped.unwrap_or(0)
}

/// Publishes `streams:refresh` until a worker handled one: the worker subscribes
/// asynchronously, so the first publishes may reach nobody.
async fn worker_handles_a_refresh(redis: &Client) {
    let before = refreshes(redis).await;
    let deadline = Instant::now() + GUARD;
    loop {
        let _: i64 = redis.publish("streams:refresh", "{}").await.unwrap();
        let heard = Instant::now() + Duration::from_secs(2);
        while Instant::now() < heard {
            if refreshes(redis).await > before {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(
            Instant::now() < deadline,
            "no worker handled streams:refresh"
        );
    }
}

/// Polls `check` until it holds: `what` names it for the failure.
async fn eventually<F: Future<Output = bool>>(what: &str, mut check: impl FnMut() -> F) {
    let deadline = Instant::now() + GUARD;
    while !check().await {
        assert!(Instant::now() < deadline, "{what}: not within {GUARD:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn assert_running(api: &Served, when: &str) {
    assert!(!api.is_finished(), "the API exited {when}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redis_restart_leaves_the_api_up_503_then_200_while_the_worker_exits_as_on_spin() {
    // Arrange: production's two apps on a Redis of this test's own.
    let mut redis = PrivateRedis::start();
    let mut vars = test_variables();
    vars.insert("redis_host".into(), redis.host());
    let api = load(&server::http_manifest(), &vars).await;
    assert!(api.has_http_trigger());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base_url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let api_task: Served = tokio::spawn(api.serve(listener, async move {
        let _ = stopped.await;
    }));
    let worker = start_worker(&vars).await;
    let app = TestApp::attach(base_url, &vars).await;
    let mut observer = redis_client(&redis).await;

    let player = app.register_user().await;
    let history = format!("/api/v1/users/{}/matches", player.id);
    assert_eq!(app.get("/health").await.status(), StatusCode::OK);
    assert_eq!(
        app.get_auth("/api/v1/users/me", &player.access_token)
            .await
            .status(),
        StatusCode::OK
    );
    worker_handles_a_refresh(&observer).await;

    // Act: Redis crashes.
    redis.stop();

    // The worker ends, as Spin's Redis trigger does ("disconnected from ...").
    let ended = tokio::time::timeout(GUARD, worker)
        .await
        .expect("the worker must exit when its Redis connection drops")
        .expect("the worker panicked");
    let error = format!("{:#}", ended.expect_err("the worker ends with an error"));
    assert!(error.contains("disconnected from"), "{error}");

    // The API does not: routes that need Redis answer 503 problem+json...
    assert_running(&api_task, "when Redis went away");
    let health = assert_problem(app.get("/health").await, StatusCode::SERVICE_UNAVAILABLE).await;
    assert_eq!(health["redis"], "down", "{health}");
    assert_eq!(health["mysql"], "ok", "{health}");
    let me = app.get_auth("/api/v1/users/me", &player.access_token).await;
    assert_problem(me, StatusCode::SERVICE_UNAVAILABLE).await;
    let login = app.login(&player.email, &player.password).await;
    assert_problem(login, StatusCode::SERVICE_UNAVAILABLE).await;
    let board = app.get("/api/v1/rankings/1v1").await;
    assert_problem(board, StatusCode::SERVICE_UNAVAILABLE).await;
    // ...and routes that read MySQL alone answer as usual.
    let matches = app.get(&history).await;
    assert_eq!(matches.status(), StatusCode::OK);
    assert_problem(
        app.get("/api/v1/matches/999999999").await,
        StatusCode::NOT_FOUND,
    )
    .await;
    assert_running(&api_task, "while Redis was down");

    // Redis is back (empty): the API recovers by itself, without a restart.
    redis.start_again();
    let api = &app;
    eventually("GET /health answers 200 again", move || async move {
        api.get("/health").await.status() == StatusCode::OK
    })
    .await;
    let me = app.get_auth("/api/v1/users/me", &player.access_token).await;
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(
        app.login(&player.email, &player.password).await.status(),
        StatusCode::OK
    );
    assert_eq!(app.get(&history).await.status(), StatusCode::OK);
    assert_running(&api_task, "after Redis came back");

    // The worker's replacement (Kubernetes restarts the crashed pod) handles messages.
    observer = redis_client(&redis).await;
    let worker = start_worker(&vars).await;
    worker_handles_a_refresh(&observer).await;
    assert!(!worker.is_finished());

    let _ = stop.send(());
    tokio::time::timeout(GUARD, api_task)
        .await
        .expect("the API stops when asked")
        .expect("the API panicked")
        .expect("the API stops without an error");
    worker.abort();
}
