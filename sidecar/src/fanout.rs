//! The process's single Redis subscription, feeding the [`Registry`].
//!
//! Our own reconnect loop rather than fred's reconnect policy: each attempt is a fresh client
//! (no reconnect policy, so its connection task ends when the connection drops), `PSUBSCRIBE`
//! to [`REDIS_PATTERNS`], and only then is Redis reported up. After a drop we wait with
//! exponential backoff (100 ms doubling up to `max_backoff`) and start over. Clients never notice
//! except for the events published while Redis was away, which pub/sub cannot replay.

use std::sync::Arc;
use std::time::Duration;

use fred::prelude::{Builder, ClientLike, Config as RedisConfig, EventInterface, PubsubInterface};
use tokio::sync::{broadcast::error::RecvError, watch};

use crate::protocol::REDIS_PATTERNS;
use crate::registry::Registry;

const MIN_BACKOFF: Duration = Duration::from_millis(100);

/// Runs until `shutdown` turns true. `up` reflects whether the subscription is live.
pub async fn run(
    redis: RedisConfig,
    registry: Arc<Registry>,
    buffer: usize,
    max_backoff: Duration,
    up: watch::Sender<bool>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut backoff = MIN_BACKOFF;
    loop {
        tokio::select! {
            outcome = subscribe_once(&redis, &registry, buffer, &up) => match outcome {
                // It worked for a while: the next failure starts with a short pause again.
                Ok(()) => backoff = MIN_BACKOFF,
                Err(e) => tracing::warn!(error = %e, "redis subscription failed"),
            },
            () = crate::stopped(&mut shutdown) => {
                up.send_replace(false);
                return;
            }
        }
        up.send_replace(false);
        registry.metrics().redis_reconnects.inc();
        tracing::warn!(
            retry_in_ms = backoff.as_millis() as u64,
            "redis subscription lost"
        );
        tokio::select! {
            () = tokio::time::sleep(backoff) => {}
            () = crate::stopped(&mut shutdown) => return,
        }
        backoff = (backoff * 2).min(max_backoff);
    }
}

/// One connection's life: connect, subscribe, dispatch until the connection ends.
/// `Ok` means it was subscribed before it dropped; `Err` that it never got there.
async fn subscribe_once(
    redis: &RedisConfig,
    registry: &Registry,
    buffer: usize,
    up: &watch::Sender<bool>,
) -> anyhow::Result<()> {
    // Without a reconnect policy, `fail_fast` is what makes a failed attempt return an error.
    let mut redis = redis.clone();
    redis.fail_fast = true;
    let client = Builder::from_config(redis)
        .with_performance_config(|p| p.broadcast_channel_capacity = buffer)
        .with_connection_config(|c| {
            c.connection_timeout = Duration::from_secs(2);
            c.internal_command_timeout = Duration::from_secs(2);
        })
        .build()?;
    let mut messages = client.message_rx();
    let connection = client.init().await?;
    // Dropping the client must not leave the connection task running.
    let _quit = QuitOnDrop(client.clone());
    tokio::time::timeout(
        Duration::from_secs(5),
        client.psubscribe(REDIS_PATTERNS.to_vec()),
    )
    .await??;
    up.send_replace(true);
    tracing::info!("subscribed to redis patterns");

    let mut connection = std::pin::pin!(connection);
    loop {
        tokio::select! {
            msg = messages.recv() => match msg {
                Ok(msg) => {
                    let arrived = std::time::Instant::now();
                    if let Some(payload) = msg.value.as_str() {
                        // Outside tokio's cooperative budget: otherwise, after 128 socket
                        // writes in one task poll, every further write would report "not
                        // ready" and the rest of the event would go through the queues.
                        let dispatch = async { registry.dispatch(&msg.channel, &payload) };
                        let d = tokio::task::unconstrained(dispatch).await;
                        registry
                            .metrics()
                            .fanout
                            .observe(arrived.elapsed().as_secs_f64());
                        tracing::debug!(
                            channel = %msg.channel,
                            delivered = d.delivered,
                            queued = d.queued,
                            overflowed = d.overflowed,
                            "dispatched"
                        );
                    }
                }
                Err(RecvError::Lagged(n)) => tracing::warn!(lost = n, "fan-out fell behind redis"),
                Err(RecvError::Closed) => return Ok(()),
            },
            _ = &mut connection => return Ok(()),
        }
    }
}

struct QuitOnDrop(fred::prelude::Client);

impl Drop for QuitOnDrop {
    fn drop(&mut self) {
        let client = self.0.clone();
        tokio::spawn(async move {
            let _ = client.quit().await;
        });
    }
}
