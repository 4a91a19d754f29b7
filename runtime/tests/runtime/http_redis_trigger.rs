//! The Redis trigger: a publish on the trigger's channel runs the listener fixture (a fresh
//! instance per message), which republishes `seen:<message>` to a per-run reply channel
//! through Spin's Redis host interface. One test uses the shared Redis at 127.0.0.1:6379;
//! the restart tests run their own `redis-server` on a free port so they can stop it.
//!
//! Both behaviours on a lost connection: Spin's (the default, [`OnDisconnect::Exit`]: the
//! app ends, HTTP included) and [`OnDisconnect::Reconnect`].

use rh_runtime::OnDisconnect;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fred::clients::SubscriberClient;
use fred::prelude::*;

const IN_CHANNEL: &str = "rh-runtime-test:in";

/// A test's own view of one Redis server: a subscriber on the reply channel and a publisher.
struct Observer {
    subscriber: SubscriberClient,
    publisher: Client,
    messages: tokio::sync::broadcast::Receiver<fred::types::Message>,
}

impl Observer {
    async fn connect(url: &str, reply: &str) -> Self {
        let config = Config::from_url(url).unwrap();
        let subscriber = Builder::from_config(config.clone())
            .build_subscriber_client()
            .unwrap();
        let messages = subscriber.message_rx();
        subscriber.init().await.unwrap();
        subscriber.subscribe(reply.to_string()).await.unwrap();
        let publisher = Builder::from_config(config).build().unwrap();
        publisher.init().await.unwrap();
        Self {
            subscriber,
            publisher,
            messages,
        }
    }

    /// Publishes `payload` until the trigger's reply arrives. The trigger subscribes (or
    /// re-subscribes after a restart) asynchronously, so early publishes may reach nobody;
    /// each retry waits for the reply signal, and the outer guard bounds the whole wait.
    async fn roundtrip(&mut self, payload: &str) -> String {
        tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                let _: i64 = self
                    .publisher
                    .publish(IN_CHANNEL, payload)
                    .await
                    .unwrap_or(0);
                let wait =
                    tokio::time::timeout(Duration::from_millis(500), self.messages.recv()).await;
                if let Ok(Ok(msg)) = wait {
                    return msg.value.as_string().unwrap_or_default();
                }
            }
        })
        .await
        .expect("the trigger never replied")
    }

    async fn close(self) {
        let _ = self.subscriber.quit().await;
        let _ = self.publisher.quit().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_fires_the_redis_trigger() {
    let reply = format!("rh-runtime-test:reply:{}", std::process::id());
    let app = crate::common::spawn("redis.toml", &[("reply_channel", &reply)]).await;
    let mut observer = Observer::connect("redis://127.0.0.1:6379", &reply).await;

    let payload = format!("ping-{}", std::process::id());
    assert_eq!(
        observer.roundtrip(&payload).await,
        format!("seen:{payload}")
    );

    observer.close().await;
    app.shutdown().await.unwrap();
}

/// A private redis-server, killed when dropped.
struct RedisServer(Child);

impl RedisServer {
    fn start(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server must be installed for this test");
        // Wait until it accepts connections, so clients' first connects don't race it.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "redis-server did not start on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self(child)
    }

    fn stop(mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_reconnect_the_trigger_resubscribes_after_a_redis_restart() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let host = format!("127.0.0.1:{port}");
    let url = format!("redis://{host}");
    let reply = format!("rh-runtime-test:reply:restart:{}", std::process::id());

    let server = RedisServer::start(port);
    let app = crate::common::spawn_with(
        "redis.toml",
        &[("redis_host", &host), ("reply_channel", &reply)],
        reconnect,
    )
    .await;
    let mut observer = Observer::connect(&url, &reply).await;
    assert_eq!(observer.roundtrip("before").await, "seen:before");
    observer.close().await;

    server.stop();
    let _server = RedisServer::start(port);
    let mut observer = Observer::connect(&url, &reply).await;
    assert_eq!(observer.roundtrip("after").await, "seen:after");

    observer.close().await;
    app.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_reconnect_the_trigger_connects_once_redis_starts_after_the_runtime() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let host = format!("127.0.0.1:{port}");
    let reply = format!("rh-runtime-test:reply:late:{}", std::process::id());

    // Nothing listens on `port` yet: the app still starts, and its trigger keeps trying.
    let app = crate::common::spawn_with(
        "redis.toml",
        &[("redis_host", &host), ("reply_channel", &reply)],
        reconnect,
    )
    .await;
    let _server = RedisServer::start(port);
    let mut observer = Observer::connect(&format!("redis://{host}"), &reply).await;
    assert_eq!(observer.roundtrip("late").await, "seen:late");

    observer.close().await;
    app.shutdown().await.unwrap();
}

fn reconnect(app: rh_runtime::App) -> rh_runtime::App {
    app.with_redis_on_disconnect(OnDisconnect::Reconnect)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Waits (bounded) for the app's `serve` to return and gives its error text.
async fn serve_error(app: &mut crate::common::Running) -> String {
    let result = tokio::time::timeout(Duration::from_secs(60), &mut app.task)
        .await
        .expect("the app did not stop")
        .expect("serve panicked");
    format!(
        "{:#}",
        result.expect_err("serve must end with the trigger's error")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn as_on_spin_a_lost_redis_connection_ends_the_app_http_included() {
    let port = free_port();
    let host = format!("127.0.0.1:{port}");
    let reply = format!("rh-runtime-test:reply:exit:{}", std::process::id());
    let server = RedisServer::start(port);
    let mut app = crate::common::spawn(
        "http-and-redis.toml",
        &[("redis_host", &host), ("reply_channel", &reply)],
    )
    .await;
    let mut observer = Observer::connect(&format!("redis://{host}"), &reply).await;
    assert_eq!(observer.roundtrip("before").await, "seen:before");
    let hello = crate::common::client()
        .get(app.url("/"))
        .send()
        .await
        .unwrap();
    assert_eq!(hello.status(), 200);
    observer.close().await;

    server.stop();

    let error = serve_error(&mut app).await;
    assert!(error.contains("disconnected from"), "{error}");
    assert!(
        crate::common::client()
            .get(app.url("/"))
            .send()
            .await
            .is_err(),
        "the HTTP trigger went down with the app"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn as_on_spin_redis_down_at_start_ends_the_app() {
    let host = format!("127.0.0.1:{}", free_port());
    let mut app = crate::common::spawn("http-and-redis.toml", &[("redis_host", &host)]).await;
    let error = serve_error(&mut app).await;
    assert!(error.contains("failed to connect"), "{error}");
}
