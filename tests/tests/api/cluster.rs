//! Issue 9: nothing may assume a single instance. These tests run the app as two
//! `rh-runtime` processes and two `rh-sidecar` processes behind HAProxy
//! (`rh_tests::cluster`, configured by `scripts/haproxy-config`) and check what must hold
//! across instances: a rate limit counted over both runtimes, a logout on one refused on
//! the other, concurrent ticks on both never double-booking a player, a result submitted
//! to both applied once, leaderboards repaired by both at once agreeing with MySQL, one
//! streams refresh however many workers hear the message, and an event reaching a
//! WebSocket client on each sidecar.
//!
//! Requests go straight to a chosen runtime where the property is "one instance sees
//! what another did", and through the load balancer where the test must also prove that
//! both backends took part (HAProxy names the serving backend in `X-RH-Server`).
//! Tests in this binary run in parallel on the one cluster: each uses its own users,
//! client addresses and queue region; those that compare whole boards with MySQL, or
//! post results, take `BOARD`.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use crate::matches_support::{create_match, players, put_result, result_body};
use crate::matchmaking_support::{matches_in_region, signed_tick, QUEUE, TICK};
use fred::prelude::{KeysInterface, PubsubInterface, SortedSetsInterface};
use futures::{SinkExt, StreamExt};
use mysql_async::prelude::Queryable;
use reqwest::{Method, StatusCode};
use rh_tests::cluster::{self, AUTH_RATE_LIMIT};
use rh_tests::{assert_problem, TestApp, TestUser};
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Held by tests that post results or compare whole boards with MySQL.
static BOARD: Mutex<()> = Mutex::const_new(());
/// Held by tests that change which servers HAProxy uses, or look at which it used.
static LB_STATE: Mutex<()> = Mutex::const_new(());

/// A client address of this test run's own (`tag` tells a test's addresses apart).
fn own_address(tag: u8) -> String {
    format!("198.18.{}.{tag}", std::process::id() & 0xff)
}

/// A login with a wrong password from `addr`: (status, backend that answered).
async fn failed_login(app: &TestApp, addr: &str) -> (StatusCode, String) {
    let resp = app
        .http
        .post(app.url("/api/v1/auth/login"))
        .header("x-forwarded-for", addr)
        .json(&json!({"email": "nobody-cluster@example.com", "password": "wrong password"}))
        .send()
        .await
        .unwrap();
    answered_by(&resp)
}

#[tokio::test]
async fn the_login_limit_is_counted_across_both_runtimes() {
    let _lb_state = LB_STATE.lock().await;
    let cluster = cluster::shared();
    let (r1, r2) = (cluster.runtime(0).await, cluster.runtime(1).await);
    let direct = own_address(1);

    // Alternating between the runtimes, the limit's worth of attempts is accepted...
    for i in 0..AUTH_RATE_LIMIT {
        let runtime = if i % 2 == 0 { &r1 } else { &r2 };
        let (status, _) = failed_login(runtime, &direct).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "attempt {i}");
    }
    // ...and neither runtime accepts another, though each saw fewer than the limit.
    for runtime in [&r1, &r2] {
        let limited = runtime
            .http
            .post(runtime.url("/api/v1/auth/login"))
            .header("x-forwarded-for", &direct)
            .json(&json!({"email": "nobody-cluster@example.com", "password": "x"}))
            .send()
            .await
            .unwrap();
        assert!(limited.headers().contains_key("retry-after"));
        assert_problem(limited, StatusCode::TOO_MANY_REQUESTS).await;
    }
    let counted: i64 = r1.redis.zcard(format!("rl:login:{direct}")).await.unwrap();
    assert_eq!(counted, i64::from(AUTH_RATE_LIMIT));

    // Through the load balancer (which appends the address it saw to X-Forwarded-For,
    // trusted as 127.0.0.1): round robin spreads the attempts over both runtimes, and the
    // limit still holds for the address as a whole.
    let lb = cluster.lb().await;
    let behind_lb = own_address(2);
    let mut statuses = Vec::new();
    let mut servers = HashSet::new();
    for _ in 0..AUTH_RATE_LIMIT + 3 {
        let (status, server) = failed_login(&lb, &behind_lb).await;
        statuses.push(status);
        servers.insert(server);
    }
    let mut want = vec![StatusCode::UNAUTHORIZED; AUTH_RATE_LIMIT as usize];
    want.extend([StatusCode::TOO_MANY_REQUESTS; 3]);
    assert_eq!(statuses, want);
    assert_eq!(
        servers,
        HashSet::from(["runtime-1".to_owned(), "runtime-2".to_owned()]),
        "both runtimes answered"
    );
}

