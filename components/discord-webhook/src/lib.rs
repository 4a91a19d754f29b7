//! `discord-webhook`: posts rank-ups and unlocked achievements to a Discord webhook,
//! a Redis trigger on `feed`. Off unless the variable `discord_webhook_url` is set.
//!
//! Every replica receives every feed message: the post is claimed per feed event id
//! (`SET NX` in Redis, see `rh_app::integrations::webhook`), so Discord sees it once.
//! A failed post is logged and not retried (a missed announcement beats a duplicate).
//!
//! # Layout
//! - `lib.rs`: the trigger handler (this file).

use bytes::Bytes;
use spin_sdk::redis_component;

use rh_app::integrations::client::{call, origin_of};
use rh_app::integrations::provider::ApiRequest;
use rh_app::integrations::store;
use rh_app::integrations::webhook::{claim_key, message_for, SENT_TTL_MS};
use rh_infra::config;
use rh_infra::db::Db;
use rh_infra::redis::Redis;

#[redis_component]
fn on_feed(message: Bytes) -> anyhow::Result<()> {
    let url = config::get_or("discord_webhook_url", "");
    // Cheap checks first: most feed messages are not rank-ups or achievements.
    if url.is_empty() || message_for(&message, |_| None).is_none() {
        return Ok(());
    }
    let db = Db::open()?;
    let Some((event_id, body)) = message_for(&message, |user_id| {
        store::discord_user_id(&db, user_id).ok().flatten()
    }) else {
        return Ok(());
    };
    let redis = Redis::open()?;
    if !redis.set_nx_px(&claim_key(event_id), "1", SENT_TTL_MS)? {
        return Ok(());
    }
    let req = ApiRequest {
        method: "POST",
        url: url.clone(),
        headers: vec![("content-type".into(), "application/json".into())],
        body: Some(serde_json::to_vec(&body)?),
    };
    match call(&req) {
        Ok(resp) if resp.is_success() => {}
        // The webhook URL is a secret (it carries its token): log only its origin.
        Ok(resp) => rh_infra::log_warn!(
            "discord webhook at {} answered {}",
            origin_of(&url),
            resp.status
        ),
        Err(e) => rh_infra::log_warn!("discord webhook at {} unreachable: {e}", origin_of(&url)),
    }
    Ok(())
}
