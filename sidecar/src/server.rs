//! HTTP side: the `/ws` upgrade, `/health` (and its older name `/healthz`), connection
//! accounting and graceful shutdown.
//!
//! The upgrade is done here rather than with axum's `WebSocketUpgrade`, which hides the
//! upgraded socket inside its `WebSocket`: the fan-out needs to share that socket with the
//! session ([`crate::socket`]).

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::serve::ListenerExt;
use axum::Router;
use fred::prelude::{Builder, ClientLike, Config as RedisConfig, ReconnectPolicy};
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch, Semaphore};
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::WebSocketStream;

use crate::auth::{Authenticator, TokenAuth};
use crate::config::Config;
use crate::registry::Registry;
use crate::session::{self, Shared};
use crate::socket::{SharedSocket, SocketIo};
use crate::{fanout, ticker};

/// A configured sidecar, not yet serving. [`crate::run`] is `new` then `serve`; tests keep the
/// sidecar to watch [`Sidecar::redis_ready`] before publishing.
pub struct Sidecar {
    config: Config,
    redis_config: RedisConfig,
    commands: fred::prelude::Client,
    registry: Arc<Registry>,
    auth: Arc<TokenAuth>,
    redis_up: watch::Sender<bool>,
    metrics_listener: Option<TcpListener>,
}

struct AppState<A> {
    shared: Shared<A>,
    connections: Arc<Semaphore>,
    /// Cloned into every session; the server waits for all clones to drop on shutdown.
    alive: mpsc::Sender<()>,
    redis_up: watch::Receiver<bool>,
    limits: crate::config::Limits,
}

impl<A> Clone for AppState<A> {
    fn clone(&self) -> Self {
        AppState {
            shared: self.shared.clone(),
            connections: self.connections.clone(),
            alive: self.alive.clone(),
            redis_up: self.redis_up.clone(),
            limits: self.limits.clone(),
        }
    }
}

impl Sidecar {
    /// Checks the configuration (URL, secret length) and starts the Redis command client,
    /// which reconnects on its own. Does not require Redis to be up.
    pub fn new(config: Config) -> anyhow::Result<Self> {
        let keys = rh_token::TokenKeys::new(config.jwt_secret.0.as_bytes())
            .context("RH_JWT_SECRET is not a usable secret")?;
        let mut redis_config =
            RedisConfig::from_url(&config.redis_url).context("invalid redis url")?;
        // Start even when Redis is down; commands fail (and auth says "unavailable") meanwhile.
        redis_config.fail_fast = false;
        let commands = Builder::from_config(redis_config.clone())
            .with_performance_config(|p| p.default_command_timeout = Duration::from_secs(2))
            .with_connection_config(|c| c.connection_timeout = Duration::from_secs(2))
            .set_policy(ReconnectPolicy::new_exponential(
                0,
                100,
                config.redis_max_backoff.as_millis() as u32,
                2,
            ))
            .build()?;
        let db = match &config.database_url {
            Some(url) => {
                let opts = mysql_async::Opts::from_url(&url.0)
                    .context("invalid database url (RH_SIDECAR_DATABASE_URL)")?;
                // Connections are opened on first use, so a sidecar starts without MySQL; it
                // is asked only while Redis cannot vouch for its revocation marks.
                let pool_opts = mysql_async::PoolOpts::default()
                    .with_constraints(mysql_async::PoolConstraints::new(0, 8).expect("0 <= 8"));
                Some(mysql_async::Pool::new(
                    mysql_async::OptsBuilder::from_opts(opts).pool_opts(pool_opts),
                ))
            }
            None => {
                tracing::warn!(
                    "no RH_SIDECAR_DATABASE_URL: revocations are read from Redis only, so after \
                     Redis loses its data a revoked token can open a WebSocket until the API \
                     rebuilds the marks"
                );
                None
            }
        };
        let (redis_up, _) = watch::channel(false);
        Ok(Sidecar {
            auth: Arc::new(TokenAuth::new(keys, commands.clone(), db)),
            config,
            redis_config,
            commands,
            registry: Arc::new(Registry::new()),
            redis_up,
            metrics_listener: None,
        })
    }

