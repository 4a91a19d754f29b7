//! Ticker and graceful shutdown.

use std::time::Duration;

use fred::prelude::{ClientLike, EventInterface, PubsubInterface};
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn the_ticker_publishes_at_ms_on_both_tick_channels() {
    let tick_channel = format!("test:tick:{}", unique());
    let refresh_channel = format!("test:refresh:{}", unique());
    let listener = redis(&REDIS_URL).await;
    let mut messages = listener.message_rx();
    listener
        .subscribe(vec![tick_channel.clone(), refresh_channel.clone()])
        .await
        .unwrap();

    let mut config = test_config(&REDIS_URL);
    config.tick_channel = tick_channel.clone();
    config.tick_interval = Duration::from_millis(50);
    config.streams_refresh_channel = refresh_channel.clone();
    config.streams_refresh_interval = Duration::from_millis(200);
    let before = now() * 1000;
    let sidecar = spawn_sidecar(config).await;

    let (mut ticks, mut refreshes) = (0, 0);
    while ticks < 3 || refreshes < 1 {
        let msg = tokio::time::timeout(Duration::from_secs(10), messages.recv())
            .await
            .expect("no tick")
            .unwrap();
        let payload: Value = serde_json::from_str(&msg.value.as_str().unwrap()).unwrap();
        assert!(payload["at_ms"].as_i64().unwrap() >= before);
        if msg.channel == tick_channel {
            ticks += 1;
        } else if msg.channel == refresh_channel {
            refreshes += 1;
        }
    }
    sidecar.shutdown().await.unwrap();
    listener.quit().await.unwrap();
}

#[tokio::test]
async fn shutdown_sends_1001_to_every_client_then_returns() {
    let sidecar = spawn_sidecar(test_config(&REDIS_URL)).await;
    let mut a = Client::authenticated(&sidecar, unique()).await;
    let mut b = Client::authenticated(&sidecar, unique()).await;
    a.subscribe("feed").await;

    let stopping = tokio::spawn(sidecar.shutdown());

    assert_eq!(a.close_code().await, 1001);
    assert_eq!(b.close_code().await, 1001);
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .expect("run returned after closing")
        .unwrap()
        .unwrap();
}
