//! RankedHonor's WebSocket sidecar: authenticated real-time channels fanned out from Redis
//! pub/sub, and the periodic ticks (matchmaking, streams refresh). The protocol is documented
//! in `docs/websocket.md`.
//!
//! One Redis pattern subscription per process feeds an in-process registry (channel →
//! connections); each event is framed once and written straight into every socket that takes
//! it at once, and queued (bounded, per connection) for the others. Each connection is one
//! task, which shares its socket with the fan-out. Several sidecars
//! can run side by side: each holds its own subscription, so each delivers every event.
//!
//! # Layout
//! - [`run`] / [`server`]: the `/ws` upgrade, `/healthz`, connection limit, graceful shutdown.
//! - [`session`]: one connection's life (auth, subscribe, events, heartbeat, limits), generic
//!   over `Sink`/`Stream` so unit tests drive it with channels.
//! - [`protocol`]: JSON messages and channel authorisation (pure).
//! - [`registry`]: channel → subscribers; `dispatch` writes directly or `try_send`s, overflow → 1013.
//! - [`socket`]: a connection's socket shared by its session and the fan-out, whole frames only.
//! - [`fanout`]: the single Redis subscription, reconnect with backoff, resubscribe.
//! - [`ticker`]: `{"at_ms":...}` on the tick channels.
//! - [`auth`]: rh-token verification plus Redis revocation checks.
//! - [`config`]: settings and limits.
//! - [`metrics`]: what `--metrics-listen` serves (Prometheus text).

pub mod auth;
pub mod config;
pub mod fanout;
pub mod metrics;
pub mod protocol;
pub mod registry;
pub mod server;
pub mod session;
pub mod socket;
pub mod ticker;

use std::future::Future;

pub use config::{Config, Limits, Secret};
pub use server::Sidecar;
use tokio::net::TcpListener;

/// Serves the sidecar on `listener` until `shutdown` resolves; then sends close frames (1001)
/// to every client and returns.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    Sidecar::new(config)?.serve(listener, shutdown).await
}

/// Resolves once `shutdown` is true (or its sender is gone). Returns `()` rather than
/// `wait_for`'s borrow guard, which is not `Send` and must not live across an await.
pub(crate) async fn stopped(shutdown: &mut tokio::sync::watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|down| *down).await;
}
