//! Issue 8, admin operations through the real runtime: the role check (403 and an audit
//! row), bans (old tokens die, login refused, off the queue and the boards, back on
//! unban), rating adjustments, match voids and the audit-log reader.
//!
//! Tests promote their admin directly in MySQL; production uses
//! `rh-migrate promote-admin EMAIL`.

use crate::matches_support::*;
use fred::prelude::SortedSetsInterface;
use mysql_async::prelude::Queryable;
use reqwest::StatusCode;
use rh_tests::{assert_problem, spawn_app, TestApp, TestUser};
use serde_json::{json, Value};

pub(crate) async fn admin(app: &TestApp) -> TestUser {
    let user = app.register_user().await;
    let mut conn = app.db.get_conn().await.unwrap();
    conn.exec_drop("UPDATE users SET role = 'admin' WHERE id = ?", (user.id,))
        .await
        .unwrap();
    user
}

async fn audit_rows(
    app: &TestApp,
    action: &str,
    actor: u64,
) -> Vec<(Option<String>, Option<String>)> {
    let mut conn = app.db.get_conn().await.unwrap();
    conn.exec(
        "SELECT target_id, after_data FROM audit_log WHERE action = ? AND actor_id = ? ORDER BY id",
        (action, actor),
    )
    .await
    .unwrap()
}

async fn on_board(app: &TestApp, key: &str, user: u64) -> bool {
    let s: Option<f64> = app.redis.zscore(key, user.to_string()).await.unwrap();
    s.is_some()
}

