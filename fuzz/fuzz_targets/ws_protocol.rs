//! What a WebSocket client sends the sidecar: any text frame, any channel name, for any
//! user. Decoding must not panic; a channel the sidecar resolves must be one the
//! publishers' grammar knows (`rh_domain::events::Channel`), a `user:` channel only the
//! caller's own, the queue only the caller's; event frames are always valid JSON.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use rh_domain::events::Channel;
use rh_sidecar::protocol::{client_name_of, event_json, resolve_channel, ClientMessage};

#[derive(Arbitrary, Debug)]
struct Input {
    frame: String,
    channel: String,
    user_id: u64,
    payload: String,
}

fuzz_target!(|i: Input| {
    let _ = serde_json::from_str::<ClientMessage>(&i.frame);
    if let Some(parsed) = Channel::parse(&i.channel) {
        assert_eq!(Channel::parse(&parsed.name()), Some(parsed), "name round trip");
    }
    if let Ok(sub) = resolve_channel(&i.channel, i.user_id) {
        assert_eq!(client_name_of(&sub.redis_channel), sub.client_name);
        match Channel::parse(&sub.redis_channel) {
            Some(Channel::User(id) | Channel::Queue(id)) => assert_eq!(id, i.user_id),
            Some(Channel::MatchmakingTick | Channel::StreamsRefresh) => {
                panic!("a client subscribed to a tick channel")
            }
            Some(_) => {}
            None => panic!("resolved to a channel nobody publishes on: {sub:?}"),
        }
    }
    let frame: serde_json::Value =
        serde_json::from_str(&event_json(&i.channel, &i.payload)).expect("valid JSON");
    assert_eq!(frame["type"], "event");
});
