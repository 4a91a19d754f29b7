//! Matchmaking through the real runtime: the `matchmaking` HTTP component, the
//! `queue-tick` Redis trigger, MariaDB and Redis.
//!
//! How ticks are driven: every join publishes one on `matchmaking:tick` (the
//! `queue-tick` component then runs), and tests run one directly with the server-signed
//! `POST /api/v1/matchmaking/tick`, which answers the tick's outcome. Other processes
//! (a sidecar's ticker) may tick too, so tests assert on state, which is the same
//! whoever ran the tick, and await `match_found` events rather than sleeping.
//!
//! Isolation: each test uses a queue region of its own (`rh_tests::TEST_REGIONS`), so
//! tests running in parallel never share a queue.

use std::collections::{HashMap, HashSet};

use fred::prelude::*;
use reqwest::StatusCode;
use rh_tests::{assert_problem, TestApp, TestUser};
use serde_json::{json, Value};

use crate::matchmaking_support::*;

/// The app, with the queues of `regions` emptied of what earlier runs left there.
async fn app(regions: &[&str]) -> TestApp {
    queue_app(regions).await
}

#[tokio::test]
async fn two_players_are_matched_and_notified() {
    let app = app(&["mqpair"]).await;
    let (a, b) = (app.register_user().await, app.register_user().await);
    let mut events = Events::subscribe(&[&a, &b]).await;

    let ticket = join_ok(&app, &a, "1v1", "mqpair").await;
    assert_eq!(ticket["mmr"], 1500, "{ticket}");
    assert_eq!(ticket["state"], "queued");
    assert_eq!(ticket["party"], json!([a.id]));
    assert!(ticket["ticket_id"].is_u64());
    assert_eq!(status(&app, &a).await["state"], "queued");
    join_ok(&app, &b, "1v1", "mqpair").await;
    // The join published a tick; the queue-tick component forms the match.
    let found = events.match_found(&[&a, &b]).await;
    events.close().await;

    let match_id = found[&a.id]["match_id"].as_u64().unwrap();
    assert_eq!(found[&b.id]["match_id"].as_u64(), Some(match_id));
    assert_eq!(found[&a.id]["teammates"], json!([]));
    assert_eq!(found[&a.id]["opponents"], json!([b.id]));
    assert_eq!(found[&b.id]["opponents"], json!([a.id]));
    // Created as pending through the matches code path.
    let rows = matches_in_region(&app, "mqpair", &[a.clone(), b.clone()]).await;
    let players: HashSet<u64> = rows
        .iter()
        .filter(|r| r.0 == match_id)
        .map(|r| r.1)
        .collect();
    assert_eq!(players, HashSet::from([a.id, b.id]));
    let resp = app.get(&format!("/api/v1/matches/{match_id}")).await;
    if resp.status() == StatusCode::OK {
        let m: Value = resp.json().await.unwrap();
        assert_eq!(m["status"], "pending", "{m}");
    }
    let st = status(&app, &a).await;
    assert_eq!(st["state"], "matched", "{st}");
    assert_eq!(st["match_id"].as_u64(), Some(match_id));
    // In a match that has not finished: cannot queue, cannot leave.
    assert_problem(
        join(&app, &a, json!({"mode": "1v1", "region": "mqpair"})).await,
        StatusCode::CONFLICT,
    )
    .await;
    assert_problem(
        app.delete_auth(QUEUE, &a.access_token).await,
        StatusCode::CONFLICT,
    )
    .await;
    // The wait was recorded for the estimate.
    assert!(status(&app, &b).await["state"] == "matched");
    let waits: Vec<String> = app
        .redis
        .lrange("mm:waits:1v1:mqpair", 0, -1)
        .await
        .unwrap();
    assert!(!waits.is_empty());
}

