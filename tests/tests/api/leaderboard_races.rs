//! Issue 14, point 5: the leaderboard races, each reproduced deterministically. The
//! app talks to a Redis of the test's own through a [`TcpProxy`] that holds one chosen
//! command (a rebuild's `RENAME`, a result's board write) until the test has run the
//! competing request, so the bad interleaving happens every time:
//!
//! - a ban while a rebuild that read MySQL before it is about to swap its boards in;
//! - two results for one player whose board writes arrive in the other order;
//! - a rename while a rebuild holds the old name;
//! - a voided match's feed items.

use crate::matches_support::*;
use fred::prelude::*;
use mysql_async::prelude::Queryable;
use reqwest::StatusCode;
use rh_tests::private_redis::PrivateRedis;
use rh_tests::tcp_proxy::TcpProxy;
use rh_tests::{spawn_app_with, TestApp, TestUser};
use serde_json::{json, Value};

struct Setup {
    app: TestApp,
    proxy: TcpProxy,
    /// A client on the private Redis (not through the proxy).
    redis: Client,
    _server: PrivateRedis,
}

impl Setup {
    /// The first 200 of the 1v1 board, through the API.
    async fn board(&self) -> Value {
        self.app
            .get("/api/v1/rankings/1v1?limit=200")
            .await
            .json()
            .await
            .unwrap()
    }

