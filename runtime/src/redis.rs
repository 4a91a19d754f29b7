//! The Redis trigger: one subscriber connection per (address, channel set), a fresh instance
//! per message calling `fermyon:spin/inbound-redis.handle-message`.
//!
//! As on Spin, this is plain pub/sub: every replica receives every message. What happens
//! when the subscriber's connection goes is [`OnDisconnect`]:
//! - [`OnDisconnect::Exit`] (the default) is Spin's: a first connection that fails, or a
//!   connection that drops, ends the trigger with an error, and [`App::serve`] then stops
//!   the whole app, HTTP included (Spin's `spin up` prints `A trigger exited unexpectedly.
//!   Terminating.`; containerd-shim-spin returns from its `select_all` over the triggers).
//!   Messages are handled one after another, as Spin's subscriber loop awaits each
//!   message's handlers before it reads the next.
//! - [`OnDisconnect::Reconnect`]: fred reconnects with exponential backoff,
//!   `manage_subscriptions` re-subscribes, and each message runs on its own task.
//!
//! [`App::serve`]: crate::App::serve
use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context as _;
use fred::prelude::*;
use fred::types::config::ReconnectPolicy;
use opentelemetry::trace::{SpanKind, Status, TraceContextExt as _};
use opentelemetry::KeyValue;
use rh_spin_host::bindings::redis_trigger::fermyon::spin::redis_types::Error as RedisError;
use rh_spin_host::bindings::RedisTriggerPre;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use wasmtime::component::InstancePre;
use wasmtime::Store;

use crate::instance::{ComponentContext, InstanceState};

/// One `[[trigger.redis]]` entry, resolved.
pub struct Subscription {
    pub address: String,
    pub channel: String,
    pub ctx: Arc<ComponentContext>,
    pub pre: RedisTriggerPre<InstanceState>,
}

/// Pre-instantiates a component for the Redis trigger; fails (naming the component) if it
/// does not export `fermyon:spin/inbound-redis`.
pub fn redis_pre(
    pre: &InstancePre<InstanceState>,
    component_id: &str,
) -> anyhow::Result<RedisTriggerPre<InstanceState>> {
    RedisTriggerPre::new(pre.clone()).map_err(anyhow::Error::from).with_context(|| {
        format!("component `{component_id}` is used by [[trigger.redis]] but does not export fermyon:spin/inbound-redis")
    })
}

/// What a Redis trigger does when its subscriber connection fails or drops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnDisconnect {
    /// As Spin: the trigger ends with an error, and with it the app.
    #[default]
    Exit,
    /// Reconnect and re-subscribe forever; the app keeps running.
    Reconnect,
}

/// Starts one task per Redis address; each stops when `stop` turns true. A task ends with
/// `Err` only under [`OnDisconnect::Exit`], when its connection failed or dropped.
pub fn spawn_all(
    subs: &[Subscription],
    on_disconnect: OnDisconnect,
    stop: watch::Receiver<bool>,
) -> Vec<JoinHandle<anyhow::Result<()>>> {
    let mut by_address: BTreeMap<&str, Vec<&Subscription>> = BTreeMap::new();
    for s in subs {
        by_address.entry(&s.address).or_default().push(s);
    }
    by_address
        .into_iter()
        .map(|(address, subs)| {
            let handlers: Vec<(String, Arc<Handler>)> = subs
                .iter()
                .map(|s| {
                    (
                        s.channel.clone(),
                        Arc::new(Handler {
                            ctx: s.ctx.clone(),
                            pre: s.pre.clone(),
                        }),
                    )
                })
                .collect();
            let address = address.to_string();
            let mut stop = stop.clone();
            tokio::spawn(async move {
                if on_disconnect == OnDisconnect::Exit {
                    let result = run(&address, &handlers, on_disconnect, stop).await;
                    if let Err(e) = &result {
                        tracing::error!("redis trigger for {}: {e:#}", redact(&address));
                    }
                    return result;
                }
                // fred retries a connection it once had, but not a first connection that
                // fails (Redis down at start-up) nor a subscriber whose stream closed: this
                // loop covers those, so the trigger always comes back when Redis does.
                let mut backoff = RETRY_MIN;
                loop {
                    match run(&address, &handlers, on_disconnect, stop.clone()).await {
                        Ok(()) => return Ok(()),
                        Err(e) => tracing::error!(
                            "redis trigger for {}: {e:#}; retrying in {backoff:?}",
                            redact(&address)
                        ),
                    }
                    if *stop.borrow() {
                        return Ok(());
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = stop.changed() => return Ok(()),
                    }
                    backoff = (backoff * 2).min(RETRY_MAX);
                }
            })
        })
        .collect()
}

/// Bounds of the back-off between attempts to (re)connect a trigger's subscriber.
const RETRY_MIN: std::time::Duration = std::time::Duration::from_millis(100);
const RETRY_MAX: std::time::Duration = std::time::Duration::from_secs(10);

struct Handler {
    ctx: Arc<ComponentContext>,
    pre: RedisTriggerPre<InstanceState>,
}

/// Messages a subscriber may hold while a handler runs ([`OnDisconnect::Exit`] handles
/// them one at a time, as Spin does); more are dropped with a warning. fred's default
/// (32) is less than a minute of one-second ticks behind a slow handler.
const MESSAGE_BUFFER: usize = 4096;

