// The WebSocket events, by channel (docs/events.md, docs/websocket.md).
//
// HAND-WRITTEN for now from docs/events.md and rh_domain::events: replaced by the types
// generated from docs/events.schema.json (src/generated/events.ts) once that file exists.

export type Outcome = "win" | "loss" | "draw";
export type MatchStatus = "pending" | "in_progress" | "completed" | "cancelled" | "voided";

export interface RankedChange {
  user_id: number;
  username: string;
  mmr_before: number;
  mmr_after: number;
  rank: number | null;
}

/** On `rankings:{mode}`. */
export type RankingEvent = {
  type: "rating_changed";
  mode: string;
  match_id: number;
  changes: RankedChange[];
  at: number;
};

export interface TimelineEvent {
  match_id: number;
  seq: number;
  type: string;
  at_ms: number;
  data: unknown;
}

/** On `match:{id}`. */
export type MatchEvent =
  | { type: "status"; match_id: number; status: MatchStatus; winner_team?: number | null }
  | { type: "timeline"; event: TimelineEvent };

export interface Notification {
  id: number;
  user_id: number;
  kind: string;
  data: unknown;
  read: boolean;
  created_at: number;
}

/** On `user:{id}` (only that user may subscribe). */
export type UserEvent =
  | {
      type: "rating_changed";
      mode: string;
      match_id: number;
      result: Outcome;
      mmr_before: number;
      mmr_after: number;
      rank: number | null;
    }
  | { type: "notification"; notification: Notification }
  | { type: "achievement_unlocked"; code: string; name: string; match_id: number }
  | {
      type: "match_found";
      match_id: number;
      mode: string;
      region: string;
      team: number;
      teammates: number[];
      opponents: number[];
    };

export interface FeedItem {
  id: number;
  kind: string;
  user_id: number | null;
  data: unknown;
  created_at: number;
}

/** On `feed`. */
export type FeedEvent = { type: "feed"; event: FeedItem };

/** On `queue` (the caller's own `queue:{id}`). */
export type QueueEvent =
  | { type: "queue_joined"; ticket_id: number; mode: string; region: string; state: string; party: number[] }
  | { type: "party_invite"; party_id: number; leader: number; mode: string; region: string; party: number[] }
  | { type: "party_ready"; party_id: number; mode: string; region: string; party: number[] }
  | { type: "queue_left"; ticket_id: number | null; by: number }
  | { type: "matched"; match_id: number };