/// The status, and which server answered (`X-RH-Server`, set by the load balancer).
fn answered_by(resp: &reqwest::Response) -> (StatusCode, String) {
    let server = resp
        .headers()
        .get("x-rh-server")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (resp.status(), server)
}

/// Which server answered `GET /health` through the load balancer, and how.
async fn lb_health(lb: &TestApp) -> (StatusCode, String) {
    let resp = lb.get("/health").await;
    answered_by(&resp)
}

#[tokio::test]
async fn with_no_runtime_up_in_haproxy_traffic_still_reaches_both() {
    let _lb_state = LB_STATE.lock().await;
    let cluster = cluster::shared();
    let lb = cluster.lb().await;
    let runtimes = ["runtime-1", "runtime-2"];

    // As if every health check had failed at once (both runtimes saturated, or a blip
    // of a dependency both check): HAProxy has no checked runtime to use.
    for name in runtimes {
        let answer = cluster.haproxy(&format!("set server runtimes/{name} state maint"));
        assert!(answer.trim().is_empty(), "{answer}");
    }
    let mut served = Vec::new();
    for _ in 0..4 {
        served.push(lb_health(&lb).await);
    }
    for name in runtimes {
        cluster.haproxy(&format!("set server runtimes/{name} state ready"));
    }

    // Fail-open: the unchecked backups carried the requests, spread over both.
    for (status, server) in &served {
        assert_eq!(*status, StatusCode::OK, "{served:?}");
        assert!(server.ends_with("-failopen"), "{served:?}");
    }
    let distinct: HashSet<&String> = served.iter().map(|(_, s)| s).collect();
    assert_eq!(distinct.len(), 2, "{served:?}");
    // And once they pass their checks again, both checked servers serve again.
    let seen = std::sync::Mutex::new(HashSet::new());
    let back = poll(Duration::from_secs(60), || async {
        let (status, server) = lb_health(&lb).await;
        let mut seen = seen.lock().unwrap();
        if status == StatusCode::OK && runtimes.contains(&server.as_str()) {
            seen.insert(server);
        }
        (seen.len() == 2).then_some(())
    })
    .await;
    assert!(
        back.is_some(),
        "{}",
        cluster.haproxy("show servers state runtimes")
    );
}

/// `GET /api/v1/users/me` with `token` on `app`.
async fn me(app: &TestApp, token: &str) -> reqwest::Response {
    app.get_auth("/api/v1/users/me", token).await
}

async fn refresh(app: &TestApp, token: &str) -> reqwest::Response {
    app.post_json("/api/v1/auth/refresh", &json!({"refresh_token": token}))
        .await
}

