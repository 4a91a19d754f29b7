// The WebSocket events, by channel (docs/events.md, docs/websocket.md).
//
// Every type here is generated from docs/events.schema.json (src/generated/events.ts),
// which rh-domain's tests generate from the Rust types every publisher builds
// (crates/domain/src/events.rs): the server, the docs and this client cannot drift.
// `./scripts/test` fails if src/generated/ is not what the schema generates now.

export type {
  FeedEvent,
  FeedItem,
  MatchEvent,
  MatchStatus,
  Notification,
  Outcome,
  QueueEvent,
  RankedChange,
  RankedHonorPubSubEvents as AnyEvent,
  RankingEvent,
  SeasonEvent,
  SeasonSummary,
  Tick,
  TimelineEvent,
  UserEvent,
} from "./generated/events.js";