#[tokio::test]
async fn players_300_apart_wait_until_the_tolerance_widens() {
    let app = app(&["mqtol"]).await;
    let (a, b) = (app.register_user().await, app.register_user().await);
    set_mmr(&app, &b, "1v1", 1800).await;

    let ta = join_ok(&app, &a, "1v1", "mqtol").await;
    let tb = join_ok(&app, &b, "1v1", "mqtol").await;
    assert_eq!(tb["mmr"], 1800, "the rating comes from the server: {tb}");
    tick(&app, false).await;
    assert_eq!(status(&app, &a).await["state"], "queued");

    // 10 s waited: ±250, still not enough.
    age_ticket(
        &app,
        ta["ticket_id"].as_u64().unwrap(),
        "1v1",
        "mqtol",
        10_500,
    )
    .await;
    tick(&app, false).await;
    assert_eq!(status(&app, &a).await["state"], "queued");
    assert_eq!(status(&app, &b).await["state"], "queued");

    // 20 s waited by the older ticket: ±300 covers the gap.
    age_ticket(
        &app,
        ta["ticket_id"].as_u64().unwrap(),
        "1v1",
        "mqtol",
        10_000,
    )
    .await;
    // Another test's tick may be the one that forms it: await the event, then look.
    let mut events = Events::subscribe(&[&a, &b]).await;
    tick(&app, false).await;
    let found = events.match_found(&[&a, &b]).await;
    events.close().await;
    let (sa, sb) = (status(&app, &a).await, status(&app, &b).await);
    assert_eq!(sa["state"], "matched", "{sa}");
    assert_eq!(sa["match_id"], sb["match_id"]);
    assert_eq!(sa["match_id"], found[&a.id]["match_id"]);
}

#[tokio::test]
async fn modes_and_regions_are_never_mixed() {
    let app = app(&["mqmixa", "mqmixb"]).await;
    let u = users(&app, 4).await;
    join_ok(&app, &u[0], "1v1", "mqmixa").await;
    join_ok(&app, &u[1], "1v1", "mqmixb").await;
    join_ok(&app, &u[2], "2v2", "mqmixa").await;
    tick(&app, false).await;
    for user in &u[..3] {
        assert_eq!(status(&app, user).await["state"], "queued");
    }

    let mut events = Events::subscribe(&[&u[0], &u[3]]).await;
    join_ok(&app, &u[3], "1v1", "mqmixa").await;
    tick(&app, false).await;
    let found = events.match_found(&[&u[0], &u[3]]).await;
    events.close().await;
    assert_eq!(found[&u[0].id]["opponents"], json!([u[3].id]));
    assert_eq!(status(&app, &u[1]).await["state"], "queued");
    assert_eq!(status(&app, &u[2]).await["state"], "queued");
    assert!(matches_in_region(&app, "mqmixb", &u).await.is_empty());
    for user in &u[1..3] {
        assert_eq!(
            app.delete_auth(QUEUE, &user.access_token).await.status(),
            StatusCode::NO_CONTENT
        );
    }
}

