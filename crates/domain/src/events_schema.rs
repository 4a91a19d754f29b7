//! `docs/events.schema.json`: the JSON Schema of every pub/sub message, derived from the
//! types in [`super`] so the docs, the sidecar's clients (the TypeScript client
//! generates its event types from this file) and the publishers cannot drift.
//!
//! The test below fails when the committed file differs from what the types say;
//! `RH_UPDATE_EVENTS_SCHEMA=1 cargo test -p rh-domain events_schema` rewrites it.

use schemars::SchemaGenerator;
use serde_json::{json, Map, Value};

use super::*;

/// Which message type each channel carries (also `x-channels` in the schema).
const CHANNELS: &[(&str, &str)] = &[
    ("rankings:{mode}", "RankingEvent"),
    ("match:{id}", "MatchEvent"),
    ("user:{id}", "UserEvent"),
    ("feed", "FeedEvent"),
    ("queue:{user_id}", "QueueEvent"),
    ("matchmaking:tick", "Tick"),
    ("seasons", "SeasonEvent"),
];

/// The whole document, deterministic (sorted keys, as serde_json's map is a BTreeMap).
pub fn schema() -> Value {
    let mut generator = SchemaGenerator::default();
    let roots = [
        generator.subschema_for::<RankingEvent>(),
        generator.subschema_for::<MatchEvent>(),
        generator.subschema_for::<UserEvent>(),
        generator.subschema_for::<FeedEvent>(),
        generator.subschema_for::<QueueEvent>(),
        generator.subschema_for::<Tick>(),
        generator.subschema_for::<SeasonEvent>(),
        // Not a message: the typed `data` of each feed item's `kind`.
        generator.subschema_for::<FeedData>(),
    ];
    let defs: Map<String, Value> = generator.definitions().clone();
    let channels: Map<String, Value> = CHANNELS
        .iter()
        .map(|(channel, ty)| ((*channel).to_owned(), json!(format!("#/$defs/{ty}"))))
        .collect();
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://rankedhonor.dev/schemas/events.schema.json",
        "title": "RankedHonor pub/sub events",
        "description": "Every JSON message published on RankedHonor's Redis channels and relayed by the WebSocket sidecar. Generated from crates/domain/src/events.rs; see docs/events.md.",
        "x-channels": channels,
        "anyOf": roots[..7].iter().map(|s| s.as_value().clone()).collect::<Vec<_>>(),
        "$defs": defs,
    })
}

#[test]
fn the_committed_events_schema_matches_the_types() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/events.schema.json");
    let expected = format!("{}\n", serde_json::to_string_pretty(&schema()).unwrap());
    if std::env::var_os("RH_UPDATE_EVENTS_SCHEMA").is_some() {
        std::fs::write(&path, &expected).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == expected,
        "docs/events.schema.json is not what crates/domain/src/events.rs says; \
         regenerate it with `RH_UPDATE_EVENTS_SCHEMA=1 cargo test -p rh-domain events_schema`"
    );
}

#[test]
fn every_channel_names_a_defined_message_type() {
    let doc = schema();
    for (channel, ty) in CHANNELS {
        assert!(doc["$defs"].get(*ty).is_some(), "{channel}: {ty} missing");
    }
}
