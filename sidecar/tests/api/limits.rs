//! Frame size, rate limit and slow consumers.

use std::time::Duration;

use futures::SinkExt;
use tokio::net::TcpSocket;
use tokio_tungstenite::tungstenite::Message;

use crate::helpers::*;

#[tokio::test]
async fn frames_over_4_kib_are_refused_and_over_64_kib_close_with_1009() {
    let sidecar = spawn_sidecar(test_config(&REDIS_URL)).await;
    let mut c = Client::authenticated(&sidecar, unique()).await;

    let big = format!(r#"{{"type":"subscribe","channel":"{}"}}"#, "x".repeat(5000));
    c.send(&big).await;
    assert_eq!(c.json().await["code"], "frame_too_large");
    assert_eq!(c.subscribe("feed").await["type"], "subscribed");

    c.send(&"x".repeat(70 * 1024)).await;
    assert_eq!(c.close_code().await, 1009);
}

#[tokio::test]
async fn more_than_20_messages_a_second_are_refused_and_flooding_closes_with_1008() {
    let sidecar = spawn_sidecar(test_config(&REDIS_URL)).await;
    let mut c = Client::authenticated(&sidecar, unique()).await;

    for _ in 0..30 {
        c.ws.feed(Message::text(r#"{"type":"subscribe","channel":"feed"}"#))
            .await
            .unwrap();
    }
    c.ws.flush().await.unwrap();
    let mut subscribed = 0;
    loop {
        let v = c.json().await;
        if v["type"] == "subscribed" {
            subscribed += 1;
        } else {
            assert_eq!(v["code"], "rate_limited");
            break;
        }
    }
    // All 30 were sent within well under a second, so at most 20 went through.
    assert!((10..=20).contains(&subscribed), "{subscribed}");

    for _ in 0..200 {
        if c.ws.feed(Message::text("{}")).await.is_err() {
            break;
        }
    }
    let _ = c.ws.flush().await;
    assert_eq!(c.close_code().await, 1008);
}

#[tokio::test]
async fn a_slow_consumer_is_dropped_with_1013_while_a_fast_one_keeps_receiving() {
    let mut config = test_config(&REDIS_URL);
    config.limits.queue_size = 4;
    // Long enough for the slow client to come back and read its close frame.
    config.limits.close_timeout = Duration::from_secs(60);
    let sidecar = spawn_sidecar(config).await;
    let redis = redis(&REDIS_URL).await;
    let channel = format!("match:{}", unique());

    // The slow client has a tiny receive buffer and reads nothing until the end.
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(sidecar.addr).await.unwrap();
    let url = format!("{}?token={}", sidecar.ws_url(), access_token(unique()));
    let stream = tokio_tungstenite::MaybeTlsStream::Plain(stream);
    let (slow_ws, _) = tokio_tungstenite::client_async(url, stream).await.unwrap();
    let mut slow = Client { ws: slow_ws };
    assert_eq!(slow.json().await["type"], "authenticated");
    assert_eq!(slow.subscribe(&channel).await["type"], "subscribed");

    let mut fast = Client::authenticated(&sidecar, unique()).await;
    assert_eq!(fast.subscribe(&channel).await["type"], "subscribed");

    // Paced by the fast client, so only the slow one can fall behind.
    const EVENTS: usize = 4000;
    let filler = "y".repeat(2000);
    for i in 0..EVENTS {
        publish(
            &redis,
            &channel,
            &format!(r#"{{"i":{i},"pad":"{filler}"}}"#),
        )
        .await;
        let event = fast.json().await;
        assert_eq!(
            event["data"]["i"], i,
            "the fast client got every event, in order"
        );
    }

    let mut received = 0;
    let reason = loop {
        let v = slow.json().await;
        if v["type"] == "event" {
            received += 1;
        } else {
            break v;
        }
    };
    assert_eq!(reason["code"], "too_slow");
    assert_eq!(slow.close_code().await, 1013);
    assert!(
        received < EVENTS,
        "the slow client was cut off ({received} events)"
    );
    // What an operator sees of it.
    let text = scrape(&sidecar).await;
    assert_eq!(
        metric(&text, "rh_sidecar_slow_consumer_closes_total"),
        Some(1.0),
        "{text}"
    );
    let fanned = metric(&text, "rh_sidecar_fanout_duration_seconds_count").unwrap();
    assert!(
        fanned >= EVENTS as f64,
        "{fanned} fan-outs for {EVENTS} events"
    );
}
