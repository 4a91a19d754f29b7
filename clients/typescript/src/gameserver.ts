// The game-server side: requests signed with the `game_server_key` (HMAC-SHA256 over
// "{timestamp}.{METHOD}.{path}.{body}", see crates/app's server_sig). For trusted
// servers and tools only: the key must never reach a browser.
import type { components, paths } from "./generated/openapi.js";
import { ProblemError } from "./problem.js";

type CreateMatchBody = paths["/api/v1/matches"]["post"]["requestBody"]["content"]["application/json"];
type ResultBody = paths["/api/v1/matches/{id}/result"]["put"]["requestBody"]["content"]["application/json"];
type NewTimelineEvent = paths["/api/v1/matches/{id}/events"]["post"]["requestBody"]["content"]["application/json"];

const hex = (buf: ArrayBuffer) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, "0")).join("");

/** The two signature headers for one request (WebCrypto: Node 20+ and browsers). */
export async function signRequest(
  key: string,
  method: string,
  path: string,
  body: string,
  nowS = Math.floor(Date.now() / 1000),
): Promise<Record<string, string>> {
  const enc = new TextEncoder();
  const k = await crypto.subtle.importKey("raw", enc.encode(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", k, enc.encode(`${nowS}.${method.toUpperCase()}.${path}.${body}`));
  return { "x-rh-timestamp": String(nowS), "x-rh-signature": hex(mac) };
}

export class GameServer {
  // The server refuses a signature it has seen (replay protection), so two identical
  // requests in the same second (the same roster twice) get increasing timestamps.
  private readonly lastSigned = new Map<string, number>();

  constructor(
    private readonly baseUrl: string,
    private readonly key: string,
    private readonly fetchImpl: typeof globalThis.fetch = (i, o) => globalThis.fetch(i, o),
  ) {}

  /** Sends one signed request; the body or a ProblemError. */
  async send<T>(method: string, path: string, body?: unknown): Promise<T> {
    const text = body === undefined ? "" : JSON.stringify(body);
    const key = `${method} ${path} ${text}`;
    const now = Math.floor(Date.now() / 1000);
    const ts = Math.max(now, (this.lastSigned.get(key) ?? 0) + 1);
    // The server tolerates 5 s of clock skew ahead of it: wait rather than go past that.
    if (ts - now > 3) await new Promise((r) => setTimeout(r, (ts - now - 3) * 1000));
    this.lastSigned.set(key, ts);
    if (this.lastSigned.size > 1000) this.lastSigned.clear();
    const headers: Record<string, string> = await signRequest(this.key, method, path, text, ts);
    if (text) headers["content-type"] = "application/json";
    const r = await this.fetchImpl(this.baseUrl.replace(/\/$/, "") + path, { method, headers, body: text || undefined });
    const parsed = r.status === 204 ? undefined : await r.json().catch(() => undefined);
    if (!r.ok) throw ProblemError.fromResponse(r, parsed);
    return parsed as T;
  }

  createMatch(body: CreateMatchBody) {
    return this.send<components["schemas"]["CreatedMatch"]>("POST", "/api/v1/matches", body);
  }

  postResult(matchId: number, body: ResultBody) {
    return this.send<components["schemas"]["MatchResult"]>("PUT", `/api/v1/matches/${matchId}/result`, body);
  }

  appendEvent(matchId: number, event: NewTimelineEvent) {
    return this.send<components["schemas"]["TimelineEvent"]>("POST", `/api/v1/matches/${matchId}/events`, event);
  }

  /** Runs one matchmaking tick now (the sidecar's ticker also does, every second). */
  tick() {
    // A request id makes two ticks signed in the same second distinct (replay check).
    return this.send<Record<string, unknown>>("POST", "/api/v1/matchmaking/tick", { request_id: crypto.randomUUID() });
  }
}
