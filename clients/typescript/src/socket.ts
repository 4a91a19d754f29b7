// A WebSocket client for rh-sidecar (docs/websocket.md): authenticates with the message
// form (the token stays out of URLs and access logs), re-authenticates before the token
// expires, sends heartbeats, reconnects with capped exponential backoff and jitter, and
// then authenticates again (with a refreshed token) and resubscribes every channel.
// Events published while disconnected are not replayed (pub/sub): `onReconnect` tells
// the caller when to re-read state over HTTP.
import type { Channel, EventOf } from "./channels.js";

export type SocketState = "idle" | "connecting" | "open" | "reconnecting" | "closed" | "unauthenticated";

/** The part of the WebSocket API used here (the browser's, Node's, or the `ws` package's). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
}
export type WebSocketFactory = new (url: string) => WebSocketLike;

export interface EventSocketOptions {
  /** e.g. `ws://127.0.0.1:8001/ws`. */
  url: string;
  /** A valid access token; `force` asks for a refreshed one (the last was refused). */
  token: (opts: { force: boolean }) => Promise<string | null>;
  WebSocket?: WebSocketFactory;
  /** First reconnect delay and cap (ms). */
  backoffInitialMs?: number;
  backoffMaxMs?: number;
  /** How often to send a heartbeat, and how long without any frame means the link is dead. */
  heartbeatMs?: number;
  deadAfterMs?: number;
  /** Re-authenticate this long before the token's expiry (ms). */
  reauthMarginMs?: number;
}

/** A server message that is not an event (docs/websocket.md). */
export type ControlMessage =
  | { type: "authenticated"; user_id: number; expires_in_s: number }
  | { type: "subscribed"; channel: string }
  | { type: "unsubscribed"; channel: string }
  | { type: "pong" }
  | { type: "error"; code: string; message: string };

type Handler = (event: never, channel: string) => void;

interface ChannelEntry {
  handlers: Set<Handler>;
  acked: boolean;
  waiters: Array<{ resolve: () => void; reject: (e: Error) => void }>;
}

export interface Subscription {
  /** Resolves once the server confirmed the subscription (rejects if it refused it). */
  ready: Promise<void>;
  unsubscribe(): void;
}

/** Codes after which the token itself was refused: reconnect only with a fresh one. */
const TOKEN_CODES = new Set(["token_expired", "token_revoked", "invalid_token", "wrong_token_type"]);
const CHANNEL_CODES = new Set(["forbidden_channel", "unknown_channel", "too_many_subscriptions"]);

export class EventSocket {
  private ws: WebSocketLike | null = null;
  private readonly channels = new Map<string, ChannelEntry>();
  private state: SocketState = "idle";
  private attempts = 0;
  private forceToken = false;
  private lastError: string | null = null;
  private timers: ReturnType<typeof setTimeout>[] = [];
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  private lastFrameAt = 0;
  private userId: number | null = null;
  private readonly listeners = {
    state: new Set<(s: SocketState) => void>(),
    reconnect: new Set<() => void>(),
    control: new Set<(m: ControlMessage) => void>(),
  };
  private readonly opts: Required<Omit<EventSocketOptions, "WebSocket">> & { WebSocket: WebSocketFactory };

  constructor(opts: EventSocketOptions) {
    const impl = opts.WebSocket ?? (globalThis as { WebSocket?: WebSocketFactory }).WebSocket;
    if (!impl) throw new Error("no WebSocket implementation: pass options.WebSocket");
    this.opts = {
      backoffInitialMs: 500,
      backoffMaxMs: 15_000,
      heartbeatMs: 20_000,
      deadAfterMs: 45_000,
      reauthMarginMs: 60_000,
      ...opts,
      WebSocket: impl,
    };
  }

  get status(): SocketState {
    return this.state;
  }

  /** The authenticated user, once connected. */
  get user(): number | null {
    return this.userId;
  }

  onState(fn: (s: SocketState) => void): () => void {
    this.listeners.state.add(fn);
    return () => this.listeners.state.delete(fn);
  }

  /** Called after every reconnect (not the first connect): re-read state over HTTP. */
  onReconnect(fn: () => void): () => void {
    this.listeners.reconnect.add(fn);
    return () => this.listeners.reconnect.delete(fn);
  }

  /** Every control message (authenticated, errors, ...), for logging or UI. */
  onControl(fn: (m: ControlMessage) => void): () => void {
    this.listeners.control.add(fn);
    return () => this.listeners.control.delete(fn);
  }

  /** Opens the connection (idempotent). Subscriptions may be made before or after. */
  connect(): void {
    if (this.state === "idle" || this.state === "closed" || this.state === "unauthenticated") {
      this.attempts = 0;
      this.open("connecting");
    }
  }

  /** Closes for good (no reconnect). */
  close(): void {
    this.setState("closed");
    this.clearTimers();
    this.ws?.close(1000, "client closed");
    this.ws = null;
  }

  subscribe<C extends Channel>(channel: C, handler: (event: EventOf<C>, channel: C) => void): Subscription {
    let entry = this.channels.get(channel);
    const fresh = !entry;
    if (!entry) {
      entry = { handlers: new Set(), acked: false, waiters: [] };
      this.channels.set(channel, entry);
    }
    const h = handler as unknown as Handler;
    entry.handlers.add(h);
    const e = entry;
    const ready = e.acked
      ? Promise.resolve()
      : new Promise<void>((resolve, reject) => e.waiters.push({ resolve, reject }));
    // Unobserved refusals must not crash Node ("unhandled rejection").
    ready.catch(() => {});
    if (fresh && this.state === "open") this.send({ type: "subscribe", channel });
    return {
      ready,
      unsubscribe: () => {
        e.handlers.delete(h);
        if (e.handlers.size === 0 && this.channels.get(channel) === e) {
          this.channels.delete(channel);
          if (this.state === "open") this.send({ type: "unsubscribe", channel });
        }
      },
    };
  }