/// One connection's life: `Ok` only when `stop` fired; any failure is an `Err` (for the
/// caller's retry loop, or the app's end under [`OnDisconnect::Exit`]).
async fn run(
    address: &str,
    handlers: &[(String, Arc<Handler>)],
    on_disconnect: OnDisconnect,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let shown = redact(address);
    let mut config =
        Config::from_url(address).with_context(|| format!("invalid address {shown}"))?;
    let mut builder = Builder::from_config({
        // Reconnect: keep trying the first connection too (Redis may start after the
        // runtime). Exit: one attempt, as Spin's `get_async_pubsub` makes.
        config.fail_fast = on_disconnect == OnDisconnect::Exit;
        config
    });
    builder.with_performance_config(|p| p.broadcast_channel_capacity = MESSAGE_BUFFER);
    if on_disconnect == OnDisconnect::Reconnect {
        // Forever, 100 ms doubling to 10 s: a trigger outlives Redis restarts.
        builder.set_policy(ReconnectPolicy::new_exponential(0, 100, 10_000, 2));
    }
    let client = builder.build_subscriber_client()?;
    let mut messages = client.message_rx();
    // Without a reconnect policy this task ends when the connection does: Exit's signal.
    let mut connection = tokio::select! {
        connected = client.init() => {
            connected.with_context(|| format!("Redis trigger failed to connect to {shown}"))?
        }
        _ = stop.changed() => return Ok(()),
    };
    let resubscriber =
        (on_disconnect == OnDisconnect::Reconnect).then(|| client.manage_subscriptions());
    let channels: Vec<String> = handlers.iter().map(|(c, _)| c.clone()).collect();
    client
        .subscribe(channels.clone())
        .await
        .with_context(|| format!("Redis trigger failed to subscribe on {shown}"))?;
    tracing::info!("redis trigger subscribed to {channels:?} on {shown}");

    let outcome = loop {
        tokio::select! {
            msg = messages.recv() => match msg {
                Ok(msg) => {
                    let payload = match msg.value.as_bytes() {
                        Some(b) => b.to_vec(),
                        None => msg.value.as_string().unwrap_or_default().into_bytes(),
                    };
                    let matching = handlers.iter().filter(|(c, _)| *c == *msg.channel);
                    if on_disconnect == OnDisconnect::Exit {
                        // Spin awaits every handler of a message before the next one.
                        let calls = matching.map(|(c, h)| h.handle(c, payload.clone()));
                        futures::future::join_all(calls).await;
                    } else {
                        for (channel, handler) in matching {
                            let (handler, payload) = (handler.clone(), payload.clone());
                            let channel = channel.clone();
                            tokio::spawn(async move { handler.handle(&channel, payload).await });
                        }
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!("redis trigger dropped {n} messages (handlers too slow)");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                    break Err(anyhow::anyhow!("the subscriber's message stream closed"));
                }
            },
            _ = &mut connection, if on_disconnect == OnDisconnect::Exit => {
                break Err(anyhow::anyhow!("disconnected from {shown}"));
            }
            _ = stop.changed() => break Ok(()),
        }
    };
    if let Some(r) = resubscriber {
        r.abort();
    }
    if outcome.is_ok() {
        // Bounded: a quit to a Redis that is gone must not hold up shutdown.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), client.quit()).await;
    }
    connection.abort();
    outcome
}

impl Handler {
    async fn handle(&self, channel: &str, payload: Vec<u8>) {
        let start = std::time::Instant::now();
        // One span per message, as one per request: the handler's host calls are its children.
        let cx = crate::telemetry::start_span(
            &opentelemetry::Context::new(),
            SpanKind::Consumer,
            || format!("redis {channel}"),
            || {
                vec![
                    KeyValue::new("messaging.destination.name", channel.to_owned()),
                    KeyValue::new("rh.component", self.ctx.id.to_string()),
                ]
            },
        );
        let outcome =
            opentelemetry::context::FutureExt::with_context(self.call(payload), cx.clone()).await;
        let ms = start.elapsed().as_secs_f64() * 1000.0;
        let ok = matches!(outcome, Ok(Ok(())));
        self.ctx.metrics.delivery(&self.ctx.id, channel, ok);
        let span = cx.span();
        if !ok && span.is_recording() {
            span.set_status(Status::error(""));
        }
        span.end();
        match outcome {
            Ok(Ok(())) => {
                tracing::info!(target: "rh_runtime::message", "redis {channel} {} ok {ms:.2}ms", self.ctx.id)
            }
            Ok(Err(e)) => tracing::error!(
                "redis {channel} {}: handler returned {e:?} ({ms:.2}ms)",
                self.ctx.id
            ),
            Err(e) => tracing::error!("redis {channel} {}: handler failed: {e:?}", self.ctx.id),
        }
    }

    async fn call(&self, payload: Vec<u8>) -> anyhow::Result<Result<(), RedisError>> {
        let mut store = Store::new(self.pre.engine(), self.ctx.new_state(None));
        store.set_epoch_deadline(1);
        store.epoch_deadline_async_yield_and_update(1);
        let start = std::time::Instant::now();
        let trigger = self.pre.instantiate_async(&mut store).await?;
        self.ctx
            .metrics
            .instantiated(&self.ctx.id, "redis", start.elapsed());
        let result = trigger
            .fermyon_spin_inbound_redis()
            .call_handle_message(&mut store, &payload)
            .await?;
        Ok(result)
    }
}

/// An address without its password, for logs.
fn redact(address: &str) -> String {
    match url::Url::parse(address) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => address.to_string(),
    }
}
