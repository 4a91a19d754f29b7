//! The JSON protocol spoken over the socket, and the channel names a client may use.
//!
//! Decoding and channel authorisation are pure functions so they are tested without a socket.

use rh_domain::events::Channel;
use serde::{Deserialize, Serialize};

/// A message a client may send (a JSON text frame with a `type` tag).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ClientMessage {
    /// First message when the token is not in the query string; later, to extend the session
    /// with a fresh access token before the current one expires.
    Auth { token: String },
    /// Start receiving a channel's events.
    Subscribe { channel: String },
    /// Stop receiving a channel's events.
    Unsubscribe { channel: String },
    /// An application-level heartbeat, answered with `pong`. Browsers cannot see
    /// WebSocket ping frames, so this is how a page tells a live link from a dead one.
    Ping,
}

/// A control message the server sends. Events are built once per Redis message by the registry,
/// not here, so they are serialised once however many clients receive them.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum ServerMessage<'a> {
    /// Authentication (or re-authentication) succeeded.
    Authenticated {
        user_id: u64,
        expires_in_s: u64,
    },
    Subscribed {
        channel: &'a str,
    },
    Unsubscribed {
        channel: &'a str,
    },
    /// The answer to a client's `ping`.
    Pong,
    /// Something was refused; `code` is stable and machine-readable, `message` is for humans.
    Error {
        code: &'a str,
        message: &'a str,
    },
}

impl ServerMessage<'_> {
    pub fn to_json(&self) -> String {
        // Serialising these plain structs cannot fail.
        serde_json::to_string(self).expect("control messages always serialise")
    }
}

/// Shorthand for an error message's JSON.
pub fn error_json(code: &str, message: &str) -> String {
    ServerMessage::Error { code, message }.to_json()
}

/// A channel a client asked for, resolved for one user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The name the client uses (and sees in events): `queue` for the queue channel.
    pub client_name: String,
    /// The Redis pub/sub channel the components publish on: `queue:{user_id}` for `queue`.
    pub redis_channel: String,
}

/// Why a channel name was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ChannelError {
    #[error("unknown channel")]
    Unknown,
    #[error("this channel belongs to another user")]
    Forbidden,
}

impl ChannelError {
    pub fn code(self) -> &'static str {
        match self {
            ChannelError::Unknown => "unknown_channel",
            ChannelError::Forbidden => "forbidden_channel",
        }
    }
}

/// Longest mode name accepted in `rankings:{mode}` (modes are short names like `4v4`).
const MAX_MODE_LEN: usize = 32;

/// Resolves a client-facing channel name for `user_id`.
///
/// The grammar is the domain's ([`Channel::parse`], shared with the publishers); this adds who
/// may listen: `rankings:{mode}`, `match:{id}`, `feed` and `seasons` are public; `user:{id}` only for the
/// caller's own id; `queue` is the caller's own `queue:{user_id}`. The tick channels and other
/// users' queues are not client channels.
pub fn resolve_channel(name: &str, user_id: u64) -> Result<Subscription, ChannelError> {
    let public = || Subscription {
        client_name: name.to_owned(),
        redis_channel: name.to_owned(),
    };
    if name == "queue" {
        return Ok(Subscription {
            client_name: "queue".to_owned(),
            redis_channel: Channel::Queue(user_id).name(),
        });
    }
    match Channel::parse(name).ok_or(ChannelError::Unknown)? {
        Channel::Feed | Channel::Match(_) | Channel::Seasons => Ok(public()),
        Channel::Rankings(mode) if mode.len() <= MAX_MODE_LEN => Ok(public()),
        Channel::User(id) if id == user_id => Ok(public()),
        Channel::User(_) => Err(ChannelError::Forbidden),
        Channel::Rankings(_)
        | Channel::Queue(_)
        | Channel::MatchmakingTick
        | Channel::StreamsRefresh => Err(ChannelError::Unknown),
    }
}

/// The name clients see for a Redis channel: `queue:{id}` is delivered as `queue`.
pub fn client_name_of(redis_channel: &str) -> &str {
    if redis_channel.starts_with("queue:") {
        "queue"
    } else {
        redis_channel
    }
}