#[tokio::test]
async fn a_logout_on_one_runtime_is_refused_on_the_other_and_by_every_sidecar() {
    let cluster = cluster::shared();
    let (r1, r2) = (cluster.runtime(0).await, cluster.runtime(1).await);
    let user = cluster.lb().await.register_user().await;
    for runtime in [&r1, &r2] {
        assert_eq!(
            me(runtime, &user.access_token).await.status(),
            StatusCode::OK
        );
    }

    let resp = r1
        .request(
            Method::POST,
            "/api/v1/auth/logout",
            Some(&user.access_token),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);

    let problem = assert_problem(me(&r2, &user.access_token).await, StatusCode::UNAUTHORIZED).await;
    assert!(
        problem["detail"].as_str().unwrap_or("").contains("revoked"),
        "{problem}"
    );
    assert_problem(
        refresh(&r2, &user.refresh_token).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    for ws_url in &cluster.sidecar_ws_urls {
        let (mut ws, _) =
            tokio_tungstenite::connect_async(format!("{ws_url}?token={}", user.access_token))
                .await
                .unwrap();
        assert_eq!(next_json(&mut ws).await["type"], "error", "{ws_url}");
        assert_eq!(close_code(&mut ws).await, 1008, "{ws_url}");
    }
}

#[tokio::test]
async fn a_refresh_token_rotated_on_one_runtime_cannot_be_reused_on_the_other() {
    let cluster = cluster::shared();
    let (r1, r2) = (cluster.runtime(0).await, cluster.runtime(1).await);
    let user = cluster.lb().await.register_user().await;

    // Both runtimes get the same token at once: exactly one rotation wins.
    let (a, b) = tokio::join!(
        refresh(&r1, &user.refresh_token),
        refresh(&r2, &user.refresh_token)
    );
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::UNAUTHORIZED]);
    let winner: Value = if a.status() == StatusCode::OK {
        a.json().await.unwrap()
    } else {
        b.json().await.unwrap()
    };
    // The reuse revoked the whole family, the winner's new token included, everywhere.
    let new_refresh = winner["refresh_token"].as_str().unwrap();
    for runtime in [&r1, &r2] {
        assert_problem(
            refresh(runtime, new_refresh).await,
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
}

#[tokio::test]
async fn concurrent_ticks_on_both_runtimes_never_double_book_a_player() {
    const PLAYERS: usize = 40;
    const REGION: &str = "clrace";
    let cluster = cluster::shared();
    let lb = cluster.lb().await;
    let runtimes = [cluster.runtime(0).await, cluster.runtime(1).await];
    let _: i64 = lb
        .redis
        .del(format!("mm:queue:1v1:{REGION}"))
        .await
        .unwrap();
    let mut users = Vec::with_capacity(PLAYERS);
    for _ in 0..PLAYERS {
        users.push(lb.register_user().await);
    }
    // Everyone joins through the load balancer (each join publishes a tick, which both
    // workers' queue-tick triggers receive; the sidecars publish one every second too)
    // while unlocked signed ticks race on both runtimes at once.
    let mut tasks = tokio::task::JoinSet::new();
    for user in &users {
        let req = lb
            .request(Method::POST, QUEUE, Some(&user.access_token))
            .json(&json!({"mode": "1v1", "region": REGION}));
        tasks.spawn(async move {
            let resp = req.send().await.unwrap();
            assert_eq!(resp.status(), StatusCode::ACCEPTED);
        });
    }
    for _ in 0..6 {
        for runtime in &runtimes {
            let (http, url, key) = (
                runtime.http.clone(),
                runtime.url(TICK),
                runtime.game_server_key.clone(),
            );
            tasks.spawn(async move {
                signed_tick(http, url, key, false).await;
            });
        }
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    let (a, b) = tokio::join!(
        signed_tick(
            runtimes[0].http.clone(),
            runtimes[0].url(TICK),
            runtimes[0].game_server_key.clone(),
            false
        ),
        signed_tick(
            runtimes[1].http.clone(),
            runtimes[1].url(TICK),
            runtimes[1].game_server_key.clone(),
            false
        )
    );
    assert!(a.is_object() && b.is_object());

    // Ticks keep coming (the sidecars'); wait until everyone is in a match, then look.
    let matched = poll(Duration::from_secs(120), || async {
        let rows = matches_in_region(&lb, REGION, &users).await;
        let ids: HashSet<u64> = rows.iter().map(|r| r.1).collect();
        (ids.len() == PLAYERS).then_some(())
    })
    .await;
    let rows = matches_in_region(&lb, REGION, &users).await;
    assert!(matched.is_some(), "not everyone was matched: {rows:?}");
    let mut booked: HashMap<u64, u64> = HashMap::new();
    for (match_id, user, _) in &rows {
        if let Some(other) = booked.insert(*user, *match_id) {
            panic!("user {user} is in matches {other} and {match_id}: {rows:?}");
        }
    }
    // Each player's own view agrees with the match MySQL holds.
    for user in &users {
        let status = crate::matchmaking_support::status(&lb, user).await;
        assert_eq!(status["state"], "matched", "{}: {status}", user.id);
        assert_eq!(
            status["match_id"].as_u64(),
            Some(booked[&user.id]),
            "{status}"
        );
    }
    let per_match = rows.iter().fold(HashMap::<u64, usize>::new(), |mut m, r| {
        *m.entry(r.0).or_default() += 1;
        m
    });
    assert!(per_match.values().all(|&n| n == 2), "{per_match:?}");
}

/// Every (kind, payload) row of `table` for `users`, with how often it occurs.
async fn rows_of(
    app: &TestApp,
    table: &str,
    users: &[TestUser],
) -> HashMap<(u64, String, String), usize> {
    let mut conn = app.db.get_conn().await.unwrap();
    let mut out = HashMap::new();
    for u in users {
        let rows: Vec<(u64, String, String)> = conn
            .exec(
                format!("SELECT user_id, kind, payload FROM {table} WHERE user_id = ?"),
                (u.id,),
            )
            .await
            .unwrap();
        for row in rows {
            *out.entry(row).or_default() += 1;
        }
    }
    out
}

#[tokio::test]
async fn a_result_submitted_to_both_runtimes_at_once_is_applied_once() {
    let _board = BOARD.lock().await;
    let cluster = cluster::shared();
    let lb = cluster.lb().await;
    let runtimes = [
        Arc::new(cluster.runtime(0).await),
        Arc::new(cluster.runtime(1).await),
    ];
    let p = players(&lb, 4, "eu").await;
    let teams = vec![vec![p[0].id, p[1].id], vec![p[2].id, p[3].id]];
    let id = create_match(&lb, "2v2", "eu", &teams).await["id"]
        .as_u64()
        .unwrap();
    let body = result_body(&teams, Some(0), 4);

    // Three submissions on each runtime at once (each signed afresh: a reused signature
    // is a replay), as a game server retrying through a load balancer might send them.
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..6 {
        let runtime = Arc::clone(&runtimes[i % 2]);
        let body = body.clone();
        tasks.spawn(async move {
            let resp = put_result(&runtime, id, &body).await;
            (
                resp.status(),
                resp.json::<Value>().await.unwrap_or(Value::Null),
            )
        });
    }
    let mut answers = Vec::new();
    while let Some(done) = tasks.join_next().await {
        answers.push(done.unwrap());
    }
    for (status, answer) in &answers {
        assert_eq!(*status, StatusCode::OK, "{answer}");
        assert_eq!(answer, &answers[0].1, "every answer is the stored outcome");
    }
    for u in &p {
        let stats = crate::matches_support::stats(&lb, u.id, "2v2")
            .await
            .unwrap();
        assert_eq!(stats.4, 1, "one game for {}", u.id);
    }
    for table in ["notifications", "feed_events"] {
        let rows = rows_of(&lb, table, &p).await;
        assert!(!rows.is_empty(), "{table}: the result wrote rows");
        let twice: Vec<_> = rows.iter().filter(|(_, &n)| n > 1).collect();
        assert!(
            twice.is_empty(),
            "{table}: written more than once: {twice:?}"
        );
    }

    // Two different results for one match, one on each runtime: one wins, one conflicts.
    let q = players(&lb, 2, "eu").await;
    let teams = vec![vec![q[0].id], vec![q[1].id]];
    let id = create_match(&lb, "1v1", "eu", &teams).await["id"]
        .as_u64()
        .unwrap();
    let (zero_wins, one_wins) = (
        result_body(&teams, Some(0), 1),
        result_body(&teams, Some(1), 1),
    );
    let (a, b) = tokio::join!(
        put_result(&runtimes[0], id, &zero_wins),
        put_result(&runtimes[1], id, &one_wins)
    );
    let mut statuses = [a.status(), b.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::OK, StatusCode::CONFLICT]);
    let (s0, s1) = (
        crate::matches_support::stats(&lb, q[0].id, "1v1")
            .await
            .unwrap(),
        crate::matches_support::stats(&lb, q[1].id, "1v1")
            .await
            .unwrap(),
    );
    assert_eq!(s0.1 + s1.1, 1, "exactly one win applied");
}

/// Every ranked player of `mode` from MySQL in board order (as in tests/rankings.rs).
async fn mysql_board(app: &TestApp, mode: &str) -> Vec<(u64, i64)> {
    let mut conn = app.db.get_conn().await.unwrap();
    conn.exec(
        "SELECT us.user_id, us.mmr FROM user_stats us JOIN users u ON u.id = us.user_id \
         WHERE us.mode = ? AND us.placed = 1 \
         AND us.season_id = (SELECT id FROM seasons WHERE status = 'active') \
         AND (u.banned_until_ms IS NULL OR u.banned_until_ms <= UNIX_TIMESTAMP() * 1000) \
         ORDER BY us.mmr DESC, us.user_id",
        (mode,),
    )
    .await
    .unwrap()
}

/// The whole board as `app` serves it, 200 a page.
async fn api_board(app: &TestApp, mode: &str) -> Vec<(u64, i64)> {
    let mut out = Vec::new();
    loop {
        let path = format!("/api/v1/rankings/{mode}?limit=200&offset={}", out.len());
        let resp = app.get(&path).await;
        assert_eq!(resp.status(), StatusCode::OK);
        let body: Value = resp.json().await.unwrap();
        let entries = body["entries"].as_array().unwrap();
        for e in entries {
            out.push((e["user_id"].as_u64().unwrap(), e["mmr"].as_i64().unwrap()));
        }
        if entries.len() < 200 {
            return out;
        }
    }
}

/// Drops a mode's boards and the marker saying they were built, as Redis losing its
/// data would.
async fn lose_boards(app: &TestApp, mode: &str) {
    let mut keys = vec![
        format!("lb:{mode}"),
        format!("lbinfo:{mode}"),
        format!("lbmeta:{mode}:built"),
    ];
    for r in cluster::REGIONS.split(',') {
        keys.push(format!("lb:{mode}:{r}"));
    }
    let _: i64 = app.redis.del(keys).await.unwrap();
}

#[tokio::test]
async fn boards_rebuilt_by_both_runtimes_while_results_land_agree_with_mysql() {
    const ROUNDS: usize = 10;
    const RESULTS_PER_ROUND: usize = 8;
    let _board = BOARD.lock().await;
    let cluster = cluster::shared();
    let lb = cluster.lb().await;
    let runtimes = [
        Arc::new(cluster.runtime(0).await),
        Arc::new(cluster.runtime(1).await),
    ];
    let p = players(&lb, 2 * RESULTS_PER_ROUND, "na").await;

    for round in 0..ROUNDS {
        let mut ids = Vec::new();
        for pair in p.chunks(2) {
            let teams = vec![vec![pair[0].id], vec![pair[1].id]];
            let id = create_match(&lb, "1v1", "na", &teams).await["id"]
                .as_u64()
                .unwrap();
            ids.push((id, teams));
        }
        lose_boards(&lb, "1v1").await;
        // Reads on both runtimes find the boards lost and repair them (one rebuilds, the
        // others wait for it), while results land on both.
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..8 {
            let runtime = Arc::clone(&runtimes[i % 2]);
            tasks.spawn(async move {
                let resp = runtime.get("/api/v1/rankings/1v1?limit=10").await;
                (resp.status(), "read".to_owned())
            });
        }
        for (i, (id, teams)) in ids.into_iter().enumerate() {
            let runtime = Arc::clone(&runtimes[i % 2]);
            let winner = Some(((round + i) % 2) as u8);
            tasks.spawn(async move {
                let resp = put_result(&runtime, id, &result_body(&teams, winner, 1)).await;
                (resp.status(), format!("result of match {id}"))
            });
        }
        while let Some(done) = tasks.join_next().await {
            let (status, what) = done.unwrap();
            assert_eq!(status, StatusCode::OK, "round {round}: {what}");
        }
        let expected = mysql_board(&lb, "1v1").await;
        for (i, runtime) in runtimes.iter().enumerate() {
            assert_eq!(
                api_board(runtime, "1v1").await,
                expected,
                "round {round}: runtime-{}'s board differs from MySQL",
                i + 1
            );
        }
    }
}

#[tokio::test]
async fn one_streams_refresh_message_refreshes_once_across_both_runtimes() {
    const CLAIM: &str = "streams:refresh:claim";
    const RUNS: &str = "streams:refresh:runs";
    const SKIPPED: &str = "streams:refresh:skipped";
    let cluster = cluster::shared();
    let lb = cluster.lb().await;
    let counters = || async {
        let runs: Option<i64> = lb.redis.get(RUNS).await.unwrap();
        let skipped: Option<i64> = lb.redis.get(SKIPPED).await.unwrap();
        (runs.unwrap_or(0), skipped.unwrap_or(0))
    };
    // No refresh ran this minute (the sidecars' own refresh ticker is off here).
    let _: i64 = lb.redis.del(CLAIM).await.unwrap();
    let (runs_before, skipped_before) = counters().await;

    // Both workers' streams-refresh triggers receive this one message.
    let _: i64 = lb.redis.publish("streams:refresh", "{}").await.unwrap();

    let handled = poll(Duration::from_secs(60), || async {
        let (runs, skipped) = counters().await;
        (runs - runs_before + skipped - skipped_before >= 2).then_some((runs, skipped))
    })
    .await;
    let logs = || {
        format!(
            "runtime-1:\n{}\nruntime-2:\n{}",
            cluster.log_tail("runtime-1"),
            cluster.log_tail("runtime-2")
        )
    };
    let (runs, skipped) =
        handled.unwrap_or_else(|| panic!("both runtimes did not handle it: {}", logs()));
    assert_eq!(
        (runs - runs_before, skipped - skipped_before),
        (1, 1),
        "one refresh, one skip: {}",
        logs()
    );
}

#[tokio::test]
async fn a_websocket_client_on_each_sidecar_receives_the_same_event() {
    let _board = BOARD.lock().await;
    let cluster = cluster::shared();
    let lb = cluster.lb().await;
    let p = players(&lb, 2, "eu").await;
    let teams = vec![vec![p[0].id], vec![p[1].id]];
    let match_id = create_match(&lb, "1v1", "eu", &teams).await["id"]
        .as_u64()
        .unwrap();
    let mine = format!("user:{}", p[0].id);
    let channels = ["rankings:1v1", mine.as_str()];

    // One client on each sidecar directly, and one through HAProxy's WebSocket frontend.
    let mut clients = Vec::new();
    for url in &cluster.sidecar_ws_urls {
        clients.push((
            url.clone(),
            client(url, &p[0].access_token, &channels).await,
        ));
    }
    clients.push((
        cluster.lb_ws_url.clone(),
        client(&cluster.lb_ws_url, &p[0].access_token, &channels).await,
    ));

    let resp = put_result(&lb, match_id, &result_body(&teams, Some(0), 3)).await;
    assert_eq!(resp.status(), StatusCode::OK);

    // Each client gets both events of this match (in whatever order they come).
    let mut seen = Vec::new();
    for (url, ws) in &mut clients {
        let mut got: HashMap<String, Value> = HashMap::new();
        while got.len() < 2 {
            let (channel, data) = next_event(ws).await;
            if data["match_id"].as_u64() == Some(match_id)
                && data["type"] == "rating_changed"
                && channels.contains(&channel.as_str())
            {
                assert!(got.insert(channel, data).is_none(), "{url}: an event twice");
            }
        }
        assert_eq!(got[&mine]["result"], "win", "{url}: {got:?}");
        seen.push((got["rankings:1v1"].clone(), got[&mine].clone()));
    }
    for (i, pair) in seen.iter().enumerate() {
        assert_eq!(pair, &seen[0], "client {i} got another event than client 0");
    }
}

// ---- helpers ------------------------------------------------------------------------

/// Calls `check` every 100 ms until it gives a value or `limit` passes.
async fn poll<T, F, Fut>(limit: Duration, mut check: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if let Some(v) = check().await {
            return Some(v);
        }
        if tokio::time::Instant::now() > deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The next JSON text frame (pings skipped), bounded so a missing event fails the test.
async fn next_json(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(60), ws.next())
            .await
            .expect("no message from the sidecar within 60 s")
            .expect("the sidecar closed the connection")
            .unwrap();
        match msg {
            Message::Text(t) => return serde_json::from_str(&t).unwrap(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

async fn close_code(ws: &mut Ws) -> u16 {
    tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            match ws.next().await {
                Some(Ok(Message::Close(Some(frame)))) => return u16::from(frame.code),
                Some(Ok(_)) => continue,
                other => panic!("expected a close frame, got {other:?}"),
            }
        }
    })
    .await
    .expect("no close frame within 60 s")
}

/// Connects with `token` and subscribes to `channels`.
async fn client(ws_url: &str, token: &str, channels: &[&str]) -> Ws {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("{ws_url}?token={token}"))
        .await
        .unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "authenticated");
    for channel in channels {
        let sub = json!({"type": "subscribe", "channel": channel}).to_string();
        ws.send(Message::text(sub)).await.unwrap();
        let reply = next_json(&mut ws).await;
        assert_eq!(reply["type"], "subscribed", "{reply}");
    }
    ws
}

/// The next event frame: (channel, data). Fails after 60 s without one (pings and
/// other frames do not count).
async fn next_event(ws: &mut Ws) -> (String, Value) {
    tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let msg = next_json(ws).await;
            if msg["type"] == "event" {
                let channel = msg["channel"].as_str().unwrap_or("").to_owned();
                return (channel, msg["data"].clone());
            }
        }
    })
    .await
    .expect("no event from the sidecar within 60 s")
}

/// The season rollover raced by both runtimes' workers and signed ticks on both.
#[path = "cluster_seasons.rs"]
mod seasons;
