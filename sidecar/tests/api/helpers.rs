//! `spawn_sidecar`, token minting, a WebSocket client wrapper and a Redis publisher.

use std::hash::{BuildHasher, RandomState};
use std::net::SocketAddr;
use std::sync::LazyLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fred::prelude::{Builder, ClientLike, Config as RedisConfig, PubsubInterface};
use futures::{SinkExt, StreamExt};
use rh_sidecar::{Config, Sidecar};
use rh_token::{TokenKeys, TokenType};
use serde_json::Value;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, watch};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const SECRET: &str = "sidecar-integration-test-secret-0123456789";
/// Redis db 1 at `RH_REDIS_HOST`:`RH_REDIS_PORT` (default 127.0.0.1:6379), as `./scripts/test`
/// exports them, so parallel test runs can each use their own Redis.
pub static REDIS_URL: LazyLock<String> = LazyLock::new(|| {
    let env = |k: &str, d: &str| std::env::var(k).unwrap_or_else(|_| d.to_owned());
    format!(
        "redis://{}:{}/1",
        env("RH_REDIS_HOST", "127.0.0.1"),
        env("RH_REDIS_PORT", "6379")
    )
});

/// A random-enough u64 for ids and channel names.
pub fn unique() -> u64 {
    RandomState::new().hash_one(SystemTime::now()) >> 1
}

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

pub fn keys() -> TokenKeys {
    TokenKeys::new(SECRET.as_bytes()).unwrap()
}

/// An access token for `user_id`, issued now, with jti `jti`.
pub fn token_with(user_id: u64, typ: TokenType, issued_at: i64, jti: &str) -> String {
    rh_token::issue(&keys(), typ, user_id, issued_at, jti.to_owned(), None).unwrap()
}

pub fn access_token(user_id: u64) -> String {
    token_with(
        user_id,
        TokenType::Access,
        now(),
        &format!("jti-{}", unique()),
    )
}

pub fn test_config(redis_url: &str) -> Config {
    let mut config = Config::new(redis_url, SECRET);
    // Tests that want ticks turn them on.
    config.tick_interval = Duration::ZERO;
    config.streams_refresh_interval = Duration::ZERO;
    config
}

pub struct TestSidecar {
    pub addr: SocketAddr,
    /// `http://.../metrics` on the sidecar's metrics listener.
    pub metrics_url: String,
    pub ready: watch::Receiver<bool>,
    stop: Option<oneshot::Sender<()>>,
    pub task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl TestSidecar {
    pub fn ws_url(&self) -> String {
        format!("ws://{}/ws", self.addr)
    }

    /// Waits until the Redis pattern subscription is live (the signal `/healthz` reports).
    pub async fn wait_ready(&mut self, up: bool) {
        tokio::time::timeout(Duration::from_secs(30), self.ready.wait_for(|r| *r == up))
            .await
            .expect("redis readiness did not change in time")
            .unwrap();
    }

    pub async fn shutdown(mut self) -> anyhow::Result<()> {
        self.stop.take().unwrap().send(()).unwrap();
        self.task.await.unwrap()
    }
}

/// Serves a sidecar on 127.0.0.1:0; returns once it is subscribed to Redis.
pub async fn spawn_sidecar(config: Config) -> TestSidecar {
    let mut s = spawn_sidecar_unready(config).await;
    s.wait_ready(true).await;
    s
}

pub async fn spawn_sidecar_unready(config: Config) -> TestSidecar {
    // RUST_LOG=rh_sidecar=debug shows the sidecar's log in failing tests.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let metrics = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics_url = format!("http://{}/metrics", metrics.local_addr().unwrap());
    let sidecar = Sidecar::new(config).unwrap().with_metrics_listener(metrics);
    let ready = sidecar.redis_ready();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(sidecar.serve(listener, async move {
        let _ = stopped.await;
    }));
    TestSidecar {
        addr,
        metrics_url,
        ready,
        stop: Some(stop),
        task,
    }
}

/// The sidecar's metrics, scraped now.
pub async fn scrape(sidecar: &TestSidecar) -> String {
    let r = reqwest::get(&sidecar.metrics_url).await.unwrap();
    assert_eq!(r.status(), 200);
    r.text().await.unwrap()
}

/// The value of the series `name{labels}` (exactly as printed) in `text`.
pub fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A test client.
pub struct Client {
    pub ws: Ws,
}

impl Client {
    pub async fn connect(url: &str) -> Client {
        let (ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
        Client { ws }
    }

    /// Connects with `?token=` and checks the `authenticated` reply.
    pub async fn authenticated(sidecar: &TestSidecar, user_id: u64) -> Client {
        let url = format!("{}?token={}", sidecar.ws_url(), access_token(user_id));
        let mut c = Client::connect(&url).await;
        let hello = c.json().await;
        assert_eq!(hello["type"], "authenticated", "{hello}");
        assert_eq!(hello["user_id"], user_id);
        c
    }

    pub async fn send(&mut self, text: &str) {
        self.ws.send(Message::text(text)).await.unwrap();
    }

    pub async fn next(&mut self) -> Option<Message> {
        tokio::time::timeout(Duration::from_secs(20), self.ws.next())
            .await
            .expect("nothing from the server within 20 s")
            .map(|m| m.unwrap())
    }

    /// The next text frame as JSON, skipping pings.
    pub async fn json(&mut self) -> Value {
        loop {
            match self.next().await {
                Some(Message::Text(t)) => return serde_json::from_str(&t).unwrap(),
                Some(Message::Ping(_) | Message::Pong(_)) => continue,
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    pub async fn subscribe(&mut self, channel: &str) -> Value {
        self.send(&format!(r#"{{"type":"subscribe","channel":"{channel}"}}"#))
            .await;
        self.json().await
    }

    /// Reads until a close frame and returns its code (texts are skipped).
    pub async fn close_code(&mut self) -> u16 {
        loop {
            match self.next().await {
                Some(Message::Close(Some(frame))) => {
                    // Like a browser: keep reading so tungstenite sends the close reply and
                    // the server's closing handshake completes.
                    while let Ok(Some(Ok(_))) =
                        tokio::time::timeout(Duration::from_secs(5), self.ws.next()).await
                    {
                    }
                    return u16::from(frame.code);
                }
                Some(Message::Close(None)) => panic!("close frame without a code"),
                Some(_) => continue,
                None => panic!("connection ended without a close frame"),
            }
        }
    }
}

/// A plain Redis client to publish with (and to set revocation keys).
pub async fn redis(url: &str) -> fred::prelude::Client {
    let client = Builder::from_config(RedisConfig::from_url(url).unwrap())
        .build()
        .unwrap();
    client.init().await.unwrap();
    client
}

pub async fn publish(redis: &fred::prelude::Client, channel: &str, payload: &str) -> u64 {
    redis.publish(channel, payload).await.unwrap()
}
