// The HTTP client: openapi-fetch over the generated `paths` (every route and body typed
// from docs/openapi.yaml), a middleware that adds the Bearer token (refreshing it first
// when it is about to expire, and once more on a 401), and short methods for what a
// screen needs most, which return the body or throw a ProblemError.
import createFetchClient, { type Client, type Middleware } from "openapi-fetch";
import type { components, paths } from "./generated/openapi.js";
import { ProblemError } from "./problem.js";
import {
  MemoryTokenStore,
  SessionKeeper,
  toStored,
  type AuthResponse,
  type PrivateUser,
  type StoredSession,
  type TokenStore,
} from "./session.js";

type Schemas = components["schemas"];
export type PublicUser = Schemas["PublicUser"];
export type Match = Schemas["Match"];
export type Participant = Schemas["Participant"];
export type Timeline = Schemas["Timeline"];
export type HistoryPage = Schemas["HistoryPage"];
export type HistoryEntry = Schemas["HistoryEntry"];
export type LeaderboardPage = Schemas["LeaderboardPage"];
export type LeaderboardEntry = Schemas["LeaderboardEntry"];
export type LeaderboardNeighbourhood = Schemas["LeaderboardNeighbourhood"];
export type NotificationsPage = Schemas["NotificationsPage"];
export type AuditPage = Schemas["AuditPage"];
export type AuditEntry = Schemas["AuditEntry"];
export type AdminUser = Schemas["AdminUser"];
export type QueueOverview = Schemas["QueueOverview"];
export type RegisterRequest = Schemas["RegisterRequest"];
export type LoginRequest = Schemas["LoginRequest"];
export type UpdateMeRequest = Schemas["UpdateMeRequest"];

type JoinQueueBody = NonNullable<paths["/api/v1/matchmaking/queue"]["post"]["requestBody"]>["content"]["application/json"];
type AuditQuery = NonNullable<paths["/api/v1/admin/audit"]["get"]["parameters"]["query"]>;
type RatingBody = NonNullable<paths["/api/v1/admin/users/{id}/rating"]["post"]["requestBody"]>["content"]["application/json"];
type BanBody = NonNullable<paths["/api/v1/admin/users/{id}/ban"]["post"]["requestBody"]>["content"]["application/json"];

export interface ClientOptions {
  /** Where the API is, e.g. `http://127.0.0.1:8080`; `""` for the page's own origin. */
  baseUrl: string;
  /** Where tokens are kept; in memory by default (`WebStorageTokenStore` for a browser). */
  storage?: TokenStore;
  /** Refresh the access token when it has less than this left (ms, default 60 s). */
  refreshMarginMs?: number;
  fetch?: typeof globalThis.fetch;
}

/** Unwraps an openapi-fetch result: the body on success, a ProblemError otherwise. */
export async function ok<T extends { data?: unknown; error?: unknown; response: Response }>(
  pending: Promise<T>,
): Promise<Exclude<T, { data?: never }>["data"]> {
  let result: T;
  try {
    result = await pending;
  } catch (e) {
    if (e instanceof ProblemError) throw e;
    throw ProblemError.network(e);
  }
  if (!result.response.ok) throw ProblemError.fromResponse(result.response, result.error);
  return result.data as Exclude<T, { data?: never }>["data"];
}

// Routes that must go out without a Bearer token (and must never trigger a refresh).
const ANONYMOUS = new Set(["/api/v1/auth/register", "/api/v1/auth/login", "/api/v1/auth/refresh"]);

export class RankedHonorClient {
  /** The typed openapi-fetch client: every route of docs/openapi.yaml, with auth added. */
  readonly api: Client<paths>;
  readonly session: SessionKeeper;
  private readonly fetchImpl: typeof globalThis.fetch;
  readonly baseUrl: string;

