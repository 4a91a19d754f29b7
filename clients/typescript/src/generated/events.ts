// Generated from docs/events.schema.json by scripts/generate.mjs: do not edit.
// Regenerate with `npm run generate` in clients/typescript.

/**
 * Every JSON message published on RankedHonor's Redis channels and relayed by the WebSocket sidecar. Generated from crates/domain/src/events.rs; see docs/events.md.
 */
export type RankedHonorPubSubEvents =
  RankingEvent | MatchEvent | UserEvent | FeedEvent | QueueEvent | Tick | SeasonEvent;
/**
 * On `rankings:{mode}`: one result moved these players.
 */
export type RankingEvent = {
  /**
   * Epoch ms.
   */
  at: number;
  changes: RankedChange[];
  match_id: number;
  mode: string;
  type: "rating_changed";
};
/**
 * On `match:{id}`.
 */
export type MatchEvent =
  | {
      match_id: number;
      status: MatchStatus;
      type: "status";
      /**
       * Set when completed with a winner; `null` for a draw or a non-final status.
       */
      winner_team?: number | null;
    }
  | {
      event: TimelineEvent;
      match_id: number;
      type: "timeline";
    };
export type MatchStatus = "pending" | "in_progress" | "completed" | "cancelled" | "voided";
/**
 * On `user:{id}`: only that user's own news.
 */
export type UserEvent =
  | {
      match_id: number;
      mmr_after: number;
      mmr_before: number;
      mode: string;
      rank?: number | null;
      result: Outcome;
      type: "rating_changed";
    }
  | {
      notification: Notification;
      type: "notification";
    }
  | {
      code: string;
      match_id: number;
      name: string;
      type: "achievement_unlocked";
    }
  | {
      match_id: number;
      mode: string;
      opponents: number[];
      /**
       * Every team's predicted chance of winning, in team order.
       */
      predicted_win?: number[] | null;
      /**
       * The match's predicted quality (1 = coin flip, 0 = certain winner), when the
       * matchmaker formed it.
       */
      quality?: number | null;
      region: string;
      /**
       * The recipient's team index.
       */
      team: number;
      teammates: number[];
      type: "match_found";
      /**
       * The recipient's team's predicted chance of winning.
       */
      win_probability?: number | null;
    }
  | {
      match_id: number;
      mmr: number;
      mode: string;
      season_id: number;
      tier: Tier;
      type: "placement_complete";
    };
/**
 * How one match ended for one player.
 */
export type Outcome = "win" | "loss" | "draw";
export type Tier = "bronze" | "silver" | "gold" | "platinum" | "diamond" | "master";
/**
 * On `feed`.
 */
export type FeedEvent = {
  event: FeedItem;
  type: "feed";
};
/**
 * On `queue:{user_id}`: the player's own queue status.
 */
export type QueueEvent =
  | {
      mode: string;
      party: number[];
      region: string;
      /**
       * `queued` (eligible for matching) or `pending_party` (waiting for consent).
       */
      state: string;
      ticket_id: number;
      type: "queue_joined";
    }
  | {
      leader: number;
      mode: string;
      party: number[];
      party_id: number;
      region: string;
      type: "party_invite";
    }
  | {
      mode: string;
      party: number[];
      party_id: number;
      region: string;
      type: "party_ready";
    }
  | {
      /**
       * Who left (for a party, one member leaving removes the ticket for all).
       */
      by: number;
      ticket_id?: number | null;
      type: "queue_left";
    }
  | {
      match_id: number;
      type: "matched";
    };
/**
 * On `seasons` (public): a season's rollover finished. `season_ended` comes first, then
 * `season_started` for its successor; both after the old season's final standings are
 * archived and the new season's boards are live.
 */
export type SeasonEvent =
  | {
      next_season_id: number;
      /**
       * Players whose rating the rollover reset (over every mode).
       */
      players_reset: number;
      season: SeasonSummary;
      type: "season_ended";
    }
  | {
      season: SeasonSummary;
      type: "season_started";
    };

/**
 * One player's line in a `rankings:{mode}` update.
 */
export interface RankedChange {
  mmr_after: number;
  mmr_before: number;
  /**
   * 1-based rank in the mode after the change; `None` if the board could not say.
   */
  rank?: number | null;
  user_id: number;
  username: string;
}
/**
 * A game-server-reported moment of a match, as stored and returned by
 * `GET /matches/{id}/events`.
 */
export interface TimelineEvent {
  /**
   * Milliseconds since the match started.
   */
  at_ms: number;
  data?: {
    [k: string]: unknown;
  };
  match_id: number;
  /**
   * Position in the match's timeline, from 1.
   */
  seq: number;
  /**
   * The game's own event kind ("kill", "objective", ...).
   */
  type: string;
}
/**
 * A stored notification, as the inbox returns it and `user:{id}` carries it.
 */
export interface Notification {
  /**
   * Epoch ms.
   */
  created_at: number;
  data: unknown;
  id: number;
  kind: string;
  read: boolean;
  user_id: number;
}
/**
 * A feed entry as stored and as `GET /feed` returns it; `data` depends on `kind`
 * (see [`FeedData`]).
 */
export interface FeedItem {
  /**
   * Epoch ms.
   */
  created_at: number;
  data: unknown;
  id: number;
  kind: string;
  /**
   * The player the entry is about, if any.
   */
  user_id?: number | null;
}
/**
 * On `matchmaking:tick`: a trigger, not data (its handler runs one queue tick whatever
 * it says). The sidecar's ticker sends `at_ms`; a join that makes a ticket eligible
 * sends `reason: "join"`, so a match can form without waiting for the ticker.
 */
export interface Tick {
  /**
   * When the ticker fired, epoch ms.
   */
  at_ms?: number | null;
  /**
   * Why a component asked for a tick.
   */
  reason?: string | null;
}
/**
 * A season as `season_started` announces it.
 */
export interface SeasonSummary {
  /**
   * Epoch ms; `null` while open-ended.
   */
  ends_at?: number | null;
  id: number;
  name: string;
  /**
   * Epoch ms.
   */
  starts_at: number;
}