  private setState(s: SocketState): void {
    if (this.state === s) return;
    this.state = s;
    for (const l of this.listeners.state) l(s);
  }

  private send(msg: object): void {
    if (this.ws && this.ws.readyState === 1) this.ws.send(JSON.stringify(msg));
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = null;
  }

  private later(ms: number, fn: () => void): void {
    this.timers.push(setTimeout(fn, ms));
  }

  private async open(state: "connecting" | "reconnecting"): Promise<void> {
    this.setState(state);
    let token: string | null;
    try {
      token = await this.opts.token({ force: this.forceToken });
    } catch {
      // The token endpoint is unreachable: try again later like any other failure.
      this.scheduleReconnect();
      return;
    }
    if (this.state === "closed") return;
    if (!token) {
      this.setState("unauthenticated");
      return;
    }
    this.forceToken = false;
    this.lastError = null;
    const ws = new this.opts.WebSocket(this.opts.url);
    this.ws = ws;
    ws.onopen = () => {
      this.lastFrameAt = Date.now();
      ws.send(JSON.stringify({ type: "auth", token }));
    };
    ws.onmessage = (ev) => {
      if (this.ws === ws) this.receive(String(ev.data));
    };
    ws.onerror = () => {
      /* onclose follows and decides */
    };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      this.clearTimers();
      for (const entry of this.channels.values()) entry.acked = false;
      if (this.state === "closed") return;
      // 1008 after a token error: the token is bad; get a fresh one before trying again.
      if (ev.code === 1008 && this.lastError && TOKEN_CODES.has(this.lastError)) this.forceToken = true;
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    if (this.state === "closed") return;
    this.setState("reconnecting");
    const base = Math.min(this.opts.backoffMaxMs, this.opts.backoffInitialMs * 2 ** this.attempts);
    this.attempts += 1;
    // Full jitter over the upper half, so many clients dropped at once do not return at once.
    const delay = base / 2 + Math.random() * (base / 2);
    this.later(delay, () => void this.open("reconnecting"));
  }

  private receive(text: string): void {
    this.lastFrameAt = Date.now();
    let msg: { type?: string; [k: string]: unknown };
    try {
      msg = JSON.parse(text);
    } catch {
      return;
    }
    if (msg.type === "event") {
      const channel = String(msg.channel);
      const entry = this.channels.get(channel);
      if (!entry) return;
      for (const h of entry.handlers) {
        try {
          h(msg.data as never, channel);
        } catch (e) {
          // One broken handler must not starve the others or kill the socket.
          queueMicrotask(() => {
            throw e;
          });
        }
      }
      return;
    }
    const control = msg as ControlMessage;
    for (const l of this.listeners.control) l(control);
    switch (control.type) {
      case "authenticated":
        this.authenticated(control.user_id, control.expires_in_s);
        break;
      case "subscribed": {
        const entry = this.channels.get(control.channel);
        if (entry) {
          entry.acked = true;
          for (const w of entry.waiters.splice(0)) w.resolve();
        }
        break;
      }
      case "error":
        this.lastError = control.code;
        if (CHANNEL_CODES.has(control.code)) this.refuse(control);
        break;
      default:
        break;
    }
  }

  private authenticated(userId: number, expiresInS: number): void {
    const first = this.state !== "open";
    const wasReconnect = this.state === "reconnecting";
    this.userId = userId;
    this.setState("open");
    this.attempts = 0;
    // Re-authenticate on the open connection before the server would close it.
    const reauthIn = Math.max(1_000, expiresInS * 1000 - this.opts.reauthMarginMs);
    this.later(reauthIn, () => void this.reauth());
    if (!first) return;
    for (const channel of this.channels.keys()) this.send({ type: "subscribe", channel });
    this.heartbeat = setInterval(() => this.beat(), this.opts.heartbeatMs);
    if (wasReconnect) for (const l of this.listeners.reconnect) l();
  }

  private async reauth(): Promise<void> {
    const token = await this.opts.token({ force: true }).catch(() => null);
    if (token) this.send({ type: "auth", token });
    // Without a token the server closes the connection at expiry; onclose reconnects
    // and `open` reports `unauthenticated` if there is still none.
  }

  private beat(): void {
    if (Date.now() - this.lastFrameAt > this.opts.deadAfterMs) {
      // Nothing at all for too long (not even our pong): the link is dead; a close from
      // here may never reach the server, so drop the socket and reconnect.
      const ws = this.ws;
      this.ws = null;
      ws?.close(4000, "heartbeat timeout");
      this.clearTimers();
      for (const entry of this.channels.values()) entry.acked = false;
      this.scheduleReconnect();
      return;
    }
    this.send({ type: "ping" });
  }

  /** The oldest subscription still waiting for its answer gets the refusal. */
  private refuse(err: { code: string; message: string }): void {
    const named = [...this.channels.entries()].find(([name]) => err.message.endsWith(`: ${name}`));
    const target = named ?? [...this.channels.entries()].find(([, e]) => !e.acked && e.waiters.length > 0);
    if (!target) return;
    const [name, entry] = target;
    this.channels.delete(name);
    for (const w of entry.waiters.splice(0)) w.reject(new Error(`${err.code}: ${err.message}`));
  }
}