  constructor(opts: ClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/$/, "");
    this.fetchImpl = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.api = createFetchClient<paths>({ baseUrl: this.baseUrl, fetch: this.fetchImpl });
    // The refresh call bypasses the middleware (it is anonymous anyway).
    this.session = new SessionKeeper(
      opts.storage ?? new MemoryTokenStore(),
      (refresh_token) => ok(this.api.POST("/api/v1/auth/refresh", { body: { refresh_token } })),
      opts.refreshMarginMs ?? 60_000,
    );
    this.api.use(this.authMiddleware());
  }

  private authMiddleware(): Middleware {
    const retries = new Map<string, Request>();
    return {
      onRequest: async ({ request, schemaPath, id }) => {
        if (ANONYMOUS.has(schemaPath) || request.headers.has("authorization")) return request;
        const token = await this.session.accessToken();
        if (!token) return request;
        // Kept before the body is consumed, to resend once if the token is refused.
        retries.set(id, request.clone());
        request.headers.set("authorization", `Bearer ${token}`);
        return request;
      },
      onResponse: async ({ response, id }) => {
        const original = retries.get(id);
        retries.delete(id);
        if (response.status !== 401 || !original) return response;
        // Refused although we thought it valid (revoked, clock skew): one forced refresh.
        const token = await this.session.accessToken({ force: true }).catch(() => null);
        if (!token) return response;
        original.headers.set("authorization", `Bearer ${token}`);
        return this.fetchImpl(original);
      },
      onError: ({ id }) => {
        retries.delete(id);
      },
    };
  }

  /** The logged-in user as last seen (from login, refresh or `me()`), or null. */
  get currentUser(): PrivateUser | null {
    return this.session.current?.user ?? null;
  }

  get loggedIn(): boolean {
    return this.session.current !== null;
  }

  onSessionChange(listener: (s: StoredSession | null) => void): () => void {
    return this.session.onChange(listener);
  }

  /** A valid access token for other transports (the WebSocket), refreshed if needed. */
  accessToken(opts?: { force?: boolean }): Promise<string | null> {
    return this.session.accessToken(opts);
  }

  // --- auth ---------------------------------------------------------------------------
  async register(body: RegisterRequest): Promise<PrivateUser> {
    return this.start(await ok(this.api.POST("/api/v1/auth/register", { body })));
  }

  async login(body: LoginRequest): Promise<PrivateUser> {
    return this.start(await ok(this.api.POST("/api/v1/auth/login", { body })));
  }

  private start(auth: AuthResponse): PrivateUser {
    this.session.set(toStored(auth));
    return auth.user;
  }

  /** Revokes the session on the server (best effort) and forgets it here in any case. */
  async logout(): Promise<void> {
    try {
      if (this.loggedIn) await ok(this.api.POST("/api/v1/auth/logout"));
    } finally {
      this.session.set(null);
    }
  }

  async me(): Promise<PrivateUser> {
    const user = await ok(this.api.GET("/api/v1/users/me"));
    const s = this.session.current;
    if (s) this.session.set({ ...s, user });
    return user;
  }

  async updateMe(body: UpdateMeRequest): Promise<PrivateUser> {
    return ok(this.api.PATCH("/api/v1/users/me", { body }));
  }

  // --- players, matches, leaderboards ------------------------------------------------
  user(id: number): Promise<PublicUser> {
    return ok(this.api.GET("/api/v1/users/{id}", { params: { path: { id } } }));
  }

  history(id: number, query: { limit?: number; before?: number } = {}): Promise<HistoryPage> {
    return ok(this.api.GET("/api/v1/users/{id}/matches", { params: { path: { id }, query } }));
  }

  achievements(id: number) {
    return ok(this.api.GET("/api/v1/users/{id}/achievements", { params: { path: { id } } }));
  }

  match(id: number): Promise<Match> {
    return ok(this.api.GET("/api/v1/matches/{id}", { params: { path: { id } } }));
  }

  timeline(id: number): Promise<Timeline> {
    return ok(this.api.GET("/api/v1/matches/{id}/events", { params: { path: { id } } }));
  }

  leaderboard(
    mode: string,
    query: { region?: string; limit?: number; offset?: number } = {},
  ): Promise<LeaderboardPage> {
    return ok(this.api.GET("/api/v1/rankings/{mode}", { params: { path: { mode }, query } }));
  }

  myRank(mode: string, region?: string): Promise<LeaderboardNeighbourhood> {
    const query = region ? { region } : {};
    return ok(this.api.GET("/api/v1/rankings/{mode}/me", { params: { path: { mode }, query } }));
  }

  feed(limit?: number) {
    return ok(this.api.GET("/api/v1/feed", { params: { query: limit ? { limit } : {} } }));
  }

  notifications(query: { limit?: number; before?: number } = {}): Promise<NotificationsPage> {
    return ok(this.api.GET("/api/v1/notifications", { params: { query } }));
  }

  async markRead(id: number): Promise<void> {
    await ok(this.api.POST("/api/v1/notifications/{id}/read", { params: { path: { id } } }));
  }

  // --- matchmaking --------------------------------------------------------------------
  joinQueue(body: JoinQueueBody) {
    return ok(this.api.POST("/api/v1/matchmaking/queue", { body }));
  }

  queueStatus() {
    return ok(this.api.GET("/api/v1/matchmaking/queue"));
  }

  async leaveQueue(): Promise<void> {
    await ok(this.api.DELETE("/api/v1/matchmaking/queue"));
  }

  /** Every queue's size and wait estimate, and the modes and regions (public). */
  queues(): Promise<QueueOverview> {
    return ok(this.api.GET("/api/v1/matchmaking/queues"));
  }

  // --- admin (403 unless users.role is admin) -----------------------------------------
  readonly admin = {
    searchUsers: (query = "", limit?: number) =>
      ok(this.api.GET("/api/v1/admin/users", { params: { query: { query, ...(limit ? { limit } : {}) } } })),
    ban: (id: number, body: BanBody) =>
      ok(this.api.POST("/api/v1/admin/users/{id}/ban", { params: { path: { id } }, body })),
    unban: (id: number, reason: string) =>
      ok(this.api.POST("/api/v1/admin/users/{id}/unban", { params: { path: { id } }, body: { reason } })),
    adjustRating: (id: number, body: RatingBody) =>
      ok(this.api.POST("/api/v1/admin/users/{id}/rating", { params: { path: { id } }, body })),
    voidMatch: (id: number, reason: string) =>
      ok(this.api.POST("/api/v1/admin/matches/{id}/void", { params: { path: { id } }, body: { reason } })),
    audit: (query: AuditQuery = {}): Promise<AuditPage> =>
      ok(this.api.GET("/api/v1/admin/audit", { params: { query } })),
    rebuildRankings: () => ok(this.api.POST("/api/v1/admin/rankings/rebuild")),
  };
}

/** A client for the API at `baseUrl` (see ClientOptions). */
export function createClient(opts: ClientOptions): RankedHonorClient {
  return new RankedHonorClient(opts);
}
