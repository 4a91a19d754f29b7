//! The optional Discord webhook: rank-ups and unlocked achievements from the `feed`
//! channel, posted as short messages (variable `discord_webhook_url`; empty = off).
//!
//! Every replica receives every `feed` message, so a post is claimed per feed event id
//! in Redis (`SET NX`) and sent once.

use serde_json::{json, Value};

/// How long a sent event id is remembered (replays older than this are not expected).
pub const SENT_TTL_MS: i64 = 24 * 60 * 60 * 1000;

/// The Redis claim key of feed event `id`.
pub fn claim_key(event_id: u64) -> String {
    format!("discord:webhook:sent:{event_id}")
}

/// A feed event worth posting: its id and the webhook body. `None` for anything else
/// (other kinds, other message types, malformed JSON). `discord_user_id` mentions the
/// player when they linked Discord.
pub fn message_for(
    payload: &[u8],
    discord_user_id: impl Fn(u64) -> Option<String>,
) -> Option<(u64, Value)> {
    let v: Value = serde_json::from_slice(payload).ok()?;
    if v["type"] != "feed" {
        return None;
    }
    let event = &v["event"];
    let id = event["id"].as_u64()?;
    let data = &event["data"];
    let user_id = event["user_id"]
        .as_u64()
        .or_else(|| data["user_id"].as_u64());
    let who = match (
        user_id.and_then(&discord_user_id),
        data["username"].as_str(),
    ) {
        (Some(discord), _) => format!("<@{discord}>"),
        (None, Some(name)) => format!("**{}**", escape(name)),
        (None, None) => "A player".to_owned(),
    };
    let text = match event["kind"].as_str()? {
        "rank_up" => {
            let mode = data["mode"].as_str().unwrap_or("?");
            let mmr = data["mmr"]
                .as_i64()
                .map(|m| format!(" ({m} mmr)"))
                .unwrap_or_default();
            match (data["tier"].as_str(), data["top_rank"].as_u64()) {
                (_, Some(rank)) => format!("{who} entered the {mode} top 10 at #{rank}{mmr}"),
                (Some(tier), None) => format!("{who} reached {} in {mode}{mmr}", escape(tier)),
                (None, None) => format!("{who} ranked up in {mode}{mmr}"),
            }
        }
        "achievement_unlocked" => {
            let name = data["name"]
                .as_str()
                .or(data["code"].as_str())
                .unwrap_or("an achievement");
            format!("{who} unlocked **{}**", escape(name))
        }
        _ => return None,
    };
    // No pings beyond the one player mentioned.
    let mentions: Vec<String> = user_id.and_then(&discord_user_id).into_iter().collect();
    Some((
        id,
        json!({ "content": text, "allowed_mentions": { "users": mentions } }),
    ))
}

/// Keeps player-chosen text from turning into Discord markup or mentions.
fn escape(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_control())
        .flat_map(|c| match c {
            '*' | '_' | '~' | '`' | '|' | '>' | '@' | '<' => vec!['\\', c],
            c => vec![c],
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(kind: &str, data: Value) -> Vec<u8> {
        json!({"type": "feed", "event": {"id": 502, "kind": kind, "user_id": 7, "created_at": 1, "data": data}})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn rank_ups_and_achievements_become_messages() {
        let (id, body) = message_for(
            &feed("rank_up", json!({"user_id": 7, "username": "alice", "mode": "1v1", "mmr": 1712, "tier": "platinum", "top_rank": null})),
            |_| None,
        )
        .unwrap();
        assert_eq!(id, 502);
        assert_eq!(
            body["content"],
            "**alice** reached platinum in 1v1 (1712 mmr)"
        );
        let (_, body) = message_for(
            &feed("achievement_unlocked", json!({"user_id": 7, "username": "alice", "code": "first_win", "name": "First Blood"})),
            |id| (id == 7).then(|| "123".to_owned()),
        )
        .unwrap();
        assert_eq!(body["content"], "<@123> unlocked **First Blood**");
        assert_eq!(body["allowed_mentions"]["users"], json!(["123"]));
    }

    #[test]
    fn other_events_and_garbage_are_ignored() {
        assert!(message_for(&feed("match_completed", json!({})), |_| None).is_none());
        assert!(message_for(b"{\"type\":\"rating_changed\"}", |_| None).is_none());
        assert!(message_for(b"not json", |_| None).is_none());
    }

    #[test]
    fn player_text_cannot_inject_markup_or_mentions() {
        let (_, body) = message_for(
            &feed(
                "rank_up",
                json!({"username": "@everyone*x*", "mode": "1v1", "top_rank": 3}),
            ),
            |_| None,
        )
        .unwrap();
        assert_eq!(
            body["content"],
            "**\\@everyone\\*x\\*** entered the 1v1 top 10 at #3"
        );
    }
}
