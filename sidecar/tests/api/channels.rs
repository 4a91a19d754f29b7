//! Subscriptions and event delivery through Redis.

use crate::helpers::*;

#[tokio::test]
async fn a_subscriber_receives_what_is_published_on_its_channel() {
    let sidecar = spawn_sidecar(test_config(&REDIS_URL)).await;
    let redis = redis(&REDIS_URL).await;
    let mut c = Client::authenticated(&sidecar, unique()).await;
    let channel = format!("rankings:t{}", unique());
    let other = format!("rankings:t{}", unique());
    assert_eq!(c.subscribe(&channel).await["type"], "subscribed");

    publish(&redis, &other, r#"{"not":"for me"}"#).await;
    publish(&redis, &channel, r#"{"user_id":1,"mmr":1520,"rank":3}"#).await;

    let event = c.json().await;
    assert_eq!(event["type"], "event");
    assert_eq!(event["channel"], channel.as_str());
    assert_eq!(event["data"]["mmr"], 1520);
}

#[tokio::test]
async fn the_metrics_count_connections_subscriptions_by_kind_and_fan_outs() {
    let sidecar = spawn_sidecar(test_config(&REDIS_URL)).await;
    let redis = redis(&REDIS_URL).await;
    let user = unique();
    let mut a = Client::authenticated(&sidecar, user).await;
    let mut b = Client::authenticated(&sidecar, unique()).await;
    let channel = format!("rankings:t{}", unique());
    assert_eq!(a.subscribe(&channel).await["type"], "subscribed");
    assert_eq!(b.subscribe(&channel).await["type"], "subscribed");
    assert_eq!(
        a.subscribe(&format!("user:{user}")).await["type"],
        "subscribed"
    );
    publish(&redis, &channel, r#"{"rank":1}"#).await;
    assert_eq!(a.json().await["type"], "event");
    assert_eq!(b.json().await["type"], "event");

    let text = scrape(&sidecar).await;
    assert_eq!(
        metric(&text, "rh_sidecar_open_connections"),
        Some(2.0),
        "{text}"
    );
    let kind = |k: &str| {
        metric(
            &text,
            &format!("rh_sidecar_subscriptions{{channel_kind=\"{k}\"}}"),
        )
    };
    assert_eq!(kind("rankings"), Some(2.0), "{text}");
    assert_eq!(kind("user"), Some(1.0));
    // Names never become labels.
    assert!(!text.contains(&channel));
    assert!(metric(&text, "rh_sidecar_fanout_duration_seconds_count") >= Some(1.0));

    drop(b);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let text = scrape(&sidecar).await;
        if metric(&text, "rh_sidecar_open_connections") == Some(1.0) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "a closed connection stays counted: {text}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn private_and_queue_channels_deliver_only_the_owners_events() {
    let sidecar = spawn_sidecar(test_config(&REDIS_URL)).await;
    let redis = redis(&REDIS_URL).await;
    let user = unique();
    let mut c = Client::authenticated(&sidecar, user).await;
    assert_eq!(
        c.subscribe(&format!("user:{user}")).await["type"],
        "subscribed"
    );
    assert_eq!(c.subscribe("queue").await["channel"], "queue");

    publish(
        &redis,
        &format!("queue:{}", user + 1),
        r#"{"status":"not mine"}"#,
    )
    .await;
    publish(
        &redis,
        &format!("queue:{user}"),
        r#"{"status":"searching"}"#,
    )
    .await;
    publish(
        &redis,
        &format!("user:{user}"),
        r#"{"kind":"notification"}"#,
    )
    .await;

    let first = c.json().await;
    assert_eq!(first["channel"], "queue");
    assert_eq!(first["data"]["status"], "searching");
    let second = c.json().await;
    assert_eq!(second["channel"], format!("user:{user}"));
}

#[tokio::test]
async fn another_users_channel_is_refused_and_the_connection_stays_open() {
    let sidecar = spawn_sidecar(test_config(&REDIS_URL)).await;
    let redis = redis(&REDIS_URL).await;
    let user = unique();
    let mut c = Client::authenticated(&sidecar, user).await;

    let err = c.subscribe(&format!("user:{}", user + 1)).await;
    assert_eq!(err["type"], "error");
    assert_eq!(err["code"], "forbidden_channel");

    // Still open, and the refused channel really is not delivered.
    let channel = format!("match:{}", unique());
    assert_eq!(c.subscribe(&channel).await["type"], "subscribed");
    publish(&redis, &format!("user:{}", user + 1), r#"{"secret":true}"#).await;
    publish(&redis, &channel, r#"{"status":"live"}"#).await;
    assert_eq!(c.json().await["channel"], channel.as_str());
}

#[tokio::test]
async fn unknown_channels_and_malformed_messages_get_errors_and_the_connection_stays_open() {
    let sidecar = spawn_sidecar(test_config(&REDIS_URL)).await;
    let mut c = Client::authenticated(&sidecar, unique()).await;
    assert_eq!(
        c.subscribe("matchmaking:tick").await["code"],
        "unknown_channel"
    );
    c.send("{").await;
    assert_eq!(c.json().await["code"], "malformed");
    assert_eq!(c.subscribe("feed").await["type"], "subscribed");
}
