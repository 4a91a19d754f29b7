//! The Redis trigger against the real Redis at 127.0.0.1:6379: a publish on the trigger's
//! channel runs the listener fixture, which republishes to a per-run reply channel.
mod common;

use std::time::Duration;

use fred::prelude::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_fires_the_redis_trigger() {
    let reply = format!("rh-runtime-test:reply:{}", std::process::id());
    let app = common::spawn("redis.toml", &[("reply_channel", &reply)]).await;

    let config = Config::from_url("redis://127.0.0.1:6379").unwrap();
    let subscriber = Builder::from_config(config.clone())
        .build_subscriber_client()
        .unwrap();
    subscriber.init().await.unwrap();
    let mut messages = subscriber.message_rx();
    subscriber.subscribe(reply.clone()).await.unwrap();
    let publisher = Builder::from_config(config).build().unwrap();
    publisher.init().await.unwrap();

    // The trigger subscribes asynchronously after `serve` starts: publish until a reply
    // arrives (each publish is a fresh message; the guard bounds the wait).
    let payload = format!("ping-{}", std::process::id());
    let expected = format!("seen:{payload}");
    let got = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            let _: i64 = publisher
                .publish("rh-runtime-test:in", payload.as_str())
                .await
                .unwrap();
            let wait = tokio::time::timeout(Duration::from_millis(500), messages.recv()).await;
            if let Ok(Ok(msg)) = wait {
                return msg.value.as_string().unwrap_or_default();
            }
        }
    })
    .await
    .expect("the trigger never replied");
    assert_eq!(got, expected);

    app.shutdown().await.unwrap();
}
