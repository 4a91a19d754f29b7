//! Redis key and channel names of the matchmaking queue, in one place.
//!
//! Every key lives under the `mm:` prefix. The Lua scripts in [`super::scripts`] derive
//! ticket and player keys from ids with the same prefixes ([`TICKET_PREFIX`],
//! [`PLAYER_PREFIX`]), so these constants and the scripts must change together.
//! (Deriving keys inside a script is fine on a single Redis; on Redis Cluster the keys
//! would need a common hash tag.)

/// Prefix of ticket hashes: `mm:ticket:{ticket_id}`.
pub const TICKET_PREFIX: &str = "mm:ticket:";
/// Prefix of per-player state: `mm:player:{user_id}` holds a ticket id or `match:{id}`.
pub const PLAYER_PREFIX: &str = "mm:player:";
/// Counter that hands out ticket ids.
pub const TICKET_SEQ: &str = "mm:ticket_seq";
/// The pub/sub channel the sidecar ticker (and every join) publishes on.
pub const TICK_CHANNEL: &str = "matchmaking:tick";
/// Set of `mode|region` queues that may hold tickets, so a tick only reads those.
pub const ACTIVE_QUEUES: &str = "mm:active";
/// Value prefix in a player key once their match exists in MySQL.
pub const MATCH_VALUE_PREFIX: &str = "match:";

/// `mm:ticket:{id}`: hash with the ticket's fields (see the module doc).
pub fn ticket(ticket_id: u64) -> String {
    format!("{TICKET_PREFIX}{ticket_id}")
}

/// `mm:player:{user_id}`.
pub fn player(user_id: u64) -> String {
    format!("{PLAYER_PREFIX}{user_id}")
}

/// `mm:queue:{mode}:{region}`: sorted set of eligible ticket ids scored by joined time (ms).
pub fn queue(mode: &str, region: &str) -> String {
    format!("mm:queue:{mode}:{region}")
}

/// Member of [`ACTIVE_QUEUES`] for one queue.
pub fn active_member(mode: &str, region: &str) -> String {
    format!("{mode}|{region}")
}

/// `mm:waits:{mode}:{region}`: capped list of recent waits in ms, newest first.
pub fn waits(mode: &str, region: &str) -> String {
    format!("mm:waits:{mode}:{region}")
}

/// `mm:ticklock:{mode}:{region}`: optional short lock that saves duplicate work when
/// several runtimes receive the same tick. Correctness never depends on it.
pub fn tick_lock(mode: &str, region: &str) -> String {
    format!("mm:ticklock:{mode}:{region}")
}

/// `mm:recent:{mode}:{user_id}`: sorted set of the opponents a player met in a mode,
/// scored by when (ms); kept only for modes whose rematch window is on, trimmed to it.
/// The scripts derive it with the same prefix.
pub fn recent(mode: &str, user_id: u64) -> String {
    format!("mm:recent:{mode}:{user_id}")
}

/// `user:{id}`: a player's private event channel (`match_found` goes here).
pub fn user_channel(user_id: u64) -> String {
    format!("user:{user_id}")
}

/// `queue:{user_id}`: a player's own queue status events.
pub fn queue_channel(user_id: u64) -> String {
    format!("queue:{user_id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_and_player_keys_use_the_prefixes_the_scripts_rely_on() {
        assert_eq!(ticket(42), format!("{TICKET_PREFIX}42"));
        assert_eq!(player(7), format!("{PLAYER_PREFIX}7"));
        assert_eq!(queue("2v2", "eu"), "mm:queue:2v2:eu");
    }
}
