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
use tokio::sync::watch;
use tokio::task::JoinHandle;
use wasmtime::component::{ComponentType, InstancePre, Lift, Lower};
use wasmtime::Store;

use crate::instance::{ComponentContext, InstanceState};

/// The exported interface and function (unversioned in spin-sdk 5.2's WIT).
const INTERFACE: &str = "fermyon:spin/inbound-redis";
const FUNCTION: &str = "handle-message";

/// `fermyon:spin/redis-types.error`.
#[derive(ComponentType, Lift, Lower, Debug, Clone, Copy, PartialEq, Eq)]
#[component(enum)]
#[repr(u8)]
pub enum RedisError {
    #[component(name = "success")]
    Success,
    #[component(name = "error")]
    Error,
}

/// One `[[trigger.redis]]` entry, resolved.
pub struct Subscription {
    pub address: String,
    pub channel: String,
    pub ctx: Arc<ComponentContext>,
    pub pre: InstancePre<InstanceState>,
}

/// Checks at load time that a component exports the Redis handler.
pub fn check_export(pre: &InstancePre<InstanceState>, component_id: &str) -> anyhow::Result<()> {
    let component = pre.component();
    let iface = component.get_export_index(None, INTERFACE);
    let func = iface.and_then(|i| component.get_export_index(Some(&i), FUNCTION));
    if func.is_none() {
        anyhow::bail!(
            "component `{component_id}` is used by [[trigger.redis]] but does not export {INTERFACE}.{FUNCTION}"
        );
    }
    Ok(())
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
            let stop = stop.clone();
            tokio::spawn(async move {
                if let Err(e) = run(&address, handlers, stop).await {
                    tracing::error!("redis trigger for {}: {e:#}", redact(&address));
                }
            })
        })
        .collect()
}

struct Handler {
    ctx: Arc<ComponentContext>,
    pre: InstancePre<InstanceState>,
}

async fn run(
    address: &str,
    handlers: Vec<(String, Arc<Handler>)>,
    mut stop: watch::Receiver<bool>,
) -> anyhow::Result<()> {
    let config = Config::from_url(address)
        .with_context(|| format!("invalid address {}", redact(address)))?;
    let client = Builder::from_config(config)
        // Forever, 100 ms doubling to 10 s: a trigger outlives Redis restarts.
        .set_policy(ReconnectPolicy::new_exponential(0, 100, 10_000, 2))
        .build_subscriber_client()?;
    let mut messages = client.message_rx();
    client
        .init()
        .await
        .with_context(|| format!("connecting to {}", redact(address)))?;
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
                    for (channel, handler) in &handlers {
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
                Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
            },
            _ = stop.changed() => break,
        }
    }
    resubscriber.abort();
    let _ = client.quit().await;
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
        let instance = self.pre.instantiate_async(&mut store).await?;
        let iface = instance
            .get_export_index(&mut store, None, INTERFACE)
            .context("missing inbound-redis export")?;
        let func_idx = instance
            .get_export_index(&mut store, Some(&iface), FUNCTION)
            .context("missing handle-message export")?;
        let func = instance
            .get_typed_func::<(Vec<u8>,), (Result<(), RedisError>,)>(&mut store, &func_idx)?;
        let (result,) = func.call_async(&mut store, (payload,)).await?;
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
