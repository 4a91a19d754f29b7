//! Benchmark (not a test; `#[ignore]`d): one queue tick end to end through the runtime
//! with 10,000 queued tickets in Redis.
//!
//! ```text
//! ./scripts/test -p rh-tests --test api -- --ignored matchmaking_bench --nocapture
//! ```
//! (or `cargo test --release -p rh-tests --test api -- --ignored matchmaking_bench --nocapture`
//! once `./scripts/test` has prepared the database and components).
//!
//! Set-up, outside the timing: 10,000 users inserted straight into MySQL and 10,000
//! solo tickets written straight into Redis in the layout the queue's scripts use
//! (3 modes x 5 regions, mmr ~ N(1500, 250), joined over the last 60 s). Then the
//! signed tick route runs ticks until no match forms; each tick's wall time and
//! outcome is printed. Results are in docs/benchmarks.md ("Matchmaking").

use std::time::Instant;

use fred::prelude::*;
use fred::types::{ClusterHash, CustomCommand};
use hmac::{Hmac, Mac};
use mysql_async::prelude::Queryable;
use serde_json::{json, Value};
use sha2::Sha256;

const TICK: &str = "/api/v1/matchmaking/tick";
const REGIONS: [&str; 5] = ["mqb1", "mqb2", "mqb3", "mqb4", "mqb5"];
const MODES: [&str; 3] = ["1v1", "2v2", "4v4"];
const TICKETS: usize = 10_000;

/// Stores `n` tickets from ARGV groups of (id, user, mode, region, mmr, joined, ttl).
const SEED: &str = r#"
for i = 1, #ARGV, 7 do
  local id, uid, mode, region, mmr, joined, ttl =
    ARGV[i], ARGV[i+1], ARGV[i+2], ARGV[i+3], ARGV[i+4], ARGV[i+5], ARGV[i+6]
  redis.call('HSET', 'mm:ticket:' .. id, 'state', 'queued', 'mode', mode, 'region', region,
    'leader', uid, 'members', uid, 'consented', uid, 'mmrs', uid .. '=' .. mmr,
    'created_at_ms', joined, 'joined_at_ms', joined)
  redis.call('PEXPIRE', 'mm:ticket:' .. id, ttl)
  redis.call('SET', 'mm:player:' .. uid, id, 'PX', ttl)
  redis.call('ZADD', 'mm:queue:' .. mode .. ':' .. region, joined, id)
  redis.call('SADD', 'mm:active', mode .. '|' .. region)
end
return #ARGV / 7
"#;

/// A deterministic N(1500, 250) from a counter (Box-Muller over an LCG).
fn mmr(i: u64) -> i64 {
    let lcg = |x: u64| {
        x.wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407)
    };
    let (a, b) = (lcg(i * 2 + 1), lcg(lcg(i * 2 + 2)));
    let u1 = ((a >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
    let u2 = (b >> 11) as f64 / (1u64 << 53) as f64;
    let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    (1500.0 + 250.0 * z).round() as i64
}

async fn signed_tick(app: &rh_tests::TestApp) -> (f64, Value) {
    let body = json!({"use_lock": false, "request_id": rh_tests::unique_suffix()}).to_string();
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut mac = Hmac::<Sha256>::new_from_slice(app.game_server_key.as_bytes()).unwrap();
    mac.update(format!("{ts}.POST.{TICK}.{body}").as_bytes());
    let sig = hex::encode(mac.finalize().into_bytes());
    let started = Instant::now();
    let resp = app
        .http
        .post(app.url(TICK))
        .header("content-type", "application/json")
        .header("x-rh-timestamp", ts.to_string())
        .header("x-rh-signature", sig)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = resp.status();
    let outcome: Value = resp.json().await.unwrap();
    assert!(status.is_success(), "{outcome}");
    (started.elapsed().as_secs_f64() * 1000.0, outcome)
}

#[tokio::test]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn bench_one_tick_with_10000_queued_tickets() {
    let app = rh_tests::spawn_app().await;

    // Users, straight into MySQL.
    let run = rh_tests::unique_suffix();
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let mut conn = app.db.get_conn().await.unwrap();
    for chunk in 0..(TICKETS / 1000) {
        let mut sql = String::from(
            "INSERT INTO users (email, username, username_lower, password_hash, region, created_at_ms, updated_at_ms) VALUES ",
        );
        let rows: Vec<String> = (0..1000)
            .map(|i| {
                let n = chunk * 1000 + i;
                format!("('b{run}_{n}@example.com', 'b{run}{n}', 'b{run}{n}', 'x', 'eu', {now_ms}, {now_ms})")
            })
            .collect();
        sql.push_str(&rows.join(","));
        conn.query_drop(sql).await.unwrap();
    }
    let ids: Vec<u64> = conn
        .exec(
            "SELECT id FROM users WHERE email LIKE ? ORDER BY id",
            (format!("b{run}\\_%"),),
        )
        .await
        .unwrap();
    assert_eq!(ids.len(), TICKETS);

    // Tickets, straight into Redis (clearing what an earlier run left in these queues).
    for mode in MODES {
        for region in REGIONS {
            let _: i64 = app
                .redis
                .del(format!("mm:queue:{mode}:{region}"))
                .await
                .unwrap();
        }
    }
    let first: u64 = app
        .redis
        .incr_by("mm:ticket_seq", TICKETS as i64)
        .await
        .unwrap();
    let first = first - TICKETS as u64 + 1;
    for chunk in ids.chunks(1000).enumerate() {
        let (c, users) = chunk;
        let mut args: Vec<String> = Vec::with_capacity(users.len() * 7);
        for (i, uid) in users.iter().enumerate() {
            let n = (c * 1000 + i) as u64;
            args.extend([
                (first + n).to_string(),
                uid.to_string(),
                MODES[(n % 3) as usize].to_string(),
                REGIONS[((n / 3) % 5) as usize].to_string(),
                mmr(n).to_string(),
                (now_ms - 60_000 + n * 6).to_string(),
                "600000".to_string(),
            ]);
        }
        let mut eval_args = vec![SEED.to_string(), "0".to_string()];
        eval_args.extend(args);
        let _: i64 = app
            .redis
            .custom(
                CustomCommand::new_static("EVAL", ClusterHash::FirstKey, false),
                eval_args,
            )
            .await
            .unwrap();
    }

    let mut total_matches = 0;
    let mut total_ms = 0.0;
    for round in 1..=20 {
        let (ms, outcome) = signed_tick(&app).await;
        let formed = outcome["matches"].as_array().map_or(0, Vec::len);
        total_matches += formed;
        total_ms += ms;
        println!(
            "tick {round}: {ms:.1} ms (read {} us, group {} us, claim+create+announce {} us = claim {} + mysql {} + finalize {}), tickets read {}, matches formed {formed}, tickets left {}, claims lost {}, creations failed {}",
            outcome["read_us"], outcome["group_us"], outcome["create_us"],
            outcome["claim_us"], outcome["insert_us"], outcome["finalize_us"],
            outcome["tickets_read"], outcome["tickets_left"], outcome["claims_lost"],
            outcome["creations_failed"]
        );
        if formed == 0 {
            break;
        }
    }
    println!("total: {total_matches} matches in {total_ms:.0} ms of ticks");
}
