//! Shapes of the JSON messages published on Redis pub/sub channels, and the channel names.
//!
//! Why here: the publishers (components) and the consumer (the WebSocket sidecar, which
//! forwards them to browsers) must agree on one shape, and both already depend on this
//! crate. Every message is a JSON object with a `type` tag in snake_case, so a client can
//! switch on `type` without knowing which channel it came from. Times are epoch
//! milliseconds (`*_ms`), ids are numbers.
//!
//! | channel              | enum            | `type` values |
//! |----------------------|-----------------|---------------|
//! | `rankings:{mode}`    | [`RankingEvent`] | `rank_changed` |
//! | `match:{id}`         | [`MatchEvent`]   | `status`, `timeline`, `completed` |
//! | `user:{id}`          | [`UserEvent`]    | `notification`, `achievement_unlocked`, `rating_change`, `match_found` |
//! | `feed`               | [`FeedItem`]     | `match_completed`, `rank_up`, `top_ten`, `achievement_unlocked` |
//! | `queue:{user_id}`    | [`QueueEvent`]   | `queued`, `matched`, `left`, `expired` |
//! | `matchmaking:tick`, `streams:refresh` | (any payload; a trigger, not data) | |

use serde::{Deserialize, Serialize};
use serde_json::Value;

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
        }
    }

    /// The channel named `name`, or `None` for anything else (so the sidecar can refuse
    /// subscriptions to channels that do not exist).
    pub fn parse(name: &str) -> Option<Channel> {
        // Canonical decimal only ("7", not "+7" or "007"): one channel, one name.
        let id = |s: &str| s.parse::<u64>().ok().filter(|n| n.to_string() == s);
        match name.split_once(':') {
            None if name == "feed" => Some(Channel::Feed),
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

/// On `rankings:{mode}`: a player's leaderboard position or mmr changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum RankingEvent {
    RankChanged {
        mode: String,
        user_id: u64,
        username: String,
        mmr_before: i32,
        mmr_after: i32,
        /// 1-based global rank in the mode; `None` before the player's first match.
        rank_before: Option<u64>,
        rank_after: u64,
        match_id: Option<u64>,
        at_ms: i64,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchStatus {
    Pending,
    InProgress,
    Completed,
    Cancelled,
    Voided,
}

/// A game-server-reported moment of a match, as posted to `/matches/{id}/events`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimelineEvent {
    /// The game's own event kind ("kill", "objective", ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// Milliseconds since the match started.
    pub at_ms: i64,
    #[serde(default)]
    pub data: Value,
}

/// One player's rating change in a result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RatingChange {
    pub user_id: u64,
    pub mmr_before: i32,
    pub mmr_after: i32,
}

/// On `match:{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MatchEvent {
    Status {
        match_id: u64,
        status: MatchStatus,
        at_ms: i64,
    },
    Timeline {
        match_id: u64,
        /// Position in the match's timeline, from 1, so clients can order and dedupe.
        seq: u64,
        event: TimelineEvent,
    },
    Completed {
        match_id: u64,
        /// `None`: a draw.
        winner_team: Option<usize>,
        duration_s: u32,
        rating_changes: Vec<RatingChange>,
        at_ms: i64,
    },
}

/// On `user:{id}`: only that user's own news.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum UserEvent {
    /// A stored notification (the same row `GET /notifications` returns).
    Notification {
        notification_id: u64,
        kind: String,
        data: Value,
        created_at_ms: i64,
    },
    AchievementUnlocked {
        code: String,
        name: String,
        description: String,
        unlocked_at_ms: i64,
    },
    RatingChange {
        mode: String,
        match_id: u64,
        mmr_before: i32,
        mmr_after: i32,
        /// σ after the match.
        uncertainty: f64,
        rank: Option<u64>,
    },
    MatchFound {
        match_id: u64,
        mode: String,
        region: String,
        /// The recipient's team index in `teams`.
        team: usize,
        teammates: Vec<u64>,
        teams: Vec<Vec<u64>>,
    },
}

/// A feed entry as stored and as published on `feed`: id and time around the event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedItem {
    pub feed_id: u64,
    pub created_at_ms: i64,
    #[serde(flatten)]
    pub event: FeedEvent,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FeedEvent {
    MatchCompleted {
        match_id: u64,
        mode: String,
        winner_team: Option<usize>,
        teams: Vec<Vec<u64>>,
    },
    /// Rose into a higher [`Tier`] (see [`crate::tiers::tier_crossed`]).
    RankUp {
        user_id: u64,
        username: String,
        mode: String,
        tier: Tier,
        mmr: i32,
    },
    /// Entered the mode's top 10.
    TopTen {
        user_id: u64,
        username: String,
        mode: String,
        rank: u64,
        mmr: i32,
    },
    AchievementUnlocked {
        user_id: u64,
        username: String,
        code: String,
        name: String,
    },
}