#[tokio::test]
async fn non_admins_get_403_and_the_refusal_is_audited() {
    let app = spawn_app().await;
    let player = app.register_user().await;
    let victim = app.register_user().await;

    let resp = app
        .post_json_auth(
            &format!("/api/v1/admin/users/{}/ban", victim.id),
            &player.access_token,
            &json!({"reason": "nope"}),
        )
        .await;
    assert_problem(resp, StatusCode::FORBIDDEN).await;
    let resp = app
        .get_auth("/api/v1/admin/audit", &player.access_token)
        .await;
    assert_problem(resp, StatusCode::FORBIDDEN).await;
    let rows = audit_rows(&app, "admin_denied", player.id).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(
        rows[0].0.as_deref(),
        Some(format!("/api/v1/admin/users/{}/ban", victim.id).as_str())
    );
    // Not banned after all.
    let resp = app.get_auth("/api/v1/users/me", &victim.access_token).await;
    assert_eq!(resp.status(), StatusCode::OK);
    // No token at all is a 401, not a 403.
    let resp = app.get("/api/v1/admin/audit").await;
    assert_problem(resp, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn a_ban_kills_old_tokens_refuses_login_and_hides_the_player_until_unbanned() {
    let app = spawn_app().await;
    let boss = admin(&app).await;
    let p = players(&app, 2, "eu").await;
    play(&app, "1v1", "eu", &[vec![p[0].id], vec![p[1].id]], Some(0)).await;
    assert!(on_board(&app, "lb:1v1", p[0].id).await);
    assert!(on_board(&app, "lb:1v1:eu", p[0].id).await);

    let resp = app
        .post_json_auth(
            &format!("/api/v1/admin/users/{}/ban", p[0].id),
            &boss.access_token,
            &json!({"reason": "cheating"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);

    // The token issued before the ban no longer works; login and refresh are refused.
    let resp = app.get_auth("/api/v1/users/me", &p[0].access_token).await;
    assert_problem(resp, StatusCode::UNAUTHORIZED).await;
    let resp = app.login(&p[0].email, &p[0].password).await;
    assert_problem(resp, StatusCode::FORBIDDEN).await;
    let resp = app
        .post_json(
            "/api/v1/auth/refresh",
            &json!({"refresh_token": p[0].refresh_token}),
        )
        .await;
    assert!(resp.status().is_client_error(), "{}", resp.status());
    // Off every board.
    assert!(!on_board(&app, "lb:1v1", p[0].id).await);
    assert!(!on_board(&app, "lb:1v1:eu", p[0].id).await);
    assert!(on_board(&app, "lb:1v1", p[1].id).await, "others stay");
    let rows = audit_rows(&app, "admin_ban", boss.id).await;
    assert_eq!(
        rows.last().unwrap().0.as_deref(),
        Some(p[0].id.to_string().as_str())
    );

    // Unban: back on the boards, login works again.
    let resp = app
        .post_json_auth(
            &format!("/api/v1/admin/users/{}/unban", p[0].id),
            &boss.access_token,
            &json!({"reason": "appeal accepted"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(on_board(&app, "lb:1v1", p[0].id).await);
    assert!(on_board(&app, "lb:1v1:eu", p[0].id).await);
    let resp = app.login(&p[0].email, &p[0].password).await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(audit_rows(&app, "admin_unban", boss.id).await.len(), 1);
}

#[tokio::test]
async fn a_player_banned_during_a_pending_match_stays_off_the_boards_when_it_completes() {
    let app = spawn_app().await;
    let boss = admin(&app).await;
    let p = players(&app, 2, "eu").await;
    let teams = vec![vec![p[0].id], vec![p[1].id]];
    let created = create_match(&app, "1v1", "eu", &teams).await;
    let match_id = created["id"].as_u64().unwrap();

    let resp = app
        .post_json_auth(
            &format!("/api/v1/admin/users/{}/ban", p[0].id),
            &boss.access_token,
            &json!({"reason": "cheating"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = put_result(&app, match_id, &result_body(&teams, Some(0), 3)).await;
    assert_eq!(resp.status(), StatusCode::OK);

    assert!(
        !on_board(&app, "lb:1v1", p[0].id).await,
        "banned: off the board"
    );
    assert!(!on_board(&app, "lb:1v1:eu", p[0].id).await);
    assert!(
        on_board(&app, "lb:1v1", p[1].id).await,
        "the opponent is placed"
    );

    let resp = app
        .post_json_auth(
            &format!("/api/v1/admin/users/{}/unban", p[0].id),
            &boss.access_token,
            &json!({"reason": "appeal accepted"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(on_board(&app, "lb:1v1", p[0].id).await, "unbanned: back");
}

#[tokio::test]
async fn ban_input_is_validated() {
    let app = spawn_app().await;
    let boss = admin(&app).await;
    let p = app.register_user().await;
    let path = format!("/api/v1/admin/users/{}/ban", p.id);
    let resp = app
        .post_json_auth(&path, &boss.access_token, &json!({"reason": " "}))
        .await;
    assert_problem(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    let resp = app
        .post_json_auth(
            &path,
            &boss.access_token,
            &json!({"reason": "x", "until_ms": 1}),
        )
        .await;
    assert_problem(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    let resp = app
        .post_json_auth(
            "/api/v1/admin/users/999999999/ban",
            &boss.access_token,
            &json!({"reason": "x"}),
        )
        .await;
    assert_problem(resp, StatusCode::NOT_FOUND).await;
    // Still able to use the API.
    let resp = app.get_auth("/api/v1/users/me", &p.access_token).await;
    assert_eq!(resp.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_rating_adjustment_is_in_mysql_and_the_rankings_at_once() {
    let app = spawn_app().await;
    let boss = admin(&app).await;
    let p = players(&app, 2, "eu").await;
    play(&app, "1v1", "eu", &[vec![p[0].id], vec![p[1].id]], Some(0)).await;
    let path = format!("/api/v1/admin/users/{}/rating", p[0].id);

    let resp = app
        .post_json_auth(
            &path,
            &boss.access_token,
            &json!({"mode": "1v1", "reason": "compensation", "mmr": 2345}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(stats(&app, p[0].id, "1v1").await.unwrap().0, 2345);
    let me: Value = app
        .get_auth("/api/v1/rankings/1v1/me", &p[0].access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["mmr"], 2345, "{me}");

    let resp = app
        .post_json_auth(
            &path,
            &boss.access_token,
            &json!({"mode": "1v1", "reason": "oops", "delta": -45}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(stats(&app, p[0].id, "1v1").await.unwrap().0, 2300);

    // Exactly one kind of change; a mode without a rating is 404.
    let resp = app
        .post_json_auth(
            &path,
            &boss.access_token,
            &json!({"mode": "1v1", "reason": "x", "mmr": 1, "delta": 1}),
        )
        .await;
    assert_problem(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    let resp = app
        .post_json_auth(
            &path,
            &boss.access_token,
            &json!({"mode": "4v4", "reason": "x", "reset": true}),
        )
        .await;
    assert_problem(resp, StatusCode::NOT_FOUND).await;
    let rows = audit_rows(&app, "admin_rating", boss.id).await;
    assert_eq!(rows.len(), 2);
}

#[tokio::test]
async fn voiding_reverses_ratings_only_without_a_later_match_and_records_the_rest() {
    let app = spawn_app().await;
    let boss = admin(&app).await;
    let p = players(&app, 3, "eu").await;
    let first = play(&app, "1v1", "eu", &[vec![p[0].id], vec![p[1].id]], Some(0)).await;
    let match_id = first["match"]["id"].as_u64().unwrap();
    play(&app, "1v1", "eu", &[vec![p[1].id], vec![p[2].id]], Some(0)).await;
    let p1_before_void = stats(&app, p[1].id, "1v1").await.unwrap();

    let path = format!("/api/v1/admin/matches/{match_id}/void");
    let resp = app
        .post_json_auth(
            &path,
            &boss.access_token,
            &json!({"reason": "match fixing"}),
        )
        .await;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");

    // p0 played nothing later: rating and counters back to before the match.
    assert_eq!(
        stats(&app, p[0].id, "1v1").await.unwrap(),
        (1500, 0, 0, 0, 0, 0)
    );
    // p1 played later: rating kept, the voided loss no longer counted, skip recorded.
    let p1 = stats(&app, p[1].id, "1v1").await.unwrap();
    assert_eq!(p1.0, p1_before_void.0);
    assert_eq!((p1.1, p1.2, p1.4), (1, 0, 1));
    assert_eq!(body["skipped"][0]["user_id"], p[1].id, "{body}");
    let rows = audit_rows(&app, "admin_void_match", boss.id).await;
    let after: Value = serde_json::from_str(rows.last().unwrap().1.as_deref().unwrap()).unwrap();
    assert_eq!(after["skipped"][0]["user_id"], p[1].id);
    // Unranked again, so off the board after the rebuild.
    assert!(!on_board(&app, "lb:1v1", p[0].id).await);

    // The match is voided; a second void is a conflict.
    let mut conn = app.db.get_conn().await.unwrap();
    let st: Option<String> = conn
        .exec_first("SELECT status FROM matches WHERE id = ?", (match_id,))
        .await
        .unwrap();
    assert_eq!(st.as_deref(), Some("voided"));
    let resp = app
        .post_json_auth(&path, &boss.access_token, &json!({"reason": "again"}))
        .await;
    assert_problem(resp, StatusCode::CONFLICT).await;
}

#[tokio::test]
async fn the_audit_log_is_filtered_and_cursor_paginated() {
    let app = spawn_app().await;
    let boss = admin(&app).await;
    let p = players(&app, 2, "eu").await;
    play(&app, "1v1", "eu", &[vec![p[0].id], vec![p[1].id]], Some(0)).await;
    for delta in [1, 2, 3] {
        let resp = app
            .post_json_auth(
                &format!("/api/v1/admin/users/{}/rating", p[0].id),
                &boss.access_token,
                &json!({"mode": "1v1", "reason": format!("step {delta}"), "delta": delta}),
            )
            .await;
        assert_eq!(resp.status(), StatusCode::OK);
    }
    let base = format!(
        "/api/v1/admin/audit?action=admin_rating&actor_id={}&target_type=user&target_id={}&limit=2",
        boss.id, p[0].id
    );
    let page1: Value = app
        .get_auth(&base, &boss.access_token)
        .await
        .json()
        .await
        .unwrap();
    let items = page1["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{page1}");
    assert_eq!(items[0]["reason"], "step 3");
    assert_eq!(
        items[0]["after"]["mmr"].as_i64().unwrap() - items[0]["before"]["mmr"].as_i64().unwrap(),
        3
    );
    let cursor = page1["next_cursor"].as_str().unwrap();
    let page2: Value = app
        .get_auth(&format!("{base}&cursor={cursor}"), &boss.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page2["items"].as_array().unwrap().len(), 1);
    assert_eq!(page2["items"][0]["reason"], "step 1");
    assert!(page2["next_cursor"].is_null());
    // A time range in the future finds nothing.
    let future = now_unix() * 1000 + 3_600_000;
    let none: Value = app
        .get_auth(&format!("{base}&from_ms={future}"), &boss.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(none["items"].as_array().unwrap().len(), 0);
    let resp = app
        .get_auth("/api/v1/admin/audit?limit=0", &boss.access_token)
        .await;
    assert_problem(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
}

#[tokio::test]
async fn an_admin_rebuilds_the_leaderboards_from_mysql() {
    let app = spawn_app().await;
    let boss = admin(&app).await;
    let p = players(&app, 2, "eu").await;
    play(&app, "1v1", "eu", &[vec![p[0].id], vec![p[1].id]], Some(0)).await;
    // Lose a player from Redis only; the rebuild brings them back from MySQL.
    let _: i64 = app.redis.zrem("lb:1v1", p[0].id.to_string()).await.unwrap();
    let resp = app
        .post_json_auth(
            "/api/v1/admin/rankings/rebuild",
            &boss.access_token,
            &json!({}),
        )
        .await;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["rebuilt"]
        .as_array()
        .unwrap()
        .iter()
        .any(|m| m["mode"] == "1v1"));
    assert!(on_board(&app, "lb:1v1", p[0].id).await);
    // Players can't.
    let resp = app
        .post_json_auth(
            "/api/v1/admin/rankings/rebuild",
            &p[0].access_token,
            &json!({}),
        )
        .await;
    assert_problem(resp, StatusCode::FORBIDDEN).await;
    assert_eq!(
        audit_rows(&app, "admin_rebuild_leaderboards", boss.id)
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn a_ban_takes_the_player_out_of_the_matchmaking_queue() {
    use fred::prelude::KeysInterface;
    let app = spawn_app().await;
    let boss = admin(&app).await;
    let p = app.register_user().await;
    // 4v4 needs eight players, so no concurrent tick forms a match with this ticket.
    let resp = app
        .post_json_auth(
            "/api/v1/matchmaking/queue",
            &p.access_token,
            &json!({"mode": "4v4", "region": "oce"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let key = format!("mm:player:{}", p.id);
    let queued: bool = app.redis.exists(&key).await.unwrap();
    assert!(queued);

    let resp = app
        .post_json_auth(
            &format!("/api/v1/admin/users/{}/ban", p.id),
            &boss.access_token,
            &json!({"reason": "afk farming", "until_ms": now_unix() * 1000 + 86_400_000}),
        )
        .await;
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["banned_until_ms"].as_i64().unwrap() > now_unix() * 1000,
        "{body}"
    );
    let queued: bool = app.redis.exists(&key).await.unwrap();
    assert!(!queued, "ticket removed");
}

#[tokio::test]
async fn a_voided_match_leaves_the_history_and_a_banned_player_stays_off_rebuilt_boards() {
    let app = spawn_app().await;
    let boss = admin(&app).await;
    let p = players(&app, 2, "eu").await;
    let kept = play(&app, "1v1", "eu", &[vec![p[0].id], vec![p[1].id]], Some(0)).await;
    let voided = play(&app, "1v1", "eu", &[vec![p[0].id], vec![p[1].id]], Some(1)).await;
    let voided_id = voided["match"]["id"].as_u64().unwrap();
    let resp = app
        .post_json_auth(
            &format!("/api/v1/admin/matches/{voided_id}/void"),
            &boss.access_token,
            &json!({"reason": "desync"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let history: Value = app
        .get(&format!("/api/v1/users/{}/matches", p[0].id))
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<u64> = history["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_u64().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![kept["match"]["id"].as_u64().unwrap()],
        "{history}"
    );

    // Banned, then the boards are rebuilt from MySQL: the player stays off them.
    let resp = app
        .post_json_auth(
            &format!("/api/v1/admin/users/{}/ban", p[1].id),
            &boss.access_token,
            &json!({"reason": "abuse"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let resp = app
        .post_json_auth(
            "/api/v1/admin/rankings/rebuild",
            &boss.access_token,
            &json!({}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    assert!(!on_board(&app, "lb:1v1", p[1].id).await);
    assert!(on_board(&app, "lb:1v1", p[0].id).await);
}

#[tokio::test]
async fn admins_find_accounts_by_id_username_or_email_prefix_and_players_cannot() {
    let app = spawn_app().await;
    let boss = admin(&app).await;
    let target = app.register_user().await;

    let search = |q: String| {
        let app = &app;
        let token = boss.access_token.clone();
        async move {
            let resp = app
                .get_auth(&format!("/api/v1/admin/users?query={q}&limit=5"), &token)
                .await;
            assert_eq!(resp.status(), StatusCode::OK);
            resp.json::<Value>().await.unwrap()["items"]
                .as_array()
                .unwrap()
                .clone()
        }
    };
    // Usernames are found without regard to case, by a prefix.
    let prefix = target.username[..target.username.len() - 2].to_uppercase();
    let items = search(prefix).await;
    let found = items
        .iter()
        .find(|u| u["id"] == target.id)
        .expect("found by prefix");
    assert_eq!(found["email"], target.email.as_str());
    assert_eq!(found["role"], "player");
    assert_eq!(found["banned_until_ms"], Value::Null);
    assert!(found.get("password_hash").is_none());
    let items = search(target.id.to_string()).await;
    assert_eq!(items[0]["id"], target.id);
    let items = search(target.email.clone()).await;
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], target.id);
    // A LIKE wildcard is a plain character, not "anything".
    assert!(search("%25".into()).await.is_empty());
    // A ban shows in the list.
    let resp = app
        .post_json_auth(
            &format!("/api/v1/admin/users/{}/ban", target.id),
            &boss.access_token,
            &json!({"reason": "search test"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let items = search(target.id.to_string()).await;
    assert_eq!(items[0]["ban_reason"], "search test");
    assert!(items[0]["banned_until_ms"].as_i64().unwrap() > 0);

    let resp = app
        .get_auth("/api/v1/admin/users?limit=0", &boss.access_token)
        .await;
    assert_problem(resp, StatusCode::UNPROCESSABLE_ENTITY).await;
    let player = app.register_user().await;
    let resp = app
        .get_auth("/api/v1/admin/users", &player.access_token)
        .await;
    assert_problem(resp, StatusCode::FORBIDDEN).await;
}

#[tokio::test]
async fn the_owner_sees_their_role_so_a_frontend_knows_to_show_admin_screens() {
    let app = spawn_app().await;
    let player = app.register_user().await;
    let me: Value = app
        .get_auth("/api/v1/users/me", &player.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "player");
    let boss = admin(&app).await;
    let me: Value = app
        .get_auth("/api/v1/users/me", &boss.access_token)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["role"], "admin");
    // Public profiles do not show it.
    let public: Value = app
        .get(&format!("/api/v1/users/{}", boss.id))
        .await
        .json()
        .await
        .unwrap();
    assert!(public.get("role").is_none(), "{public}");
}
