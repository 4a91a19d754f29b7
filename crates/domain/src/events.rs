//! Typed shapes of the JSON messages published on Redis pub/sub channels, and the
//! channel names.
//!
//! Why here: publishers (components, through rh-app), the WebSocket sidecar and the
//! integration tests must agree on one shape, and all of them may depend on this crate.
//! A test can deserialize what it received into these types to check the contract; a
//! publisher that serializes these types cannot drift from it. Every message is a JSON
//! object with a snake_case `type`, so a client can switch on `type` whatever channel it
//! came from. Ids are numbers; times are epoch milliseconds.
//!
//! Every publisher (rh-app's matches/effects.rs, queue/store.rs, queue/batch.rs,
//! teams/notify.rs, the matches component, the sidecar's ticker) builds these types:
//!
//! | channel           | enum             | `type` values |
//! |-------------------|------------------|---------------|
//! | `rankings:{mode}` | [`RankingEvent`] | `rating_changed` |
//! | `match:{id}`      | [`MatchEvent`]   | `status`, `timeline` |
//! | `user:{id}`       | [`UserEvent`]    | `rating_changed`, `notification`, `achievement_unlocked`, `match_found`, `placement_complete` |
//! | `feed`            | [`FeedEvent`]    | `feed` (the stored [`FeedItem`], whose `kind` is `match_completed`, `rank_up`, `achievement_unlocked` or `placement_complete`) |
//! | `seasons`         | [`SeasonEvent`]  | `season_started`, `season_ended` |
//! | `queue:{user_id}` | [`QueueEvent`]   | `queue_joined`, `party_invite`, `party_ready`, `queue_left`, `matched` |
//! | `matchmaking:tick` | [`Tick`]         | none: a trigger, not data (`{"at_ms": ...}` or `{"reason": "join"}`) |
//! | `streams:refresh` | any payload: a trigger, not data | |

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::stats::Outcome;
use crate::tiers::Tier;

/// A pub/sub channel, parsed from or rendered to its Redis name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Channel {
    Rankings(String),
    Match(u64),
    User(u64),
    Feed,
    Queue(u64),
    MatchmakingTick,
    StreamsRefresh,
    Seasons,
}

impl Channel {
    pub fn name(&self) -> String {
        match self {
            Channel::Rankings(mode) => format!("rankings:{mode}"),
            Channel::Match(id) => format!("match:{id}"),
            Channel::User(id) => format!("user:{id}"),
            Channel::Feed => "feed".to_owned(),
            Channel::Queue(id) => format!("queue:{id}"),
            Channel::MatchmakingTick => "matchmaking:tick".to_owned(),
            Channel::StreamsRefresh => "streams:refresh".to_owned(),
            Channel::Seasons => "seasons".to_owned(),
        }
    }

    /// The channel named `name`, or `None` for anything else (so a subscriber can be
    /// refused channels that do not exist, and patterns like `user:*`).
    pub fn parse(name: &str) -> Option<Channel> {
        // Canonical decimal only ("7", not "+7" or "007"): one channel, one name.
        let id = |s: &str| s.parse::<u64>().ok().filter(|n| n.to_string() == s);
        match name.split_once(':') {
            None if name == "feed" => Some(Channel::Feed),
            None if name == "seasons" => Some(Channel::Seasons),
            Some(("rankings", mode))
                if !mode.is_empty()
                    && mode
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
            {
                Some(Channel::Rankings(mode.to_owned()))
            }
            Some(("match", rest)) => id(rest).map(Channel::Match),
            Some(("user", rest)) => id(rest).map(Channel::User),
            Some(("queue", rest)) => id(rest).map(Channel::Queue),
            Some(("matchmaking", "tick")) => Some(Channel::MatchmakingTick),
            Some(("streams", "refresh")) => Some(Channel::StreamsRefresh),
            _ => None,
        }
    }
}

/// One player's line in a `rankings:{mode}` update.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct RankedChange {
    pub user_id: u64,
    pub username: String,
    pub mmr_before: i32,
    pub mmr_after: i32,
    /// 1-based rank in the mode after the change; `None` if the board could not say.
    pub rank: Option<u64>,
}

/// On `rankings:{mode}`: one result moved these players.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RankingEvent {
    RatingChanged {
        mode: String,
        match_id: u64,
        changes: Vec<RankedChange>,
        /// Epoch ms.
        at: i64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum MatchStatus {
    Pending,
    InProgress,
    Completed,
    Cancelled,
    Voided,
}

/// A game-server-reported moment of a match, as stored and returned by
/// `GET /matches/{id}/events`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct TimelineEvent {
    pub match_id: u64,
    /// Position in the match's timeline, from 1.
    pub seq: u32,
    /// The game's own event kind ("kill", "objective", ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// Milliseconds since the match started.
    pub at_ms: i64,
    #[serde(default)]
    pub data: Value,
}

/// On `match:{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MatchEvent {
    Status {
        match_id: u64,
        status: MatchStatus,
        /// Set when completed with a winner; `null` for a draw or a non-final status.
        #[serde(default)]
        winner_team: Option<usize>,
    },
    /// Wrapped, because the timeline event's own `type` is the game's event kind.
    Timeline { match_id: u64, event: TimelineEvent },
}