    /// Renames the player to a fresh name (answered 200) and returns the name.
    async fn rename(&self, player: &TestUser, prefix: &str) -> String {
        let name = format!("{prefix}_{}", rh_tests::unique_suffix());
        let resp = self
            .app
            .patch_json_auth(
                "/api/v1/users/me",
                &player.access_token,
                &json!({"username": name}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
        name
    }
}

async fn setup() -> Setup {
    let server = PrivateRedis::start();
    let proxy = TcpProxy::start(&server.host()).await;
    let app = spawn_app_with(&[("redis_host", &proxy.host())]).await;
    let url = format!("redis://{}/{}", server.host(), rh_tests::TEST_REDIS_DB);
    let redis = Client::new(Config::from_url(&url).unwrap(), None, None, None);
    redis.init().await.expect("connecting to the private Redis");
    Setup {
        app,
        proxy,
        redis,
        _server: server,
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// A RESP bulk string as it appears inside a command.
fn bulk(s: &str) -> Vec<u8> {
    format!("${}\r\n{s}\r\n", s.len()).into_bytes()
}

async fn admin(app: &TestApp) -> TestUser {
    let user = app.register_user().await;
    let mut conn = app.db.get_conn().await.unwrap();
    conn.exec_drop("UPDATE users SET role = 'admin' WHERE id = ?", (user.id,))
        .await
        .unwrap();
    user
}

async fn score(redis: &Client, key: &str, user: u64) -> Option<f64> {
    redis.zscore(key, user.to_string()).await.unwrap()
}

async fn mysql_mmr(app: &TestApp, user: u64, mode: &str) -> i64 {
    let mut conn = app.db.get_conn().await.unwrap();
    conn.exec_first(
        "SELECT mmr FROM user_stats WHERE user_id = ? AND mode = ?",
        (user, mode),
    )
    .await
    .unwrap()
    .unwrap()
}

fn mmr_of(score: f64) -> i64 {
    (score / (1u64 << 32) as f64).floor() as i64
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ban_during_a_rebuild_is_not_undone_by_the_rebuild() {
    let s = setup().await;
    let boss = admin(&s.app).await;
    let p = players(&s.app, 2, "eu").await;
    play(
        &s.app,
        "1v1",
        "eu",
        &[vec![p[0].id], vec![p[1].id]],
        Some(0),
    )
    .await;
    // The boards become untrustworthy, so the next read rebuilds them.
    let _: i64 = s.redis.del("lbmeta:1v1:built").await.unwrap();

    // The rebuild reads MySQL (both players ranked), writes its boards aside and is
    // stopped just before it swaps the global board in.
    let swap = s
        .proxy
        .hold_next(|c| contains(c, b"RENAME") && contains(c, &bulk("lbtmp:lb:1v1")));
    let app = s.app.url("/api/v1/rankings/1v1?limit=200");
    let reader = tokio::spawn(async move { reqwest::get(app).await.unwrap().status() });
    swap.reached().await;

    // Meanwhile an admin bans player 0: MySQL, and off the live boards.
    let resp = s
        .app
        .post_json_auth(
            &format!("/api/v1/admin/users/{}/ban", p[0].id),
            &boss.access_token,
            &json!({"reason": "cheating"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(score(&s.redis, "lb:1v1", p[0].id).await, None);

    // The rebuild goes on with what it read before the ban...
    swap.release();
    assert_eq!(reader.await.unwrap(), StatusCode::OK);
    // ...and still leaves the banned player off every board.
    for key in ["lb:1v1", "lb:1v1:eu"] {
        assert_eq!(score(&s.redis, key, p[0].id).await, None, "{key}");
    }
    let info: Option<String> = s
        .redis
        .hget("lbinfo:1v1", p[0].id.to_string())
        .await
        .unwrap();
    assert_eq!(info, None);
    assert!(
        score(&s.redis, "lb:1v1", p[1].id).await.is_some(),
        "others stay"
    );
    let page: Value = s.board().await;
    assert!(
        !page["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["user_id"] == p[0].id),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_close_results_reach_the_board_in_commit_order() {
    let s = setup().await;
    let p = players(&s.app, 3, "eu").await;
    let a_teams = vec![vec![p[0].id], vec![p[1].id]];
    let b_teams = vec![vec![p[0].id], vec![p[2].id]];
    let a = create_match(&s.app, "1v1", "eu", &a_teams).await["id"]
        .as_u64()
        .unwrap();
    let b = create_match(&s.app, "1v1", "eu", &b_teams).await["id"]
        .as_u64()
        .unwrap();

    // Result A commits first, but its board write for player 0 is held back...
    let uid = bulk(&p[0].id.to_string());
    let late = s
        .proxy
        .hold_next(move |c| contains(c, b"lbver:1v1") && contains(c, &uid));
    let a_body = result_body(&a_teams, Some(0), 1);
    let app = std::sync::Arc::new(s.app);
    let first = {
        let app = std::sync::Arc::clone(&app);
        tokio::spawn(async move { put_result(&app, a, &a_body).await.status() })
    };
    late.reached().await;
    // ...while result B (committed after A: player 0's stats row saw A) lands first.
    let resp = put_result(&app, b, &result_body(&b_teams, Some(0), 1)).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let after_b = mysql_mmr(&app, p[0].id, "1v1").await;
    late.release();
    assert_eq!(first.await.unwrap(), StatusCode::OK);

    // The board shows player 0 as of B, the later commit, as MySQL does.
    let on_board = score(&s.redis, "lb:1v1", p[0].id).await.expect("ranked");
    assert_eq!(mmr_of(on_board), after_b);
    let regional = score(&s.redis, "lb:1v1:eu", p[0].id).await.expect("ranked");
    assert_eq!(mmr_of(regional), after_b);
    let info: String = s
        .redis
        .hget("lbinfo:1v1", p[0].id.to_string())
        .await
        .unwrap();
    let info: Value = serde_json::from_str(&info).unwrap();
    assert_eq!(info[1], 2, "two wins, as of B: {info}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn board_usernames_follow_renames_even_during_a_rebuild() {
    let s = setup().await;
    let p = players(&s.app, 4, "eu").await;
    play(
        &s.app,
        "1v1",
        "eu",
        &[vec![p[0].id], vec![p[1].id]],
        Some(0),
    )
    .await;
    play(
        &s.app,
        "1v1",
        "eu",
        &[vec![p[2].id], vec![p[3].id]],
        Some(0),
    )
    .await;
    let name_of = |page: &Value, id: u64| -> Option<String> {
        page["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["user_id"] == id)
            .and_then(|e| e["username"].as_str().map(str::to_owned))
    };

    // A plain rename, on boards already built.
    let page: Value = s.board().await;
    assert_eq!(
        name_of(&page, p[0].id).as_deref(),
        Some(p[0].username.as_str())
    );
    let renamed = s.rename(&p[0], "r").await;
    let page: Value = s.board().await;
    assert_eq!(
        name_of(&page, p[0].id).as_deref(),
        Some(renamed.as_str()),
        "{page}"
    );

    // A rename while a rebuild, which read the old name, is about to swap its details in.
    let _: i64 = s.redis.del("lbmeta:1v1:built").await.unwrap();
    let swap = s
        .proxy
        .hold_next(|c| contains(c, b"RENAME") && contains(c, &bulk("lbtmp:lbinfo:1v1")));
    let url = s.app.url("/api/v1/rankings/1v1?limit=200");
    let reader = tokio::spawn(async move { reqwest::get(url).await.unwrap().status() });
    swap.reached().await;
    let during = s.rename(&p[2], "d").await;
    swap.release();
    assert_eq!(reader.await.unwrap(), StatusCode::OK);
    let page: Value = s.board().await;
    assert_eq!(
        name_of(&page, p[2].id).as_deref(),
        Some(during.as_str()),
        "{page}"
    );
    assert_eq!(
        name_of(&page, p[0].id).as_deref(),
        Some(renamed.as_str()),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_voided_match_leaves_no_feed_item_claiming_it_counted() {
    let s = setup().await;
    let boss = admin(&s.app).await;
    let p = players(&s.app, 2, "eu").await;
    let done = play(
        &s.app,
        "1v1",
        "eu",
        &[vec![p[0].id], vec![p[1].id]],
        Some(0),
    )
    .await;
    let id = done["match"]["id"].as_u64().unwrap();
    let about_match = |feed: &Value| -> usize {
        feed["events"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| {
                e["data"]["match_id"] == id
                    || (e["kind"] == "rank_up"
                        && (e["user_id"] == p[0].id || e["user_id"] == p[1].id))
            })
            .count()
    };
    let feed: Value = s
        .app
        .get("/api/v1/feed?limit=100")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        about_match(&feed) >= 1,
        "the result wrote its feed item: {feed}"
    );

    let resp = s
        .app
        .post_json_auth(
            &format!("/api/v1/admin/matches/{id}/void"),
            &boss.access_token,
            &json!({"reason": "match fixing"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let feed: Value = s
        .app
        .get("/api/v1/feed?limit=100")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(about_match(&feed), 0, "{feed}");
}
