//! Periodic ticks published on Redis: the matchmaking tick (every second by default) and the
//! streams refresh (every minute). Several sidecars mean several ticks; the consumers are
//! written to be safe under concurrent ticks, so no leader election is needed here.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use fred::prelude::{Client, PubsubInterface};
use tokio::sync::watch;
use tokio::time::MissedTickBehavior;

/// The tick payload: `{"at_ms": <unix epoch milliseconds>}`.
pub fn tick_payload(now: SystemTime) -> String {
    let at_ms = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let tick = rh_domain::events::Tick {
        at_ms: Some(at_ms as i64),
        reason: None,
    };
    serde_json::to_string(&tick).unwrap_or_default()
}

/// Publishes on `channel` every `every` until shutdown. A zero interval disables the ticker.
pub async fn run(
    redis: Client,
    channel: String,
    every: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    if every.is_zero() {
        return;
    }
    let mut interval = tokio::time::interval(every);
    // After a stall, tick once and carry on rather than firing a burst of stale ticks.
    interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = interval.tick() => {}
            () = crate::stopped(&mut shutdown) => return,
        }
        let payload = tick_payload(SystemTime::now());
        let published = tokio::time::timeout(every.max(Duration::from_secs(1)), async {
            redis.publish::<u64, _, _>(channel.as_str(), payload).await
        })
        .await;
        match published {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::debug!(%channel, error = %e, "tick not published"),
            Err(_) => tracing::debug!(%channel, "tick publish timed out"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_is_epoch_millis() {
        let t = UNIX_EPOCH + Duration::from_millis(1_700_000_000_123);
        assert_eq!(tick_payload(t), r#"{"at_ms":1700000000123}"#);
    }
}
