//! `streams-refresh`: refreshes the live-streams cache, a Redis trigger on
//! `streams:refresh` (the WebSocket sidecar's ticker publishes there every 60 s).
//!
//! Every replica receives every message; [`rh_app::integrations::streams::refresh`]
//! claims the minute with `SET NX PX`, so the providers are asked once per minute
//! whatever the number of replicas or messages. The payload is ignored.
//!
//! # Layout
//! - `lib.rs`: the trigger handler (this file).

use bytes::Bytes;
use spin_sdk::redis_component;

use rh_app::integrations::settings;
use rh_app::integrations::streams::{refresh, RefreshOutcome};
use rh_infra::clock::now_ms;
use rh_infra::db::Db;
use rh_infra::redis::Redis;

#[redis_component]
fn on_refresh(_message: Bytes) -> anyhow::Result<()> {
    let redis = Redis::open().map_err(|e| anyhow::anyhow!("{e}"))?;
    let db = Db::open().map_err(|e| anyhow::anyhow!("{e}"))?;
    let cipher = settings::cipher().map_err(|e| anyhow::anyhow!("{e}"))?;
    let outcome = refresh(&db, &redis, &cipher, settings::provider_config, now_ms())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if let RefreshOutcome::Refreshed(results) = outcome {
        for (provider, result) in results {
            match result {
                Ok(n) => println!("streams refresh: {}: {n} live", provider.as_str()),
                Err(why) => println!(
                    "streams refresh: {}: kept stale data ({why})",
                    provider.as_str()
                ),
            }
        }
    }
    Ok(())
}
