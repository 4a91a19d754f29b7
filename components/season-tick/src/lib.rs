//! `season-tick`: the Redis-triggered season rollover.
//!
//! Subscribed to `matchmaking:tick` beside the queue tick (`[[trigger.redis]]` in
//! spin-worker.toml): the sidecar publishes one every second, so a season that ends
//! rolls over within about a second without anyone calling a route. Most ticks read one
//! Redis key and stop ([`rollover::quiet`]); a due tick claims the rollover in MySQL and
//! resets players in batches (`rh_app::seasons::rollover`). Every replica receives every
//! tick; the claim and the per-mode batch locks make that safe. The same step is
//! reachable over HTTP (`POST /api/v1/seasons/tick`, server-signed) for tests and
//! operators.
//!
//! # Layout
//! - `lib.rs`: the trigger handler (this file).

use bytes::Bytes;
use spin_sdk::redis_component;

use rh_app::seasons::rollover::{self, Options};
use rh_infra::db::Db;
use rh_infra::redis::Redis;
use rh_infra::{clock, config};

#[redis_component]
fn on_tick(_message: Bytes) -> anyhow::Result<()> {
    let redis = Redis::open_url(&config::redis_url()?)?;
    let now_ms = clock::now_ms();
    if rollover::quiet(&redis, now_ms)? {
        return Ok(());
    }
    let db = Db::open_url(&config::db_url()?)?;
    let outcome = rollover::tick(&db, &redis, &config::regions(), now_ms, &Options::default())?;
    if outcome.claimed.is_some() || outcome.batches > 0 || outcome.finished.is_some() {
        println!(
            "season tick: claimed {:?}, rolling {:?}, {} batches, {} players reset, finished {:?}",
            outcome.claimed,
            outcome.rolling,
            outcome.batches,
            outcome.players_reset,
            outcome.finished
        );
    }
    Ok(())
}
