//! Benchmark (not a test; `#[ignore]`d): the rollover of 100,000 ranked players in one
//! mode through the runtime, while the mode's leaderboard keeps being read (issue 12:
//! "≤ 10 s on this 2-core machine, report the p99 of GET /api/v1/rankings/{mode} during
//! the rollover").
//!
//! ```text
//! ./scripts/test -- --ignored season_bench --nocapture
//! ```
//!
//! Set-up, outside the timing: 100,000 players inserted straight into MySQL, each placed
//! in the active season's 1v1 with its own rating and a recent last match, the boards
//! rebuilt. Timed: from the first rollover tick (the signed route, as the worker's
//! season-tick runs it, default options) to the one that finishes, ticking again at once
//! whenever one stops at its time budget. Meanwhile four readers page
//! `GET /api/v1/rankings/1v1?limit=50`. The players are deleted afterwards.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use reqwest::StatusCode;
use serde_json::json;

use crate::admin::admin;
use crate::seasons_support::{restore, schedule, tick};

const PLAYERS: u64 = 100_000;
const READERS: usize = 4;

fn percentile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

#[tokio::test]
#[ignore = "benchmark: run by hand (docs/benchmarks.md, Seasons)"]
async fn season_bench() {
    let _serial = crate::seasons_support::SERIAL.lock().await;
    let app = rh_tests::spawn_app().await;
    restore(&app).await;
    let boss = admin(&app).await;
    let tag = format!("sb{}", &rh_tests::unique_suffix()[..6]);
    let mut conn = app.db.get_conn().await.unwrap();
    let now = crate::seasons_support::now_ms();
    // Players an interrupted run left behind.
    conn.query_drop(
        "DELETE FROM users WHERE email LIKE 'sb%\\_%@example.com' AND password_hash = 'x'",
    )
    .await
    .unwrap();
    let started = Instant::now();
    // MariaDB's Sequence engine (seq_1_to_N) numbers the rows.
    conn.query_drop(format!(
        "INSERT INTO users (email, username, username_lower, password_hash, region, \
         created_at_ms, updated_at_ms) \
         SELECT CONCAT('{tag}_', seq, '@example.com'), CONCAT('{tag}_', seq), CONCAT('{tag}_', seq), \
         'x', ELT(1 + seq % 5, 'na', 'eu', 'sa', 'asia', 'oce'), {now}, {now} FROM seq_1_to_{PLAYERS}"
    ))
    .await
    .unwrap();
    conn.query_drop(format!(
        "INSERT INTO user_stats (user_id, mode, mmr, mu, sigma, wins, losses, games, \
         last_match_at_ms, season_id, season_games, season_wins, season_losses, season_peak_mmr, placed) \
         SELECT u.id, '1v1', 1500 + ((CAST(u.id AS SIGNED) * 7919) % 1200) - 600, \
           25 + (((CAST(u.id AS SIGNED) * 7919) % 1200) - 600) / 40, 2.5, 10, 10, 20, {now} - 86400000, \
           (SELECT id FROM seasons WHERE status = 'active'), 20, 10, 10, \
           1500 + ((CAST(u.id AS SIGNED) * 7919) % 1200) - 600, 1 \
         FROM users u WHERE u.username LIKE '{tag}\\_%' \
         ON DUPLICATE KEY UPDATE placed = 1"
    ))
    .await
    .unwrap();
    println!(
        "season_bench set-up: {PLAYERS} players in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let rebuilt = crate::matches_support::signed(
        &app,
        reqwest::Method::POST,
        "/api/v1/admin/leaderboards/rebuild",
        Some(&json!({})),
    )
    .await;
    assert_eq!(rebuilt.status(), StatusCode::OK);

    let stop = Arc::new(AtomicBool::new(false));
    let mut readers = Vec::new();
    for _ in 0..READERS {
        let (http, url, stop) = (
            app.http.clone(),
            app.url("/api/v1/rankings/1v1?limit=50"),
            stop.clone(),
        );
        readers.push(tokio::spawn(async move {
            let mut samples = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let resp = http.get(&url).send().await.unwrap();
                let ok = resp.status() == StatusCode::OK;
                let _ = resp.bytes().await;
                samples.push((t, t.elapsed().as_secs_f64() * 1e3, ok));
            }
            samples
        }));
    }

    schedule(&app, &boss, 1_000, 5).await;
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let t0 = Instant::now();
    let mut ticks = 0;
    let mut reset = 0u64;
    loop {
        let out = tick(&app, json!({})).await;
        println!(
            "season_bench tick: claim {} ms, {} batches {} ms, finish {} ms",
            out["claim_ms"], out["batches"], out["batches_ms"], out["finish_ms"]
        );
        ticks += 1;
        reset += out["players_reset"].as_u64().unwrap_or(0);
        if !out["finished"].is_null() {
            break;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(300),
            "the rollover did not finish: {out}"
        );
    }
    let took = t0.elapsed();
    let t1 = Instant::now();
    stop.store(true, Ordering::Relaxed);
    let mut during = Vec::new();
    let mut failed = 0;
    for r in readers {
        for (at, ms, ok) in r.await.unwrap() {
            if at >= t0 && at <= t1 {
                during.push(ms);
                failed += usize::from(!ok);
            }
        }
    }
    during.sort_by(f64::total_cmp);
    println!(
        "season_bench rollover: {reset} players reset by {ticks} tick(s) in {:.2} s",
        took.as_secs_f64()
    );
    println!(
        "season_bench GET /api/v1/rankings/1v1 during it: n={} ({:.0} req/s), p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, {failed} not 200",
        during.len(),
        during.len() as f64 / took.as_secs_f64(),
        percentile(&during, 0.5),
        percentile(&during, 0.99),
        during.last().copied().unwrap_or(0.0)
    );
    let left: u64 = conn
        .exec_first(
            "SELECT COUNT(*) FROM user_stats us JOIN seasons s ON s.id = us.season_id \
             WHERE s.status <> 'active'",
            (),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(left, 0, "every row is in the new season");
    restore(&app).await;
    conn.query_drop(format!("DELETE FROM users WHERE username LIKE '{tag}\\_%'"))
        .await
        .unwrap();
}
