//! Publishing JSON events on Redis pub/sub for the WebSocket sidecar.
//!
//! Channels: `rankings:{mode}`, `match:{id}`, `user:{id}`, `feed`, `seasons`. Every message is one of
//! the `rh_domain::events` types, serialised as a JSON object with a `type`; the shapes
//! are documented in `docs/events.md`. Publishing is best effort: pub/sub has no
//! delivery guarantee anyway, and the durable state (MySQL) is already committed when
//! events go out.

use serde::Serialize;

use crate::redis::{Redis, RedisError};

/// The public activity feed channel.
pub const FEED_CHANNEL: &str = "feed";

/// The public channel of `season_started` / `season_ended`.
pub const SEASONS_CHANNEL: &str = "seasons";

pub fn rankings_channel(mode: &str) -> String {
    format!("rankings:{mode}")
}

pub fn match_channel(match_id: u64) -> String {
    format!("match:{match_id}")
}

pub fn user_channel(user_id: u64) -> String {
    format!("user:{user_id}")
}

/// Serialises `message` and publishes it on `channel`.
pub fn publish(redis: &Redis, channel: &str, message: &impl Serialize) -> Result<(), RedisError> {
    redis.publish_json(channel, message)
}
