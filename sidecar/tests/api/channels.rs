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
