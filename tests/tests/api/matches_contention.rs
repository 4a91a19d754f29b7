//! Issue 9 (load-test finding): a result whose transaction InnoDB picks as a deadlock
//! victim is retried inside the route, so the game server gets its 200 and the result
//! applies once, instead of a 500 for an ordinary event under load.

use std::time::{Duration, Instant};

use crate::matches_support::*;
use mysql_async::prelude::Queryable;
use reqwest::StatusCode;
use rh_tests::spawn_app;
use serde_json::Value;

/// Waiting for a lock to show up is polled against this deadline; never a pacing sleep.
const GUARD: Duration = Duration::from_secs(60);

/// The deadlock is made on purpose. A second session ("holder") locks the match's
/// participant rows and writes enough rows to be the heavier transaction (InnoDB rolls
/// back the one that changed fewer rows). The route's transaction locks the match row,
/// updates the players' stats and then needs the participant rows: it waits for the
/// holder. The holder then asks for the match row: a cycle, and InnoDB rolls the route's
/// transaction back. Without a retry the game server would get an error here.
#[tokio::test]
async fn a_result_chosen_as_a_deadlock_victim_is_retried_and_applied_once() {
    let app = spawn_app().await;
    let p = players(&app, 2, "eu").await;
    let teams = vec![vec![p[0].id], vec![p[1].id]];
    let id = create_match(&app, "1v1", "eu", &teams).await["id"]
        .as_u64()
        .unwrap();
    let body = result_body(&teams, Some(0), 3);

    let mut holder = app.db.get_conn().await.unwrap();
    holder.query_drop("START TRANSACTION").await.unwrap();
    let locked: Vec<u64> = holder
        .exec(
            "SELECT user_id FROM match_participants WHERE match_id = ? FOR UPDATE",
            (id,),
        )
        .await
        .unwrap();
    assert_eq!(locked.len(), 2);
    let rows = vec!["('deadlock-test-weight', 0)"; 200].join(", ");
    holder
        .query_drop(format!(
            "INSERT INTO audit_log (action, created_at_ms) VALUES {rows}"
        ))
        .await
        .unwrap();

    let close_the_cycle = async {
        // The route's transaction holds the match row once a NOWAIT probe (autocommit,
        // so it keeps no lock) is refused.
        let mut probe = app.db.get_conn().await.unwrap();
        let start = Instant::now();
        let probe_sql = format!("SELECT id FROM matches WHERE id = {id} FOR UPDATE NOWAIT");
        while probe.query_drop(&probe_sql).await.is_ok() {
            assert!(
                start.elapsed() < GUARD,
                "the result's transaction never locked the match"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let got: Result<Vec<u64>, _> = holder
            .exec("SELECT id FROM matches WHERE id = ? FOR UPDATE", (id,))
            .await;
        let got = got.expect("the holder is the heavier transaction, never the victim");
        assert_eq!(got, vec![id]);
        holder.query_drop("ROLLBACK").await.unwrap();
    };

    let (resp, ()) = tokio::join!(put_result(&app, id, &body), close_the_cycle);
    let status = resp.status();
    let first: Value = resp.json().await.unwrap_or(Value::Null);
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["match"]["status"], "completed", "{first}");

    // Applied once: one game each, and a replay returns the same body.
    let (_, wins, losses, _, games, _) = stats(&app, p[0].id, "1v1").await.unwrap();
    assert_eq!((wins, losses, games), (1, 0, 1));
    let (_, wins, losses, _, games, _) = stats(&app, p[1].id, "1v1").await.unwrap();
    assert_eq!((wins, losses, games), (0, 1, 1));
    let replay = put_result(&app, id, &body).await;
    assert_eq!(replay.status(), StatusCode::OK);
    assert_eq!(replay.json::<Value>().await.unwrap(), first);

    // The holder's rows went with its rollback.
    let left: Option<i64> = app
        .db
        .get_conn()
        .await
        .unwrap()
        .query_first("SELECT COUNT(*) FROM audit_log WHERE action = 'deadlock-test-weight'")
        .await
        .unwrap();
    assert_eq!(left, Some(0));
}