    /// Serves `GET /metrics` (Prometheus text, [`crate::metrics`]) on `listener` while the
    /// sidecar runs: an address of its own, not the clients' port.
    pub fn with_metrics_listener(mut self, listener: TcpListener) -> Self {
        self.metrics_listener = Some(listener);
        self
    }

    /// True while the pattern subscription is live.
    pub fn redis_ready(&self) -> watch::Receiver<bool> {
        self.redis_up.subscribe()
    }

    /// Serves `/ws` until `shutdown` resolves, then closes every client with 1001 and returns.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let Sidecar {
            config,
            redis_config,
            commands,
            registry,
            auth,
            redis_up,
            metrics_listener,
        } = self;
        let _command_task = commands.connect();
        let (stop_tx, stop_rx) = watch::channel(false);

        let fanout = tokio::spawn(fanout::run(
            redis_config,
            registry.clone(),
            config.redis_buffer,
            config.redis_max_backoff,
            redis_up.clone(),
            stop_rx.clone(),
        ));
        let tick = tokio::spawn(ticker::run(
            commands.clone(),
            config.tick_channel.clone(),
            config.tick_interval,
            stop_rx.clone(),
        ));
        let refresh = tokio::spawn(ticker::run(
            commands.clone(),
            config.streams_refresh_channel.clone(),
            config.streams_refresh_interval,
            stop_rx.clone(),
        ));

        let (alive_tx, mut alive_rx) = mpsc::channel::<()>(1);
        let state = AppState {
            shared: Shared {
                auth,
                registry,
                limits: config.limits.clone(),
                shutdown: stop_rx.clone(),
            },
            connections: Arc::new(Semaphore::new(config.limits.max_connections)),
            alive: alive_tx,
            redis_up: redis_up.subscribe(),
            limits: config.limits.clone(),
        };
        let metrics_registry = state.shared.registry.clone();
        let app = router(state);

        let metrics = metrics_listener.map(|listener| {
            let registry = metrics_registry;
            let app = Router::new().route(
                "/metrics",
                get(move || {
                    let registry = registry.clone();
                    async move {
                        (
                            [(
                                header::CONTENT_TYPE,
                                "text/plain; version=0.0.4; charset=utf-8",
                            )],
                            registry.render_metrics(),
                        )
                    }
                }),
            );
            let mut stop = stop_rx.clone();
            tokio::spawn(async move {
                let server = axum::serve(listener, app).with_graceful_shutdown(async move {
                    crate::stopped(&mut stop).await;
                });
                if let Err(e) = server.await {
                    tracing::warn!(error = %e, "metrics listener failed");
                }
            })
        });

        let mut stop_http = stop_rx.clone();
        // Events are small writes that must leave at once: no Nagle delay behind an unacked one.
        let listener = listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "could not set TCP_NODELAY");
            }
        });
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            crate::stopped(&mut stop_http).await;
        });
        let server = tokio::spawn(async move { server.await });
        shutdown.await;
        tracing::info!("shutting down: closing every connection with 1001");
        stop_tx.send_replace(true);

        // Upgraded connections are no longer tracked by the HTTP server: wait for the sessions.
        let grace = config.limits.close_timeout + Duration::from_secs(1);
        let _ = tokio::time::timeout(grace, alive_rx.recv()).await;
        let _ = tokio::time::timeout(grace, server).await;
        let _ = tokio::join!(fanout, tick, refresh);
        if let Some(metrics) = metrics {
            let _ = metrics.await;
        }
        // Bounded: with Redis down, QUIT would wait for a reconnection that may never come.
        let _ = tokio::time::timeout(Duration::from_secs(2), commands.quit()).await;
        Ok(())
    }
}

