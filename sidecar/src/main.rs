//! `rh-sidecar`: flags and environment in, a served [`Sidecar`] out (see `docs/websocket.md`).

use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use rh_sidecar::{Config, Limits, Sidecar};

#[derive(Parser)]
#[command(
    version,
    about = "RankedHonor WebSocket sidecar",
    after_help = "Environment only (never flags, which show in ps):\n  \
        RH_JWT_SECRET (required): the Spin variable jwt_secret's value.\n  \
        RH_SIDECAR_DATABASE_URL (recommended): mysql:// URL of a read-only account, asked \
        when Redis has lost its revocation marks."
)]
struct Args {
    #[arg(long, env = "RH_SIDECAR_LISTEN", default_value = "127.0.0.1:8001")]
    listen: String,
    #[arg(long, env = "RH_REDIS_URL", default_value = "redis://127.0.0.1:6379/0")]
    redis_url: String,
    #[arg(long, env = "RH_TICK_INTERVAL_MS", default_value_t = 1000)]
    tick_interval_ms: u64,
    #[arg(long, env = "RH_TICK_CHANNEL", default_value = "matchmaking:tick")]
    tick_channel: String,
    #[arg(long, env = "RH_STREAMS_REFRESH_INTERVAL_S", default_value_t = 60)]
    streams_refresh_interval_s: u64,
    #[arg(
        long,
        env = "RH_STREAMS_REFRESH_CHANNEL",
        default_value = "streams:refresh"
    )]
    streams_refresh_channel: String,
    /// Events queued per client before it is dropped as too slow (1013).
    #[arg(long, env = "RH_SIDECAR_QUEUE_SIZE", default_value_t = 256)]
    queue_size: usize,
    #[arg(long, env = "RH_SIDECAR_MAX_CONNECTIONS", default_value_t = 50_000)]
    max_connections: usize,
    #[arg(long, env = "RH_SIDECAR_MAX_MSGS_PER_SEC", default_value_t = 20)]
    max_msgs_per_sec: u32,
    #[arg(long, env = "RH_SIDECAR_MAX_SUBSCRIPTIONS", default_value_t = 100)]
    max_subscriptions: usize,
    /// Serve Prometheus metrics at `GET /metrics` on this address (off by default).
    #[arg(long, env = "RH_SIDECAR_METRICS_LISTEN")]
    metrics_listen: Option<String>,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    // Environment only, never a flag: flags show up in `ps` and shell history.
    let jwt_secret = std::env::var("RH_JWT_SECRET")
        .context("RH_JWT_SECRET must be set (the same value as the Spin variable jwt_secret)")?;
    let config = Config {
        tick_interval: Duration::from_millis(args.tick_interval_ms),
        tick_channel: args.tick_channel,
        streams_refresh_interval: Duration::from_secs(args.streams_refresh_interval_s),
        streams_refresh_channel: args.streams_refresh_channel,
        limits: Limits {
            queue_size: args.queue_size,
            max_connections: args.max_connections,
            max_msgs_per_sec: args.max_msgs_per_sec,
            max_subscriptions: args.max_subscriptions,
            ..Limits::default()
        },
        database_url: std::env::var("RH_SIDECAR_DATABASE_URL")
            .ok()
            .filter(|url| !url.is_empty())
            .map(rh_sidecar::Secret),
        ..Config::new(args.redis_url, jwt_secret)
    };
    // Validate (secret length, Redis URL) before taking the port.
    let mut sidecar = Sidecar::new(config)?;
    if let Some(addr) = &args.metrics_listen {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr} for metrics"))?;
        tracing::info!(listen = %addr, "metrics listening");
        sidecar = sidecar.with_metrics_listener(listener);
    }
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    tracing::info!(listen = %args.listen, "sidecar listening");
    sidecar.serve(listener, shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
