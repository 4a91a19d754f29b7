// Channel names a client may subscribe to, and the event type each one carries, so
// `socket.subscribe("rankings:1v1", e => ...)` gets `e: RankingEvent` with no cast.
import type { FeedEvent, MatchEvent, QueueEvent, RankingEvent, SeasonEvent, UserEvent } from "./events.js";

export type Channel = `rankings:${string}` | `match:${number}` | `user:${number}` | "feed" | "queue" | "seasons";

export type EventOf<C extends string> = C extends `rankings:${string}`
  ? RankingEvent
  : C extends `match:${number}`
    ? MatchEvent
    : C extends `user:${number}`
      ? UserEvent
      : C extends "feed"
        ? FeedEvent
        : C extends "queue"
          ? QueueEvent
          : C extends "seasons"
            ? SeasonEvent
            : never;

export const channels = {
  rankings: (mode: string) => `rankings:${mode}` as const,
  match: (id: number) => `match:${id}` as `match:${number}`,
  user: (id: number) => `user:${id}` as `user:${number}`,
  feed: "feed" as const,
  queue: "queue" as const,
  seasons: "seasons" as const,
};
