//! Run-time settings. `main.rs` fills them from flags and environment; tests build them directly.

use std::fmt;
use std::time::Duration;

/// Per-connection limits and timers.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Events queued for one client before it counts as too slow (closed with 1013).
    pub queue_size: usize,
    /// Largest text frame the server reads; bigger ones get an error message.
    pub max_frame_bytes: usize,
    /// Largest frame the WebSocket layer accepts at all; beyond it the connection closes (1009).
    pub hard_max_frame_bytes: usize,
    /// Client data frames allowed per second; more are refused with one error per second.
    pub max_msgs_per_sec: u32,
    /// A client sending this many times the allowed rate within one second is closed (1008).
    pub abuse_factor: u32,
    /// Channels one connection may hold at once.
    pub max_subscriptions: usize,
    /// Simultaneous connections; more are refused with HTTP 503 before the upgrade.
    pub max_connections: usize,
    /// Time a connection has to authenticate.
    pub auth_timeout: Duration,
    /// How often the server pings.
    pub ping_interval: Duration,
    /// A client that sends nothing (not even a pong) for this long is dropped.
    pub idle_timeout: Duration,
    /// How long a write to one client may block before the client is dropped.
    pub send_timeout: Duration,
    /// How long the server tries to deliver a close frame before dropping the TCP connection.
    pub close_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            queue_size: 256,
            max_frame_bytes: 4 * 1024,
            hard_max_frame_bytes: 64 * 1024,
            max_msgs_per_sec: 20,
            abuse_factor: 5,
            max_subscriptions: 100,
            max_connections: 50_000,
            auth_timeout: Duration::from_secs(5),
            ping_interval: Duration::from_secs(15),
            idle_timeout: Duration::from_secs(30),
            send_timeout: Duration::from_secs(30),
            close_timeout: Duration::from_secs(5),
        }
    }
}

/// A secret value (the JWT secret, a database URL with its password). Its `Debug` never
/// shows the value, so a logged config leaks nothing.
#[derive(Clone)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    /// `redis://host:port/db`. Pub/sub ignores the db number; revocation keys are read from it.
    pub redis_url: String,
    /// Same value as the Spin variable `jwt_secret`.
    pub jwt_secret: Secret,
    /// `mysql://user:password@host:port/db` of a read-only account (SELECT on
    /// `revoked_access_tokens` and `user_token_cutoffs`), asked when Redis cannot vouch for
    /// its revocation marks ([`crate::auth`]). `None`: Redis alone decides.
    pub database_url: Option<Secret>,
    /// Interval of the matchmaking tick; zero disables the ticker.
    pub tick_interval: Duration,
    pub tick_channel: String,
    /// Interval of the streams refresh tick; zero disables it.
    pub streams_refresh_interval: Duration,
    pub streams_refresh_channel: String,
    /// Longest pause between two attempts to reach Redis.
    pub redis_max_backoff: Duration,
    /// Redis messages buffered between the connection reader and the fan-out loop.
    pub redis_buffer: usize,
    pub limits: Limits,
}

impl Config {
    /// Defaults matching `./scripts/up`, with the given Redis URL and secret.
    pub fn new(redis_url: impl Into<String>, jwt_secret: impl Into<String>) -> Self {
        Config {
            redis_url: redis_url.into(),
            jwt_secret: Secret(jwt_secret.into()),
            database_url: None,
            tick_interval: Duration::from_millis(1000),
            tick_channel: "matchmaking:tick".into(),
            streams_refresh_interval: Duration::from_secs(60),
            streams_refresh_channel: "streams:refresh".into(),
            redis_max_backoff: Duration::from_secs(5),
            redis_buffer: 16 * 1024,
            limits: Limits::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_secret() {
        let c = Config::new(
            "redis://127.0.0.1:6379/0",
            "super-secret-value-of-32-bytes!!",
        );
        let c = Config {
            database_url: Some(Secret("mysql://ro:db-password@127.0.0.1/x".into())),
            ..c
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("super-secret"));
        assert!(!shown.contains("db-password"));
    }
}