fn router<A: Authenticator>(state: AppState<A>) -> Router {
    Router::new()
        .route("/ws", get(ws_handler::<A>))
        // `/health` is what load balancers and Kubernetes probes ask, like the API's;
        // `/healthz` stays for whoever already polls it.
        .route("/health", get(healthz::<A>))
        .route("/healthz", get(healthz::<A>))
        .with_state(state)
}

#[derive(Deserialize)]
struct WsQuery {
    token: Option<String>,
}

async fn ws_handler<A: Authenticator>(
    State(state): State<AppState<A>>,
    Query(query): Query<WsQuery>,
    mut request: Request,
) -> Response {
    let key = match websocket_key(request.method(), request.headers()) {
        Ok(key) => key,
        Err(refusal) => return refusal.into_response(),
    };
    let Some(on_upgrade) = request
        .extensions_mut()
        .remove::<hyper::upgrade::OnUpgrade>()
    else {
        return (StatusCode::UPGRADE_REQUIRED, "connection not upgradable").into_response();
    };
    let Ok(permit) = state.connections.clone().try_acquire_owned() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "too many connections").into_response();
    };
    let limits = &state.limits;
    let config = WebSocketConfig::default()
        // Small buffers: most connections are idle, and memory per connection is what scales.
        // tungstenite allocates the read buffer up front and grows it only for bigger frames.
        .read_buffer_size(1024)
        .write_buffer_size(0)
        .max_frame_size(Some(limits.hard_max_frame_bytes))
        .max_message_size(Some(limits.hard_max_frame_bytes));
    let open = OpenConnection::new(state.shared.registry.clone());
    tokio::spawn(async move {
        let _permit = permit;
        let _open = open;
        let _alive = state.alive;
        let Ok(upgraded) = on_upgrade.await else {
            return;
        };
        let socket = SharedSocket::new(TokioIo::new(upgraded));
        let ws =
            WebSocketStream::from_raw_socket(SocketIo(socket.clone()), Role::Server, Some(config))
                .await;
        session::run(ws, query.token, Some(socket), state.shared).await;
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "upgrade")
        .header(header::UPGRADE, "websocket")
        .header(
            header::SEC_WEBSOCKET_ACCEPT,
            derive_accept_key(key.as_bytes()),
        )
        .body(Body::empty())
        .expect("a valid response")
}

/// Counts one connection in `rh_sidecar_open_connections` for as long as it lives.
struct OpenConnection(Arc<Registry>);

impl OpenConnection {
    fn new(registry: Arc<Registry>) -> Self {
        registry.metrics().open_connections.inc();
        OpenConnection(registry)
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.metrics().open_connections.dec();
    }
}

/// Checks an HTTP/1.1 WebSocket upgrade request (RFC 6455 section 4.2.1) and returns its
/// `Sec-WebSocket-Key`.
fn websocket_key(
    method: &Method,
    headers: &HeaderMap,
) -> Result<String, (StatusCode, &'static str)> {
    let has = |name: header::HeaderName, token: &str| {
        headers.get_all(name).iter().any(|v| {
            v.to_str()
                .is_ok_and(|v| v.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
        })
    };
    if method != Method::GET {
        return Err((
            StatusCode::METHOD_NOT_ALLOWED,
            "a WebSocket upgrade is a GET",
        ));
    }
    if !has(header::CONNECTION, "upgrade") || !has(header::UPGRADE, "websocket") {
        return Err((StatusCode::BAD_REQUEST, "not a WebSocket upgrade request"));
    }
    if !has(header::SEC_WEBSOCKET_VERSION, "13") {
        return Err((StatusCode::BAD_REQUEST, "Sec-WebSocket-Version must be 13"));
    }
    headers
        .get(header::SEC_WEBSOCKET_KEY)
        .and_then(|k| k.to_str().ok())
        .map(str::to_owned)
        .ok_or((StatusCode::BAD_REQUEST, "Sec-WebSocket-Key is missing"))
}

async fn healthz<A>(State(state): State<AppState<A>>) -> StatusCode {
    if *state.redis_up.borrow() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}
