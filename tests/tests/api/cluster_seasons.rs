//! Issue 12 on the cluster: a season that ends is rolled over once although both
//! runtimes' workers hear every tick of both sidecars and signed ticks (without the
//! Redis lease, so only MySQL decides) hit both runtimes at the same time.

use std::sync::Arc;
use std::time::Duration;

use mysql_async::prelude::Queryable;
use rh_tests::cluster;
use serde_json::json;

use super::BOARD;
use crate::matches_support::{play, players};
use crate::seasons_support::{current, restore, schedule, tick, SERIAL};

#[tokio::test]
async fn a_rollover_raced_by_both_runtimes_resets_every_player_once() {
    let _board = BOARD.lock().await;
    let _serial = SERIAL.lock().await;
    let cluster = cluster::shared();
    let lb = cluster.lb().await;
    let runtimes = [
        Arc::new(cluster.runtime(0).await),
        Arc::new(cluster.runtime(1).await),
    ];
    restore(&runtimes[0]).await;
    let boss = crate::admin::admin(&lb).await;
    let p = players(&lb, 4, "eu").await;
    let ids: Vec<u64> = p.iter().map(|u| u.id).collect();
    play(&lb, "1v1", "eu", &[vec![ids[0]], vec![ids[1]]], Some(0)).await;
    play(&lb, "1v1", "eu", &[vec![ids[2]], vec![ids[3]]], Some(1)).await;
    let mut conn = lb.db.get_conn().await.unwrap();
    let mut before = Vec::new();
    for id in &ids {
        let mu: f64 = conn
            .exec_first(
                "SELECT mu FROM user_stats WHERE user_id = ? AND mode = '1v1'",
                (id,),
            )
            .await
            .unwrap()
            .unwrap();
        before.push(mu);
    }
    let old_id = current(&lb).await["id"].as_u64().unwrap();
    let new_id = schedule(&lb, &boss, 1_500, 0).await["id"].as_u64().unwrap();
    tokio::time::sleep(Duration::from_millis(1_500)).await;

    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..6 {
        let runtime = Arc::clone(&runtimes[i % 2]);
        tasks.spawn(
            async move { tick(&runtime, json!({"batch_size": 3, "use_lease": false})).await },
        );
    }
    let mut claims = 0;
    while let Some(out) = tasks.join_next().await {
        claims += usize::from(out.unwrap()["claimed"] == old_id);
    }
    assert!(
        claims <= 1,
        "claimed {claims} times (the workers may have claimed first)"
    );
    // Whoever claimed, the ticks finish it.
    for _ in 0..100 {
        if current(&lb).await["id"] == new_id
            && conn
                .exec_first::<String, _, _>("SELECT status FROM seasons WHERE id = ?", (old_id,))
                .await
                .unwrap()
                .as_deref()
                == Some("ended")
        {
            break;
        }
        tick(&runtimes[0], json!({})).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (active, rolling): (u64, u64) = conn
        .query_first("SELECT SUM(status = 'active'), SUM(status = 'rolling') FROM seasons")
        .await
        .unwrap()
        .unwrap();
    assert_eq!((active, rolling), (1, 0));
    for (i, id) in ids.iter().enumerate() {
        let (mu, season): (f64, u64) = conn
            .exec_first(
                "SELECT mu, season_id FROM user_stats WHERE user_id = ? AND mode = '1v1'",
                (id,),
            )
            .await
            .unwrap()
            .unwrap();
        let once = 25.0 + 0.75 * (before[i] - 25.0);
        assert!(
            (mu - once).abs() < 1e-9,
            "player {i}: {mu}, reset once is {once}"
        );
        assert_eq!(season, new_id);
    }
    let badges: Vec<(u64, u64)> = conn
        .exec(
            "SELECT user_id, COUNT(*) FROM notifications WHERE kind = 'season_reward' \
             AND user_id IN (?, ?, ?, ?) GROUP BY user_id",
            (ids[0], ids[1], ids[2], ids[3]),
        )
        .await
        .unwrap();
    assert_eq!(badges.len(), 4, "{badges:?}");
    assert!(badges.iter().all(|(_, n)| *n == 1), "{badges:?}");
    restore(&runtimes[0]).await;
}