/// On `queue:{user_id}`: the player's own queue status.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QueueEvent {
    Queued {
        ticket_id: String,
        mode: String,
        region: String,
        mmr: i32,
        estimated_wait_s: u32,
    },
    Matched {
        ticket_id: String,
        match_id: u64,
    },
    Left {
        ticket_id: String,
    },
    Expired {
        ticket_id: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn channel_names_round_trip() {
        for channel in [
            Channel::Rankings("2v2".into()),
            Channel::Match(42),
            Channel::User(7),
            Channel::Feed,
            Channel::Queue(7),
            Channel::MatchmakingTick,
            Channel::StreamsRefresh,
        ] {
            assert_eq!(Channel::parse(&channel.name()), Some(channel.clone()));
        }
    }

    #[test]
    fn unknown_or_malformed_channels_do_not_parse() {
        for name in [
            "",
            "feed:",
            "user:",
            "user:abc",
            "user:+7",
            "user:007",
            "user:-1",
            "match:1:2",
            "rankings:",
            "rankings:a b",
            "rankings:*",
            "queue",
            "nope:1",
            "user:*",
        ] {
            assert_eq!(Channel::parse(name), None, "{name:?}");
        }
    }

    #[test]
    fn a_timeline_message_nests_the_posted_event_with_its_own_type() {
        let msg = MatchEvent::Timeline {
            match_id: 9,
            seq: 3,
            event: TimelineEvent {
                kind: "kill".into(),
                at_ms: 61_000,
                data: json!({"killer": 1, "victim": 2}),
            },
        };
        let value = serde_json::to_value(&msg).unwrap();
        assert_eq!(
            value,
            json!({"type": "timeline", "match_id": 9, "seq": 3,
                   "event": {"type": "kill", "at_ms": 61000, "data": {"killer": 1, "victim": 2}}})
        );
        assert_eq!(serde_json::from_value::<MatchEvent>(value).unwrap(), msg);
    }

    #[test]
    fn a_feed_item_flattens_its_event_beside_id_and_time() {
        let item = FeedItem {
            feed_id: 5,
            created_at_ms: 1_700_000_000_000,
            event: FeedEvent::RankUp {
                user_id: 3,
                username: "ana".into(),
                mode: "1v1".into(),
                tier: Tier::Platinum,
                mmr: 1712,
            },
        };
        let value = serde_json::to_value(&item).unwrap();
        assert_eq!(
            value,
            json!({"feed_id": 5, "created_at_ms": 1_700_000_000_000i64, "type": "rank_up",
                   "user_id": 3, "username": "ana", "mode": "1v1", "tier": "platinum", "mmr": 1712})
        );
        assert_eq!(serde_json::from_value::<FeedItem>(value).unwrap(), item);
    }

    #[test]
    fn user_and_queue_events_carry_snake_case_type_tags() {
        let found = UserEvent::MatchFound {
            match_id: 1,
            mode: "2v2".into(),
            region: "eu".into(),
            team: 0,
            teammates: vec![2],
            teams: vec![vec![1, 2], vec![3, 4]],
        };
        assert_eq!(serde_json::to_value(&found).unwrap()["type"], "match_found");
        let unlocked = UserEvent::AchievementUnlocked {
            code: "first_win".into(),
            name: "First Blood".into(),
            description: "Win your first ranked match.".into(),
            unlocked_at_ms: 1,
        };
        assert_eq!(
            serde_json::to_value(&unlocked).unwrap()["type"],
            "achievement_unlocked"
        );
        let rating = UserEvent::RatingChange {
            mode: "1v1".into(),
            match_id: 1,
            mmr_before: 1500,
            mmr_after: 1530,
            uncertainty: 7.9,
            rank: Some(12),
        };
        assert_eq!(
            serde_json::to_value(&rating).unwrap()["type"],
            "rating_change"
        );
        let left = QueueEvent::Left {
            ticket_id: "t1".into(),
        };
        assert_eq!(
            serde_json::to_value(&left).unwrap(),
            json!({"type": "left", "ticket_id": "t1"})
        );
    }

    #[test]
    fn ranking_and_status_events_round_trip() {
        let rank = RankingEvent::RankChanged {
            mode: "1v1".into(),
            user_id: 1,
            username: "bo".into(),
            mmr_before: 1500,
            mmr_after: 1540,
            rank_before: None,
            rank_after: 17,
            match_id: Some(3),
            at_ms: 10,
        };
        let json = serde_json::to_string(&rank).unwrap();
        assert!(json.starts_with(r#"{"type":"rank_changed""#), "{json}");
        assert_eq!(serde_json::from_str::<RankingEvent>(&json).unwrap(), rank);
        let status = MatchEvent::Status {
            match_id: 3,
            status: MatchStatus::InProgress,
            at_ms: 10,
        };
        assert_eq!(
            serde_json::to_value(&status).unwrap(),
            json!({"type": "status", "match_id": 3, "status": "in_progress", "at_ms": 10})
        );
    }
}
