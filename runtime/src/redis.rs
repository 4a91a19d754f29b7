//! The Redis trigger: one subscriber connection per (address, channel set), a fresh instance
//! per message calling `fermyon:spin/inbound-redis.handle-message`.
//!
//! As on Spin, this is plain pub/sub: every replica receives every message. fred reconnects
//! with exponential backoff and `manage_subscriptions` re-subscribes after each reconnect.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context as _;
use fred::prelude::*;
use fred::types::config::ReconnectPolicy;
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

/// Starts one task per Redis address; each stops when `stop` turns true.
pub fn spawn_all(subs: &[Subscription], stop: watch::Receiver<bool>) -> Vec<JoinHandle<()>> {
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
                // fred retries a connection it once had, but not a first connection that
                // fails (Redis down at start-up) nor a subscriber whose stream closed: this
                // loop covers those, so the trigger always comes back when Redis does.
                let mut backoff = RETRY_MIN;
                loop {
                    match run(&address, &handlers, stop.clone()).await {
                        Ok(()) => return,
                        Err(e) => tracing::error!(
                            "redis trigger for {}: {e:#}; retrying in {backoff:?}",
                            redact(&address)
                        ),
                    }
                    if *stop.borrow() {
                        return;
                    }
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = stop.changed() => return,
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

/// One connection's life: `Ok` only when `stop` fired; any failure is an `Err` for the
/// caller's retry loop.
async fn run(
    address: &str,
    handlers: &[(String, Arc<Handler>)],
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let mut config = Config::from_url(address)
        .with_context(|| format!("invalid address {}", redact(address)))?;
    // Keep trying the first connection too (Redis may start after the runtime).
    config.fail_fast = false;
    let client = Builder::from_config(config)
        // Forever, 100 ms doubling to 10 s: a trigger outlives Redis restarts.
        .set_policy(ReconnectPolicy::new_exponential(0, 100, 10_000, 2))
        .build_subscriber_client()?;
    let mut messages = client.message_rx();
    tokio::select! {
        connected = client.init() => {
            connected.with_context(|| format!("connecting to {}", redact(address)))?;
        }
        _ = stop.changed() => return Ok(()),
    }
    let resubscriber = client.manage_subscriptions();
    let channels: Vec<String> = handlers.iter().map(|(c, _)| c.clone()).collect();
    client.subscribe(channels.clone()).await?;
    tracing::info!(
        "redis trigger subscribed to {channels:?} on {}",
        redact(address)
    );

    loop {
        tokio::select! {
            msg = messages.recv() => match msg {
                Ok(msg) => {
                    let payload = match msg.value.as_bytes() {
                        Some(b) => b.to_vec(),
                        None => msg.value.as_string().unwrap_or_default().into_bytes(),
                    };
                    for (channel, handler) in handlers {
                        if *channel == *msg.channel {
                            let handler = handler.clone();
                            let payload = payload.clone();
                            let channel = channel.clone();
                            tokio::spawn(async move { handler.handle(&channel, payload).await });
                        }
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!("redis trigger dropped {n} messages (handlers too slow)");
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                    resubscriber.abort();
                    anyhow::bail!("the subscriber's message stream closed");
                }
            },
            _ = stop.changed() => break,
        }
    }
    resubscriber.abort();
    // Bounded: a quit to a Redis that is gone must not hold up shutdown.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(2), client.quit()).await;
    Ok(())
}

impl Handler {
    async fn handle(&self, channel: &str, payload: Vec<u8>) {
        let start = std::time::Instant::now();
        let outcome = self.call(payload).await;
        let ms = start.elapsed().as_secs_f64() * 1000.0;
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
        let mut store = Store::new(self.pre.engine(), self.ctx.new_state());
        store.set_epoch_deadline(1);
        store.epoch_deadline_async_yield_and_update(1);
        let trigger = self.pre.instantiate_async(&mut store).await?;
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
