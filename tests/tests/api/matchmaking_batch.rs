//! The tick's batches through the real runtime: every match a queue forms is claimed in
//! one script, created in one MySQL transaction (the code path of
//! `POST /api/v1/matches`) and announced in one script.
//!
//! These tests assert what one particular tick did, so no other tick may touch their
//! queues: they hold each queue's tick lock (which the `queue-tick` trigger, run by every
//! join, honours) and run their own tick with `use_lock: false`; and they run one at a
//! time ([`SERIAL`]), since an unlocked tick reads every active queue. Modules of the test
//! binary run one after another (`rh_tests::isolation`), so no other module's ticks
//! reach these queues either.

use std::collections::HashSet;

use fred::prelude::*;
use mysql_async::prelude::Queryable;
use reqwest::StatusCode;
use rh_tests::{TestApp, TestUser};
use serde_json::Value;

use crate::matchmaking_support::*;

/// A region longer than `matches.region` (VARCHAR(16)): MySQL refuses to insert it, so
/// a batch in this region fails as a whole.
const UNSTORABLE_REGION: &str = "mqbatch_unstorable_region";

static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const REGIONS: [&str; 4] = ["mqbat1", "mqbat2", "mqgone", UNSTORABLE_REGION];

/// The app, with every queue of this binary's regions emptied (the tests run one at a
/// time, so none is in use).
async fn app() -> TestApp {
    queue_app(&REGIONS).await
}

/// Holds a queue's tick lock so only this test's unlocked ticks form its matches.
async fn hold_lock(app: &TestApp, mode: &str, region: &str) {
    let _: () = app
        .redis
        .set(
            format!("mm:ticklock:{mode}:{region}"),
            "held-by-test",
            Some(Expiration::PX(120_000)),
            None,
            false,
        )
        .await
        .unwrap();
}

async fn free_lock(app: &TestApp, mode: &str, region: &str) {
    let _: i64 = app
        .redis
        .del(format!("mm:ticklock:{mode}:{region}"))
        .await
        .unwrap();
}

/// The tick's formed matches in `regions`.
fn formed_in<'a>(outcome: &'a Value, regions: &[&str]) -> Vec<&'a Value> {
    outcome["matches"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| regions.contains(&m["region"].as_str().unwrap()))
        .collect()
}

fn ids(users: &[TestUser]) -> HashSet<u64> {
    users.iter().map(|u| u.id).collect()
}

#[tokio::test]
async fn one_tick_forms_every_match_of_several_queues_at_once() {
    let _serial = SERIAL.lock().await;
    let app = app().await;
    let queues = [
        ("1v1", "mqbat1", 6),
        ("2v2", "mqbat1", 8),
        ("1v1", "mqbat2", 4),
    ];
    let mut players = Vec::new();
    for (mode, region, n) in queues {
        hold_lock(&app, mode, region).await;
        let group = users(&app, n).await;
        for user in &group {
            join_ok(&app, user, mode, region).await;
        }
        players.push(group);
    }
    let everyone: Vec<TestUser> = players.concat();
    let all: Vec<&TestUser> = everyone.iter().collect();
    let mut events = Events::subscribe(&all).await;

    let outcome = tick(&app, false).await;

    // 3 + 2 + 2 matches, all by this one tick, each player in exactly one.
    let formed = formed_in(&outcome, &["mqbat1", "mqbat2"]);
    assert_eq!(formed.len(), 7, "{outcome}");
    assert_eq!(outcome["claims_lost"], 0, "{outcome}");
    assert_eq!(outcome["creations_failed"], 0, "{outcome}");
    let mut seen = HashSet::new();
    let mut match_ids = HashSet::new();
    for m in &formed {
        assert!(match_ids.insert(m["match_id"].as_u64().unwrap()), "{m}");
        for user in m["teams"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|t| t.as_array().unwrap())
        {
            assert!(
                seen.insert(user.as_u64().unwrap()),
                "{user} twice: {outcome}"
            );
        }
    }
    assert_eq!(seen, ids(&everyone));
    for (mode, region, n) in queues {
        let here: Vec<_> = formed
            .iter()
            .filter(|m| m["mode"] == mode && m["region"] == region)
            .collect();
        let size = if mode == "1v1" { 2 } else { 4 };
        assert_eq!(here.len(), n / size, "{mode} {region}: {outcome}");
    }

    // MySQL holds each match as pending with exactly the announced roster; every player
    // heard of their own match, and reads it in their status.
    let mut conn = app.db.get_conn().await.unwrap();
    for m in &formed {
        let id = m["match_id"].as_u64().unwrap();
        let status: Option<String> = conn
            .exec_first("SELECT status FROM matches WHERE id = ?", (id,))
            .await
            .unwrap();
        assert_eq!(status.as_deref(), Some("pending"));
        let rows: Vec<(u64, u8)> = conn
            .exec(
                "SELECT user_id, team FROM match_participants WHERE match_id = ? ORDER BY team, user_id",
                (id,),
            )
            .await
            .unwrap();
        let mut teams: Vec<Vec<u64>> = serde_json::from_value(m["teams"].clone()).unwrap();
        teams.iter_mut().for_each(|t| t.sort());
        let mut stored = vec![Vec::new(); teams.len()];
        for (user, team) in rows {
            stored[team as usize].push(user);
        }
        assert_eq!(stored, teams, "match {id}");
    }
    drop(conn);
    let found = events.match_found(&all).await;
    events.close().await;
    for m in &formed {
        for user in m["teams"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|t| t.as_array().unwrap())
        {
            assert_eq!(found[&user.as_u64().unwrap()]["match_id"], m["match_id"]);
        }
    }
    for user in &everyone {
        let st = status(&app, user).await;
        assert_eq!(st["state"], "matched", "{st}");
    }
    for (mode, region, _) in queues {
        free_lock(&app, mode, region).await;
    }
}