/// A stored notification, as the inbox returns it and `user:{id}` carries it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Notification {
    pub id: u64,
    pub user_id: u64,
    pub kind: String,
    pub data: Value,
    pub read: bool,
    /// Epoch ms.
    pub created_at: i64,
}

/// On `user:{id}`: only that user's own news.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum UserEvent {
    RatingChanged {
        mode: String,
        match_id: u64,
        result: Outcome,
        mmr_before: i32,
        mmr_after: i32,
        rank: Option<u64>,
    },
    Notification {
        notification: Notification,
    },
    AchievementUnlocked {
        code: String,
        name: String,
        match_id: u64,
    },
    MatchFound {
        match_id: u64,
        mode: String,
        region: String,
        /// The recipient's team index.
        team: usize,
        teammates: Vec<u64>,
        opponents: Vec<u64>,
        /// The match's predicted quality (1 = coin flip, 0 = certain winner), when the
        /// matchmaker formed it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        quality: Option<f64>,
        /// The recipient's team's predicted chance of winning.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        win_probability: Option<f64>,
        /// Every team's predicted chance of winning, in team order.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        predicted_win: Option<Vec<f64>>,
    },
    /// The recipient finished their placement games of `season_id` in `mode`: they now
    /// have a tier and are on the season's board.
    PlacementComplete {
        season_id: u64,
        mode: String,
        tier: Tier,
        mmr: i32,
        match_id: u64,
    },
}

/// A feed entry as stored and as `GET /feed` returns it; `data` depends on `kind`
/// (see [`FeedData`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct FeedItem {
    pub id: u64,
    pub kind: String,
    /// The player the entry is about, if any.
    pub user_id: Option<u64>,
    pub data: Value,
    /// Epoch ms.
    pub created_at: i64,
}

/// On `feed`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FeedEvent {
    Feed { event: FeedItem },
}

/// The `data` of each feed `kind`, for readers that want it typed
/// (`FeedData::from_item`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum FeedData {
    MatchCompleted {
        match_id: u64,
        mode: String,
        region: String,
        winner_team: Option<usize>,
        teams: Vec<Vec<u64>>,
    },
    /// Rose into a higher [`Tier`] (`tier`), entered the top 10 (`top_rank`), or both.
    RankUp {
        user_id: u64,
        username: String,
        mode: String,
        mmr: i32,
        tier: Option<Tier>,
        top_rank: Option<u64>,
    },
    AchievementUnlocked {
        user_id: u64,
        username: String,
        code: String,
        name: String,
        match_id: u64,
    },
    /// Finished the placement games of a season in a mode, reaching `tier`.
    PlacementComplete {
        user_id: u64,
        username: String,
        season_id: u64,
        mode: String,
        tier: Tier,
        mmr: i32,
    },
}

impl FeedData {
    /// Reads an item's `data` according to its `kind`.
    pub fn from_item(item: &FeedItem) -> Result<FeedData, serde_json::Error> {
        serde_json::from_value(serde_json::json!({"kind": item.kind, "data": item.data}))
    }
}

/// On `queue:{user_id}`: the player's own queue status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QueueEvent {
    QueueJoined {
        ticket_id: u64,
        mode: String,
        region: String,
        /// `queued` (eligible for matching) or `pending_party` (waiting for consent).
        state: String,
        party: Vec<u64>,
    },
    /// To each invited member: consent by joining with this `party_id`.
    PartyInvite {
        party_id: u64,
        leader: u64,
        mode: String,
        region: String,
        party: Vec<u64>,
    },
    /// Every member consented; the party is queued.
    PartyReady {
        party_id: u64,
        mode: String,
        region: String,
        party: Vec<u64>,
    },
    QueueLeft {
        ticket_id: Option<u64>,
        /// Who left (for a party, one member leaving removes the ticket for all).
        by: u64,
    },
    Matched {
        match_id: u64,
    },
}

/// A season as `season_started` announces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct SeasonSummary {
    pub id: u64,
    pub name: String,
    /// Epoch ms.
    pub starts_at: i64,
    /// Epoch ms; `null` while open-ended.
    pub ends_at: Option<i64>,
}

/// On `seasons` (public): a season's rollover finished. `season_ended` comes first, then
/// `season_started` for its successor; both after the old season's final standings are
/// archived and the new season's boards are live.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SeasonEvent {
    SeasonEnded {
        season: SeasonSummary,
        next_season_id: u64,
        /// Players whose rating the rollover reset (over every mode).
        players_reset: u64,
    },
    SeasonStarted {
        season: SeasonSummary,
    },
}

/// On `matchmaking:tick`: a trigger, not data (its handler runs one queue tick whatever
/// it says). The sidecar's ticker sends `at_ms`; a join that makes a ticket eligible
/// sends `reason: "join"`, so a match can form without waiting for the ticker.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(test, derive(schemars::JsonSchema))]
pub struct Tick {
    /// When the ticker fired, epoch ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_ms: Option<i64>,
    /// Why a component asked for a tick.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[cfg(test)]
#[path = "events_tests.rs"]
mod tests;

#[cfg(test)]
#[path = "events_schema.rs"]
mod schema;
