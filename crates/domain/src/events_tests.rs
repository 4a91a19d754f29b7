//! Each test takes a message exactly as a publisher writes it, reads it into the typed
//! shape and writes it back unchanged: the types and the wire agree both ways.

use super::*;
use serde::de::DeserializeOwned;
use serde_json::json;

/// Deserializes `wire`, checks it equals `expected`, and that it serializes back to `wire`.
fn agrees<T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug>(wire: Value, expected: T) {
    let parsed: T = serde_json::from_value(wire.clone()).expect("the wire shape parses");
    assert_eq!(parsed, expected);
    assert_eq!(serde_json::to_value(&parsed).unwrap(), wire);
}

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
        Channel::Seasons,
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
fn a_leaderboard_update_lists_every_moved_player() {
    agrees(
        json!({"type": "rating_changed", "mode": "1v1", "match_id": 9, "at": 1_700_000_000_000i64,
               "changes": [{"user_id": 1, "username": "ana", "mmr_before": 1500, "mmr_after": 1531, "rank": 4},
                           {"user_id": 2, "username": "bo", "mmr_before": 1500, "mmr_after": 1469, "rank": null}]}),
        RankingEvent::RatingChanged {
            mode: "1v1".into(),
            match_id: 9,
            at: 1_700_000_000_000,
            changes: vec![
                RankedChange {
                    user_id: 1,
                    username: "ana".into(),
                    mmr_before: 1500,
                    mmr_after: 1531,
                    rank: Some(4),
                },
                RankedChange {
                    user_id: 2,
                    username: "bo".into(),
                    mmr_before: 1500,
                    mmr_after: 1469,
                    rank: None,
                },
            ],
        },
    );
}

#[test]
fn match_status_and_timeline_messages() {
    agrees(
        json!({"type": "status", "match_id": 3, "status": "completed", "winner_team": null}),
        MatchEvent::Status {
            match_id: 3,
            status: MatchStatus::Completed,
            winner_team: None,
        },
    );
    let status: MatchEvent =
        serde_json::from_value(json!({"type": "status", "match_id": 3, "status": "in_progress"}))
            .unwrap();
    assert_eq!(
        status,
        MatchEvent::Status {
            match_id: 3,
            status: MatchStatus::InProgress,
            winner_team: None
        }
    );
    agrees(
        json!({"type": "timeline", "match_id": 3,
               "event": {"match_id": 3, "seq": 2, "type": "kill", "at_ms": 61000,
                         "data": {"killer": 1, "victim": 2}}}),
        MatchEvent::Timeline {
            match_id: 3,
            event: TimelineEvent {
                match_id: 3,
                seq: 2,
                kind: "kill".into(),
                at_ms: 61_000,
                data: json!({"killer": 1, "victim": 2}),
            },
        },
    );
}

#[test]
fn user_channel_messages() {
    agrees(
        json!({"type": "rating_changed", "mode": "2v2", "match_id": 5, "result": "draw",
               "mmr_before": 1500, "mmr_after": 1500, "rank": 12}),
        UserEvent::RatingChanged {
            mode: "2v2".into(),
            match_id: 5,
            result: Outcome::Draw,
            mmr_before: 1500,
            mmr_after: 1500,
            rank: Some(12),
        },
    );
    agrees(
        json!({"type": "notification", "notification": {"id": 8, "user_id": 1, "kind": "rank_up",
               "data": {"tier": "gold"}, "read": false, "created_at": 10}}),
        UserEvent::Notification {
            notification: Notification {
                id: 8,
                user_id: 1,
                kind: "rank_up".into(),
                data: json!({"tier": "gold"}),
                read: false,
                created_at: 10,
            },
        },
    );
    agrees(
        json!({"type": "achievement_unlocked", "code": "first_win", "name": "First Blood", "match_id": 5}),
        UserEvent::AchievementUnlocked {
            code: "first_win".into(),
            name: "First Blood".into(),
            match_id: 5,
        },
    );
    agrees(
        json!({"type": "match_found", "match_id": 6, "mode": "2v2", "region": "eu", "team": 1,
               "teammates": [4], "opponents": [1, 2]}),
        UserEvent::MatchFound {
            match_id: 6,
            mode: "2v2".into(),
            region: "eu".into(),
            team: 1,
            teammates: vec![4],
            opponents: vec![1, 2],
            quality: None,
            win_probability: None,
            predicted_win: None,
        },
    );
    agrees(
        json!({"type": "match_found", "match_id": 7, "mode": "1v1", "region": "na", "team": 0,
               "teammates": [], "opponents": [2], "quality": 0.9,
               "win_probability": 0.55, "predicted_win": [0.55, 0.45]}),
        UserEvent::MatchFound {
            match_id: 7,
            mode: "1v1".into(),
            region: "na".into(),
            team: 0,
            teammates: vec![],
            opponents: vec![2],
            quality: Some(0.9),
            win_probability: Some(0.55),
            predicted_win: Some(vec![0.55, 0.45]),
        },
    );
}