#[tokio::test]
async fn a_refused_match_drops_vanished_players_and_puts_the_rest_back() {
    let _serial = SERIAL.lock().await;
    let app = app().await;
    hold_lock(&app, "1v1", "mqgone").await;
    let u = users(&app, 5).await;
    let (a, b, c, d, e) = (&u[0], &u[1], &u[2], &u[3], &u[4]);
    // Two pairs that can only match among themselves: 1000 apart is beyond any tolerance.
    for user in [c, d, e] {
        set_mmr(&app, user, "1v1", 2500).await;
    }
    let mut tickets = Vec::new();
    for user in [a, b, c, d] {
        tickets.push(
            join_ok(&app, user, "1v1", "mqgone").await["ticket_id"]
                .as_u64()
                .unwrap(),
        );
    }
    // c's account disappears while c is queued.
    let mut conn = app.db.get_conn().await.unwrap();
    conn.exec_drop("DELETE FROM users WHERE id = ?", (c.id,))
        .await
        .unwrap();
    drop(conn);

    let outcome = tick(&app, false).await;

    // (a, b) is created; (c, d) is refused: c's ticket dropped, d's back in the queue.
    let formed = formed_in(&outcome, &["mqgone"]);
    assert_eq!(formed.len(), 1, "{outcome}");
    let players: HashSet<u64> = formed[0]["teams"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|t| t.as_array().unwrap().iter().map(|v| v.as_u64().unwrap()))
        .collect();
    assert_eq!(players, HashSet::from([a.id, b.id]));
    assert_eq!(outcome["creations_failed"], 1, "{outcome}");
    assert_eq!(outcome["tickets_dropped"], 1, "{outcome}");
    assert_eq!(status(&app, a).await["state"], "matched");
    let exists: i64 = app
        .redis
        .exists(vec![
            format!("mm:ticket:{}", tickets[2]),
            format!("mm:player:{}", c.id),
        ])
        .await
        .unwrap();
    assert_eq!(exists, 0, "c's ticket and player key are gone");
    let st = status(&app, d).await;
    assert_eq!(st["state"], "queued", "{st}");
    assert_eq!(st["ticket"]["state"], "queued", "{st}");
    let queued: Vec<String> = app
        .redis
        .zrange("mm:queue:1v1:mqgone", 0, -1, None, false, None, false)
        .await
        .unwrap();
    assert_eq!(queued, vec![tickets[3].to_string()]);

    // d is matched as soon as a partner arrives.
    join_ok(&app, e, "1v1", "mqgone").await;
    let outcome = tick(&app, false).await;
    let formed = formed_in(&outcome, &["mqgone"]);
    assert_eq!(formed.len(), 1, "{outcome}");
    assert_eq!(status(&app, d).await["state"], "matched");
    assert_eq!(status(&app, e).await["match_id"], formed[0]["match_id"]);
    free_lock(&app, "1v1", "mqgone").await;
}

#[tokio::test]
async fn when_mysql_refuses_a_queue_its_claimed_tickets_go_back_and_other_queues_still_form() {
    let _serial = SERIAL.lock().await;
    let app = app().await;
    let mut conn = app.db.get_conn().await.unwrap();
    let sql_mode: String = conn
        .query_first("SELECT @@SESSION.sql_mode")
        .await
        .unwrap()
        .unwrap();
    drop(conn);
    assert!(
        sql_mode.contains("STRICT_TRANS_TABLES"),
        "this test needs strict mode (MariaDB's default): {sql_mode}"
    );
    hold_lock(&app, "1v1", UNSTORABLE_REGION).await;
    hold_lock(&app, "1v1", "mqbat2").await;
    let u = users(&app, 4).await;
    let mut tickets = Vec::new();
    for user in &u {
        tickets.push(join_ok(&app, user, "1v1", UNSTORABLE_REGION).await["ticket_id"].to_string());
    }
    // A healthy queue, ticked by the same tick.
    let healthy = users(&app, 2).await;
    for user in &healthy {
        join_ok(&app, user, "1v1", "mqbat2").await;
    }

    let outcome = tick(&app, false).await;

    // The healthy queue's match is created all the same.
    assert_eq!(formed_in(&outcome, &["mqbat2"]).len(), 1, "{outcome}");
    assert_eq!(status(&app, &healthy[0]).await["state"], "matched");
    // Both matches of the refused queue were claimed, its transaction failed, and
    // nothing was lost.
    assert!(
        formed_in(&outcome, &[UNSTORABLE_REGION]).is_empty(),
        "{outcome}"
    );
    assert_eq!(outcome["creations_failed"], 2, "{outcome}");
    assert!(matches_in_region(&app, UNSTORABLE_REGION, &u)
        .await
        .is_empty());
    let mut queued: Vec<String> = app
        .redis
        .zrange(
            format!("mm:queue:1v1:{UNSTORABLE_REGION}"),
            0,
            -1,
            None,
            false,
            None,
            false,
        )
        .await
        .unwrap();
    queued.sort();
    tickets.sort();
    assert_eq!(queued, tickets);
    for user in &u {
        let st = status(&app, user).await;
        assert_eq!(st["state"], "queued", "{st}");
        assert_eq!(st["ticket"]["state"], "queued", "{st}");
        // Released, not claimed: leaving works.
        assert_eq!(
            app.delete_auth(QUEUE, &user.access_token).await.status(),
            StatusCode::NO_CONTENT
        );
    }
    free_lock(&app, "1v1", UNSTORABLE_REGION).await;
    free_lock(&app, "1v1", "mqbat2").await;
}