/// The Redis patterns the single per-process subscription listens to.
pub const REDIS_PATTERNS: [&str; 6] = [
    "rankings:*",
    "match:*",
    "user:*",
    "feed",
    "queue:*",
    "seasons",
];

/// The event frame for one Redis message. `data` is the payload as JSON when it parses, or the
/// raw string otherwise (components publish JSON; a stray string is still delivered).
pub fn event_json(redis_channel: &str, payload: &str) -> String {
    #[derive(Serialize)]
    struct Event<'a> {
        r#type: &'static str,
        channel: &'a str,
        data: serde_json::Value,
    }
    let data = serde_json::from_str::<serde_json::Value>(payload)
        .unwrap_or_else(|_| serde_json::Value::String(payload.to_owned()));
    let event = Event {
        r#type: "event",
        channel: client_name_of(redis_channel),
        data,
    };
    serde_json::to_string(&event).expect("events always serialise")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_messages_decode_by_type_tag() {
        let m: ClientMessage =
            serde_json::from_str(r#"{"type":"subscribe","channel":"feed"}"#).unwrap();
        assert_eq!(
            m,
            ClientMessage::Subscribe {
                channel: "feed".into()
            }
        );
        let m: ClientMessage = serde_json::from_str(r#"{"type":"ping"}"#).unwrap();
        assert_eq!(m, ClientMessage::Ping);
        assert_eq!(ServerMessage::Pong.to_json(), r#"{"type":"pong"}"#);
        let m: ClientMessage = serde_json::from_str(r#"{"type":"auth","token":"t"}"#).unwrap();
        assert_eq!(m, ClientMessage::Auth { token: "t".into() });
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"dance"}"#).is_err());
        assert!(serde_json::from_str::<ClientMessage>(r#"{"type":"subscribe"}"#).is_err());
    }

    #[test]
    fn public_channels_resolve_to_themselves() {
        for name in [
            "feed",
            "seasons",
            "rankings:1v1",
            "rankings:4v4",
            "match:42",
        ] {
            let s = resolve_channel(name, 7).unwrap();
            assert_eq!(s.client_name, name);
            assert_eq!(s.redis_channel, name);
        }
    }

    #[test]
    fn queue_maps_to_the_callers_own_redis_channel() {
        let s = resolve_channel("queue", 7).unwrap();
        assert_eq!(s.client_name, "queue");
        assert_eq!(s.redis_channel, "queue:7");
        assert_eq!(resolve_channel("queue:7", 7), Err(ChannelError::Unknown));
    }

    #[test]
    fn user_channel_only_for_the_caller() {
        assert!(resolve_channel("user:7", 7).is_ok());
        assert_eq!(resolve_channel("user:8", 7), Err(ChannelError::Forbidden));
        assert_eq!(resolve_channel("user:007", 7), Err(ChannelError::Unknown));
        assert_eq!(resolve_channel("user:x", 7), Err(ChannelError::Unknown));
    }

    #[test]
    fn unknown_and_glob_like_channels_are_refused() {
        for name in [
            "",
            "feeds",
            "rankings:",
            "rankings:*",
            "match:1 2",
            "match:a:b",
            "match:abc",
            "match:007",
            "admin:1",
            "queue:",
            "queue:8",
            "matchmaking:tick",
            "streams:refresh",
        ] {
            assert_eq!(
                resolve_channel(name, 7),
                Err(ChannelError::Unknown),
                "{name}"
            );
        }
        let long = format!("rankings:{}", "a".repeat(33));
        assert_eq!(resolve_channel(&long, 7), Err(ChannelError::Unknown));
    }

    #[test]
    fn events_carry_json_data_and_the_client_facing_channel() {
        let v: serde_json::Value =
            serde_json::from_str(&event_json("queue:7", r#"{"status":"searching"}"#)).unwrap();
        assert_eq!(v["type"], "event");
        assert_eq!(v["channel"], "queue");
        assert_eq!(v["data"]["status"], "searching");
        let v: serde_json::Value = serde_json::from_str(&event_json("feed", "not json")).unwrap();
        assert_eq!(v["data"], "not json");
    }
}
