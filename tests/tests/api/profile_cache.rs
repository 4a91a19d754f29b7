//! Issue 15, the profile cache (`rh_app::users::cache`): `GET /users/me` and
//! `GET /users/{id}` are answered from Redis, and every writer that changes a profile
//! makes the cached bodies stale before it answers, so the next read shows the change.
//!
//! The first test proves a read really is served from the cache (a change written behind
//! the app's back stays invisible until a writer invalidates); the others read each view
//! (so it is cached), write through one writer, and read again.

use crate::admin::admin;
use crate::matches_support::*;
use fred::prelude::KeysInterface;
use mysql_async::prelude::Queryable;
use reqwest::StatusCode;
use rh_tests::{spawn_app, TestApp, TestUser};
use serde_json::{json, Value};

async fn me(app: &TestApp, user: &TestUser) -> Value {
    let resp = app.get_auth("/api/v1/users/me", &user.access_token).await;
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

async fn public(app: &TestApp, user_id: u64) -> Value {
    let resp = app.get(&format!("/api/v1/users/{user_id}")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    resp.json().await.unwrap()
}

/// Both views, read (and so cached) now.
async fn both(app: &TestApp, user: &TestUser) -> (Value, Value) {
    (me(app, user).await, public(app, user.id).await)
}

#[tokio::test]
async fn profiles_are_served_from_the_cache_until_a_writer_invalidates_them() {
    let app = spawn_app().await;
    let p = players(&app, 2, "eu").await;
    play(&app, "1v1", "eu", &[vec![p[0].id], vec![p[1].id]], Some(0)).await;
    let (me_before, public_before) = both(&app, &p[0]).await;
    let mmr = me_before["stats"]["1v1"]["mmr"].as_i64().unwrap();

    // Behind the app's back: no writer ran, so the cached bodies still answer.
    let mut conn = app.db.get_conn().await.unwrap();
    conn.exec_drop(
        "UPDATE user_stats SET mmr = 1111 WHERE user_id = ? AND mode = '1v1'",
        (p[0].id,),
    )
    .await
    .unwrap();
    let (me_cached, public_cached) = both(&app, &p[0]).await;
    assert_eq!(me_cached, me_before);
    assert_eq!(public_cached, public_before);

    // A writer (here a rename) bumps the player's version: both views are read again.
    let resp = app
        .patch_json_auth(
            "/api/v1/users/me",
            &p[0].access_token,
            &json!({"region": "na"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let (me_after, public_after) = both(&app, &p[0]).await;
    assert_eq!(me_after["region"], "na");
    assert_eq!(me_after["stats"]["1v1"]["mmr"], 1111, "{me_after}");
    assert_eq!(public_after["stats"]["1v1"]["mmr"], 1111, "{public_after}");
    assert_ne!(mmr, 1111);
    // The other player's cached views were not touched by it.
    assert_eq!(public(&app, p[1].id).await["id"], p[1].id);
}

#[tokio::test]
async fn a_rename_shows_at_once_in_both_views() {
    let app = spawn_app().await;
    let user = app.register_user().await;
    both(&app, &user).await;
    let name = format!("r_{}", rh_tests::unique_suffix());

    let resp = app
        .patch_json_auth(
            "/api/v1/users/me",
            &user.access_token,
            &json!({"username": name}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);

    let (me_after, public_after) = both(&app, &user).await;
    assert_eq!(me_after["username"], name.as_str());
    assert_eq!(public_after["username"], name.as_str());
}

#[tokio::test]
async fn a_result_shows_at_once_for_every_player_of_the_match() {
    let app = spawn_app().await;
    let p = players(&app, 4, "eu").await;
    let teams = [vec![p[0].id, p[1].id], vec![p[2].id, p[3].id]];
    play(&app, "2v2", "eu", &teams, Some(0)).await;
    let mut cached = Vec::new();
    for u in &p {
        cached.push(both(&app, u).await);
    }

    play(&app, "2v2", "eu", &teams, Some(1)).await;

    for (u, (me_before, _)) in p.iter().zip(&cached) {
        let (me_after, public_after) = both(&app, u).await;
        assert_eq!(me_after["stats"]["2v2"]["games"], 2, "{me_after}");
        assert_eq!(public_after["stats"]["2v2"]["games"], 2, "{public_after}");
        assert_ne!(
            me_after["stats"]["2v2"]["mmr"], me_before["stats"]["2v2"]["mmr"],
            "{me_after}"
        );
        let (mmr, ..) = stats(&app, u.id, "2v2").await.unwrap();
        assert_eq!(me_after["stats"]["2v2"]["mmr"], mmr);
    }
}

#[tokio::test]
async fn an_admin_adjustment_and_a_void_show_at_once() {
    let app = spawn_app().await;
    let boss = admin(&app).await;
    let p = players(&app, 2, "eu").await;
    let first = play(&app, "1v1", "eu", &[vec![p[0].id], vec![p[1].id]], Some(0)).await;
    let match_id = first["match"]["id"].as_u64().unwrap();
    both(&app, &p[0]).await;

    let resp = app
        .post_json_auth(
            &format!("/api/v1/admin/users/{}/rating", p[0].id),
            &boss.access_token,
            &json!({"mode": "1v1", "reason": "compensation", "mmr": 2345}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let (me_after, public_after) = both(&app, &p[0]).await;
    assert_eq!(me_after["stats"]["1v1"]["mmr"], 2345, "{me_after}");
    assert_eq!(public_after["stats"]["1v1"]["mmr"], 2345, "{public_after}");

    both(&app, &p[1]).await;
    let resp = app
        .post_json_auth(
            &format!("/api/v1/admin/matches/{match_id}/void"),
            &boss.access_token,
            &json!({"reason": "match fixing"}),
        )
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    // The void takes the match off both players' counters.
    for u in &p {
        let (me_after, public_after) = both(&app, u).await;
        assert_eq!(me_after["stats"]["1v1"]["games"], 0, "{me_after}");
        assert_eq!(public_after["stats"]["1v1"]["games"], 0, "{public_after}");
    }
}

#[tokio::test]
async fn a_profile_cached_under_an_old_version_is_never_served_again() {
    // A counter lost (evicted, or Redis restarted while the body survived on a replica)
    // and recreated must not vouch for an old body: fills start counters at random.
    let app = spawn_app().await;
    let user = app.register_user().await;
    both(&app, &user).await;
    let version_key = format!("profile:{}:v", user.id);
    let old: Option<String> = app.redis.get(&version_key).await.unwrap();
    let old = old.expect("a fill set the player's counter");
    let _: i64 = app.redis.del(&version_key).await.unwrap();
    let mut conn = app.db.get_conn().await.unwrap();
    conn.exec_drop("UPDATE users SET region = 'sa' WHERE id = ?", (user.id,))
        .await
        .unwrap();

    // Without its counter the body is not trusted: MySQL answers, and a new counter
    // (not the old value) tags the new body.
    assert_eq!(me(&app, &user).await["region"], "sa");
    let new: Option<String> = app.redis.get(&version_key).await.unwrap();
    let new = new.expect("the fill started a new counter");
    assert_ne!(new, old);
}
