//! Benchmark (not a test; `#[ignore]`d): what the durable revocation check costs an
//! authenticated request (issue 14, point 3: "measure what the read path costs").
//!
//! ```text
//! ./scripts/test -p rh-tests --test api -- --ignored revocation_bench --nocapture
//! ```
//!
//! Set-up, outside the timing: an app on a Redis of its own and 10,000 live revoked
//! token ids inserted straight into MySQL (what a busy hour of logouts leaves). Then
//! `GET /api/v1/users/me` with one user's token, sequentially, in three states of
//! rh-infra's `revocation::check`:
//! - **steady**: the marker `auth:revocations:loaded` is present, so the check is one
//!   `MGET` (every request but the first after a Redis loss);
//! - **fallback**: the marker is missing and another request holds the rebuild lock, so
//!   the check also asks MySQL (one connection, one statement of two primary-key
//!   look-ups): what every request pays while a rebuild runs;
//! - **rebuild**: marker and lock deleted before each request, so each one checks MySQL
//!   and copies all 10,000 marks back into Redis: what the one request that rebuilds pays.
//!
//! Each series prints median and p95 in ms. Results are in docs/benchmarks.md
//! ("Revocation read path").

use std::time::Instant;

use fred::prelude::*;
use mysql_async::prelude::Queryable;
use reqwest::StatusCode;
use rh_tests::private_redis::PrivateRedis;

const REQUESTS: usize = 1000;
const REBUILD_REQUESTS: usize = 100;
const REVOKED_ROWS: usize = 10_000;

fn summary(name: &str, mut ms: Vec<f64>) {
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    println!(
        "revocation_bench {name:<9} n={:>5}  median {:>6.2} ms  p95 {:>6.2} ms",
        ms.len(),
        at(0.5),
        at(0.95)
    );
}

async fn series(
    app: &rh_tests::TestApp,
    redis: &Client,
    token: &str,
    n: usize,
    before_each: &[&str],
) -> Vec<f64> {
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        for key in before_each {
            let _: i64 = redis.del(*key).await.unwrap();
        }
        let started = Instant::now();
        let resp = app.get_auth("/api/v1/users/me", token).await;
        out.push(started.elapsed().as_secs_f64() * 1e3);
        assert_eq!(resp.status(), StatusCode::OK);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run by hand (see the module docs)"]
async fn revocation_bench() {
    let redis_server = PrivateRedis::start();
    let app = rh_tests::spawn_app_with(&[("redis_host", &redis_server.host())]).await;
    let url = format!(
        "redis://{}/{}",
        redis_server.host(),
        rh_tests::TEST_REDIS_DB
    );
    let redis = Client::new(Config::from_url(&url).unwrap(), None, None, None);
    redis.init().await.unwrap();

    // 10,000 live revocations, as a busy hour of logouts leaves them.
    let expires = crate::matches_support::now_unix() * 1000 + 14 * 60 * 1000;
    let suffix = rh_tests::unique_suffix();
    let mut conn = app.db.get_conn().await.unwrap();
    for chunk in (0..REVOKED_ROWS).collect::<Vec<_>>().chunks(1000) {
        let rows: Vec<String> = chunk
            .iter()
            .map(|i| format!("('bench-{suffix}-{i}', 1, {expires}, {expires})"))
            .collect();
        conn.query_drop(format!(
            "INSERT INTO revoked_access_tokens (jti, user_id, expires_at_ms, revoked_at_ms) VALUES {}",
            rows.join(",")
        ))
        .await
        .unwrap();
    }
    drop(conn);

    let user = app.register_user().await;
    let token = user.access_token.as_str();
    // Warm-up: components compiled and instantiated, pools filled, marker set.
    series(&app, &redis, token, 50, &[]).await;

    summary("steady", series(&app, &redis, token, REQUESTS, &[]).await);

    // Someone else "rebuilds": the lock is held, the marker missing.
    let _: () = redis
        .set(
            "auth:revocations:rebuild",
            "bench",
            Some(Expiration::EX(600)),
            None,
            false,
        )
        .await
        .unwrap();
    summary(
        "fallback",
        series(&app, &redis, token, REQUESTS, &["auth:revocations:loaded"]).await,
    );

    summary(
        "rebuild",
        series(
            &app,
            &redis,
            token,
            REBUILD_REQUESTS,
            &["auth:revocations:loaded", "auth:revocations:rebuild"],
        )
        .await,
    );
    let marks: i64 = redis
        .custom(
            fred::types::CustomCommand::new_static("DBSIZE", None, false),
            Vec::<String>::new(),
        )
        .await
        .unwrap();
    assert!(
        marks >= REVOKED_ROWS as i64,
        "the rebuild copied the marks: {marks}"
    );

    let mut conn = app.db.get_conn().await.unwrap();
    conn.exec_drop(
        "DELETE FROM revoked_access_tokens WHERE jti LIKE ?",
        (format!("bench-{suffix}-%"),),
    )
    .await
    .unwrap();
}
