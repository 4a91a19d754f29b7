//! `queue-tick`: the Redis-triggered matchmaking tick.
//!
//! Subscribed to `matchmaking:tick` (`[[trigger.redis]]` in spin-worker.toml). The WebSocket
//! sidecar publishes a tick every second and every queue join publishes one, so
//! tolerance widens with waiting time even when nobody new joins.
//!
//! Every replica receives every tick, and ticks may overlap: that is safe because
//! [`rh_app::queue::run_tick`] claims each formed match's tickets atomically (see the
//! `rh_app::queue` docs). The handler only loads configuration and calls that step;
//! the same step is reachable over HTTP (`POST /api/v1/matchmaking/tick`, server-signed)
//! for tests and operators.
//!
//! # Layout
//! - `lib.rs`: the trigger handler (this file).

use bytes::Bytes;
use spin_sdk::redis_component;

use rh_app::queue::{active_queues, run_tick, TickOptions};
use rh_infra::db::Db;
use rh_infra::redis::Redis;
use rh_infra::{clock, config};

#[redis_component]
fn on_tick(_message: Bytes) -> anyhow::Result<()> {
    let redis = Redis::open_url(&config::redis_url()?)?;
    // Most ticks find every queue empty: answer those without opening MySQL.
    if active_queues(&redis)?.is_empty() {
        return Ok(());
    }
    let db = Db::open_url(&config::db_url()?)?;
    let now_ms = clock::now_ms().max(0) as u64;
    let outcome = run_tick(
        &db,
        &redis,
        &config::regions(),
        now_ms,
        &TickOptions::default(),
    )?;
    if !outcome.matches.is_empty() || outcome.claims_lost > 0 || outcome.creations_failed > 0 {
        println!(
            "queue tick: {} matches formed, {} tickets left, {} claims lost, {} creations failed",
            outcome.matches.len(),
            outcome.tickets_left,
            outcome.claims_lost,
            outcome.creations_failed
        );
    }
    Ok(())
}