#[test]
fn a_feed_message_wraps_the_stored_item_whose_data_reads_by_kind() {
    let item = FeedItem {
        id: 11,
        kind: "rank_up".into(),
        user_id: Some(3),
        data: json!({"user_id": 3, "username": "ana", "mode": "1v1", "mmr": 1712,
                     "tier": "platinum", "top_rank": null}),
        created_at: 20,
    };
    agrees(
        json!({"type": "feed", "event": {"id": 11, "kind": "rank_up", "user_id": 3, "created_at": 20,
               "data": {"user_id": 3, "username": "ana", "mode": "1v1", "mmr": 1712,
                        "tier": "platinum", "top_rank": null}}}),
        FeedEvent::Feed {
            event: item.clone(),
        },
    );
    assert_eq!(
        FeedData::from_item(&item).unwrap(),
        FeedData::RankUp {
            user_id: 3,
            username: "ana".into(),
            mode: "1v1".into(),
            mmr: 1712,
            tier: Some(Tier::Platinum),
            top_rank: None,
        }
    );
    let completed = FeedItem {
        id: 12,
        kind: "match_completed".into(),
        user_id: None,
        data: json!({"match_id": 5, "mode": "2v2", "region": "eu", "winner_team": 0,
                     "teams": [[1, 2], [3, 4]]}),
        created_at: 21,
    };
    assert!(matches!(
        FeedData::from_item(&completed).unwrap(),
        FeedData::MatchCompleted {
            winner_team: Some(0),
            ..
        }
    ));
    let unknown = FeedItem {
        kind: "something_else".into(),
        ..completed
    };
    assert!(FeedData::from_item(&unknown).is_err());
}

#[test]
fn queue_channel_messages() {
    agrees(
        json!({"type": "queue_joined", "ticket_id": 77, "mode": "2v2", "region": "eu",
               "state": "pending_party", "party": [1, 2]}),
        QueueEvent::QueueJoined {
            ticket_id: 77,
            mode: "2v2".into(),
            region: "eu".into(),
            state: "pending_party".into(),
            party: vec![1, 2],
        },
    );
    agrees(
        json!({"type": "party_invite", "party_id": 77, "leader": 1, "mode": "2v2", "region": "eu",
               "party": [1, 2]}),
        QueueEvent::PartyInvite {
            party_id: 77,
            leader: 1,
            mode: "2v2".into(),
            region: "eu".into(),
            party: vec![1, 2],
        },
    );
    agrees(
        json!({"type": "party_ready", "party_id": 77, "mode": "2v2", "region": "eu", "party": [1, 2]}),
        QueueEvent::PartyReady {
            party_id: 77,
            mode: "2v2".into(),
            region: "eu".into(),
            party: vec![1, 2],
        },
    );
    agrees(
        json!({"type": "queue_left", "ticket_id": 77, "by": 2}),
        QueueEvent::QueueLeft {
            ticket_id: Some(77),
            by: 2,
        },
    );
    agrees(
        json!({"type": "matched", "match_id": 6}),
        QueueEvent::Matched { match_id: 6 },
    );
}