#[tokio::test]
async fn a_party_needs_every_member_and_stays_on_one_team() {
    let app = app(&["mqparty"]).await;
    let u = users(&app, 6).await;
    let (leader, friend, stranger) = (&u[0], &u[1], &u[5]);

    // Too large for a 2v2 team, or listing unknown users: refused.
    let body = assert_problem(
        join(
            &app,
            leader,
            json!({"mode": "2v2", "region": "mqparty", "party": [u[1].id, u[2].id]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(body.to_string().contains("party"), "{body}");
    assert_problem(
        join(
            &app,
            leader,
            json!({"mode": "2v2", "region": "mqparty", "party": [u64::MAX >> 1]}),
        )
        .await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;

    let resp = join(
        &app,
        leader,
        json!({"mode": "2v2", "region": "mqparty", "party": [friend.id]}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let party: Value = resp.json().await.unwrap();
    assert_eq!(party["state"], "pending_party", "{party}");
    assert_eq!(party["waiting_for"], json!([friend.id]));
    let party_id = party["party_id"].as_u64().unwrap();

    // Three solos and a leader without consent: nobody can be matched yet.
    for solo in &u[2..5] {
        join_ok(&app, solo, "2v2", "mqparty").await;
    }
    tick(&app, false).await;
    assert_eq!(status(&app, &u[2]).await["state"], "queued");
    // Only listed players can consent.
    assert_problem(
        join(
            &app,
            stranger,
            json!({"mode": "2v2", "region": "mqparty", "party_id": party_id}),
        )
        .await,
        StatusCode::FORBIDDEN,
    )
    .await;

    let mut events = Events::subscribe(&[leader, friend]).await;
    let resp = join(
        &app,
        friend,
        json!({"mode": "2v2", "region": "mqparty", "party_id": party_id}),
    )
    .await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let consented: Value = resp.json().await.unwrap();
    assert_eq!(consented["state"], "queued", "{consented}");
    assert_eq!(consented["party"], json!([leader.id, friend.id]));
    tick(&app, false).await;
    let found = events.match_found(&[leader, friend]).await;
    events.close().await;

    assert_eq!(found[&leader.id]["teammates"], json!([friend.id]));
    assert_eq!(found[&friend.id]["teammates"], json!([leader.id]));
    let rows = matches_in_region(&app, "mqparty", &u).await;
    let team_of: HashMap<u64, u8> = rows.iter().map(|r| (r.1, r.2)).collect();
    assert_eq!(team_of[&leader.id], team_of[&friend.id]);
    assert_eq!(rows.len(), 4, "one 2v2 match: {rows:?}");
    // One solo is left waiting; it can leave.
    let left: Vec<&TestUser> = u[2..5]
        .iter()
        .filter(|s| !team_of.contains_key(&s.id))
        .collect();
    assert_eq!(left.len(), 1);
    assert_eq!(status(&app, left[0]).await["state"], "queued");
    assert_eq!(
        app.delete_auth(QUEUE, &left[0].access_token).await.status(),
        StatusCode::NO_CONTENT
    );
}

#[tokio::test]
async fn four_v_four_needs_eight_players() {
    let app = app(&["mq4v4"]).await;
    let u = users(&app, 8).await;
    for user in &u[..7] {
        join_ok(&app, user, "4v4", "mq4v4").await;
    }
    tick(&app, false).await;
    assert!(matches_in_region(&app, "mq4v4", &u).await.is_empty());
    assert_eq!(status(&app, &u[0]).await["state"], "queued");

    let mut events = Events::subscribe(&u.iter().collect::<Vec<_>>()).await;
    join_ok(&app, &u[7], "4v4", "mq4v4").await;
    tick(&app, false).await;
    let found = events.match_found(&u.iter().collect::<Vec<_>>()).await;
    events.close().await;
    for e in found.values() {
        assert_eq!(e["teammates"].as_array().unwrap().len(), 3, "{e}");
        assert_eq!(e["opponents"].as_array().unwrap().len(), 4, "{e}");
    }
    assert_eq!(matches_in_region(&app, "mq4v4", &u).await.len(), 8);
}

#[tokio::test]
async fn leaving_before_the_tick_keeps_a_player_out() {
    let app = app(&["mqleave"]).await;
    let (a, b) = (app.register_user().await, app.register_user().await);
    join_ok(&app, &a, "1v1", "mqleave").await;
    assert_eq!(
        app.delete_auth(QUEUE, &a.access_token).await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(status(&app, &a).await["state"], "idle");
    assert_problem(
        app.delete_auth(QUEUE, &a.access_token).await,
        StatusCode::NOT_FOUND,
    )
    .await;

    join_ok(&app, &b, "1v1", "mqleave").await;
    tick(&app, false).await;
    assert_eq!(status(&app, &b).await["state"], "queued");
    assert!(matches_in_region(&app, "mqleave", &[a.clone(), b.clone()])
        .await
        .is_empty());
    // Leaving does not bar queueing again.
    let mut events = Events::subscribe(&[&a, &b]).await;
    join_ok(&app, &a, "1v1", "mqleave").await;
    tick(&app, false).await;
    events.match_found(&[&a, &b]).await;
    events.close().await;
    assert_eq!(status(&app, &a).await["state"], "matched");
}

#[tokio::test]
async fn concurrent_ticks_put_each_player_in_at_most_one_match() {
    let app = app(&["mqrace"]).await;
    let u = users(&app, 12).await;
    let all: Vec<&TestUser> = u.iter().collect();
    let mut events = Events::subscribe(&all).await;

    // Joins publish ticks (the trigger runs), while we race signed ticks without the
    // lock and publish more ticks, all over the same queue.
    let mut tasks = tokio::task::JoinSet::new();
    for user in &u {
        let (http, url, token) = (app.http.clone(), app.url(QUEUE), user.access_token.clone());
        tasks.spawn(async move {
            let resp = http
                .post(url)
                .bearer_auth(token)
                .json(&json!({"mode": "1v1", "region": "mqrace"}))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), StatusCode::ACCEPTED);
        });
    }
    for _ in 0..8 {
        let (http, url, key) = (app.http.clone(), app.url(TICK), app.game_server_key.clone());
        tasks.spawn(async move {
            signed_tick(http, url, key, false).await;
        });
        let redis = app.redis.clone();
        tasks.spawn(async move {
            let _: i64 = redis.publish("matchmaking:tick", "{}").await.unwrap();
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.unwrap();
    }
    tick(&app, false).await;

    let found = events.match_found(&all).await;
    events.close().await;
    let rows = matches_in_region(&app, "mqrace", &u).await;
    let mut seen = HashSet::new();
    for (_, user, _) in &rows {
        assert!(
            seen.insert(*user),
            "user {user} is in two matches: {rows:?}"
        );
    }
    assert_eq!(seen.len(), 12, "{rows:?}");
    for (user, event) in &found {
        let in_db = rows.iter().find(|r| r.1 == *user).unwrap().0;
        assert_eq!(event["match_id"].as_u64(), Some(in_db));
    }
}

#[tokio::test]
async fn a_leave_racing_ticks_either_keeps_the_player_out_or_finds_the_match_formed() {
    let app = app(&["mqleaverace"]).await;
    let u = users(&app, 12).await;
    for user in &u {
        join_ok(&app, user, "1v1", "mqleaverace").await;
    }

    // Every player leaves while unlocked ticks race over the queue.
    let mut leaves = tokio::task::JoinSet::new();
    for user in &u {
        let (http, url, token, id) = (
            app.http.clone(),
            app.url(QUEUE),
            user.access_token.clone(),
            user.id,
        );
        leaves.spawn(async move {
            let status = http
                .delete(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status();
            (id, status)
        });
    }
    let mut ticks = tokio::task::JoinSet::new();
    for _ in 0..6 {
        let (http, url, key) = (app.http.clone(), app.url(TICK), app.game_server_key.clone());
        ticks.spawn(async move { signed_tick(http, url, key, false).await });
    }
    let mut left = HashSet::new();
    let mut refused = HashSet::new();
    while let Some(done) = leaves.join_next().await {
        let (id, status) = done.unwrap();
        match status {
            StatusCode::NO_CONTENT => assert!(left.insert(id)),
            StatusCode::CONFLICT => assert!(refused.insert(id)),
            other => panic!("leave of {id} answered {other}"),
        }
    }
    while let Some(done) = ticks.join_next().await {
        done.unwrap();
    }
    tick(&app, false).await;

    // A player who left is in no match; a refused leave means a match holds them.
    let rows = matches_in_region(&app, "mqleaverace", &u).await;
    let matched: HashSet<u64> = rows.iter().map(|r| r.1).collect();
    assert_eq!(
        matched.len(),
        rows.len(),
        "someone is in two matches: {rows:?}"
    );
    assert!(
        left.is_disjoint(&matched),
        "left {left:?}, matched {rows:?}"
    );
    assert_eq!(refused, matched, "rows: {rows:?}");
    for user in &u {
        let st = status(&app, user).await;
        let want = if matched.contains(&user.id) {
            "matched"
        } else {
            "idle"
        };
        assert_eq!(st["state"], want, "{}: {st}", user.id);
    }
}

#[tokio::test]
async fn an_expired_ticket_drops_out_and_the_player_can_queue_again() {
    let app = app(&["mqexp"]).await;
    let (a, b) = (app.register_user().await, app.register_user().await);
    let ticket = join_ok(&app, &a, "1v1", "mqexp").await;
    let key = format!("mm:ticket:{}", ticket["ticket_id"]);
    let ttl: i64 = app.redis.pttl(&key).await.unwrap();
    assert!(ttl > 590_000 && ttl <= 600_000, "ten minutes: {ttl}");
    let _: bool = app.redis.pexpire(&key, 1, None).await.unwrap();
    while app.redis.exists::<i64, _>(&key).await.unwrap() == 1 {
        tokio::task::yield_now().await;
    }

    join_ok(&app, &b, "1v1", "mqexp").await;
    tick(&app, false).await;
    assert_eq!(status(&app, &a).await["state"], "idle");
    assert_eq!(status(&app, &b).await["state"], "queued");
    let queued: Vec<String> = app
        .redis
        .zrange("mm:queue:1v1:mqexp", 0, -1, None, false, None, false)
        .await
        .unwrap();
    assert!(
        !queued.contains(&ticket["ticket_id"].to_string()),
        "{queued:?}"
    );

    let mut events = Events::subscribe(&[&a, &b]).await;
    join_ok(&app, &a, "1v1", "mqexp").await;
    tick(&app, false).await;
    events.match_found(&[&a, &b]).await;
    events.close().await;
    assert_eq!(status(&app, &a).await["state"], "matched");
}

#[tokio::test]
async fn bad_requests_are_problems() {
    let app = app(&["mqbad"]).await;
    let a = app.register_user().await;
    let post = |body: &'static str, token: Option<String>| {
        let mut req = app
            .http
            .post(app.url(QUEUE))
            .header("content-type", "application/json")
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    let token = || Some(a.access_token.clone());

    assert_problem(
        post(r#"{"mode":"1v1","region":"mqbad"}"#, None)
            .await
            .unwrap(),
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_problem(
        post(r#"{"mode":"1v1","#, token()).await.unwrap(),
        StatusCode::BAD_REQUEST,
    )
    .await;
    let p = assert_problem(
        post(r#"{"mode":"9v9","region":"mqbad"}"#, token())
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(p.to_string().contains("mode"), "{p}");
    let p = assert_problem(
        post(r#"{"mode":"1v1","region":"mars"}"#, token())
            .await
            .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(p.to_string().contains("region"), "{p}");
    assert!(matches!(
        post(r#"{"mode":"1v1"}"#, token()).await.unwrap().status(),
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY
    ));
    // A client cannot choose its own rating.
    assert!(
        post(r#"{"mode":"1v1","region":"mqbad","mmr":3000}"#, token())
            .await
            .unwrap()
            .status()
            .is_client_error()
    );
    assert_problem(
        post(
            r#"{"mode":"1v1","region":"mqbad","party":[1],"party_id":1}"#,
            token(),
        )
        .await
        .unwrap(),
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert_problem(
        app.post_json_auth(
            QUEUE,
            &a.access_token,
            &json!({"mode": "2v2", "region": "mqbad", "party_id": 999_999_999}),
        )
        .await,
        StatusCode::NOT_FOUND,
    )
    .await;

    join_ok(&app, &a, "1v1", "mqbad").await;
    assert_problem(
        post(r#"{"mode":"1v1","region":"mqbad"}"#, token())
            .await
            .unwrap(),
        StatusCode::CONFLICT,
    )
    .await;
    assert_problem(
        post(r#"{"mode":"2v2","region":"eu"}"#, token())
            .await
            .unwrap(),
        StatusCode::CONFLICT,
    )
    .await;
    assert_eq!(
        app.delete_auth(QUEUE, &a.access_token).await.status(),
        StatusCode::NO_CONTENT
    );

    // The tick route takes game-server signatures only.
    let resp = app
        .http
        .post(app.url(TICK))
        .bearer_auth(&a.access_token)
        .send()
        .await
        .unwrap();
    assert_problem(resp, StatusCode::UNAUTHORIZED).await;
    assert_problem(
        app.request(reqwest::Method::PUT, QUEUE, Some(&a.access_token))
            .send()
            .await
            .unwrap(),
        StatusCode::METHOD_NOT_ALLOWED,
    )
    .await;
}

#[tokio::test]
async fn the_queue_overview_counts_each_queue_and_lists_modes_and_regions() {
    let app = app(&["mqview"]).await;
    let (a, b) = (app.register_user().await, app.register_user().await);
    // Two solo tickets in 2v2 wait: two players cannot fill a 2v2.
    join_ok(&app, &a, "2v2", "mqview").await;
    join_ok(&app, &b, "2v2", "mqview").await;

    let resp = app.get("/api/v1/matchmaking/queues").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let body: Value = resp.json().await.unwrap();
    let modes: Vec<&str> = body["modes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert_eq!(modes, ["1v1", "2v2", "4v4"], "{body}");
    assert!(body["regions"]
        .as_array()
        .unwrap()
        .contains(&json!("mqview")));
    let queues = body["queues"].as_array().unwrap();
    assert_eq!(
        queues.len(),
        modes.len() * body["regions"].as_array().unwrap().len()
    );
    let find = |mode: &str| {
        queues
            .iter()
            .find(|q| q["mode"] == mode && q["region"] == "mqview")
            .unwrap_or_else(|| panic!("no {mode}/mqview in {body}"))
            .clone()
    };
    let busy = find("2v2");
    assert_eq!(busy["tickets"], 2, "{busy}");
    assert!(busy["oldest_wait_s"].as_u64().unwrap() < 60, "{busy}");
    assert_eq!(
        busy["estimated_wait_s"],
        Value::Null,
        "no match formed here yet"
    );
    let idle = find("1v1");
    assert_eq!(idle["tickets"], 0);
    assert_eq!(idle["oldest_wait_s"], Value::Null);

    // Leaving takes the ticket out of the count.
    let resp = app
        .delete_auth("/api/v1/matchmaking/queue", &a.access_token)
        .await;
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let body: Value = app
        .get("/api/v1/matchmaking/queues")
        .await
        .json()
        .await
        .unwrap();
    let left = body["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["mode"] == "2v2" && q["region"] == "mqview")
        .unwrap()
        .clone();
    assert_eq!(left["tickets"], 1, "{left}");
}
