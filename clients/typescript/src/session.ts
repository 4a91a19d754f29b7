// Tokens: where they are kept (pluggable storage) and how they are renewed.
//
// Refresh tokens rotate: each one is single-use, and presenting a used one revokes its
// whole family (docs/openapi.yaml, /auth/refresh). Two refreshes racing with the same
// token would therefore log the user out, so every refresh goes through one in-flight
// promise: concurrent callers wait for it instead of starting their own.
import type { components } from "./generated/openapi.js";

export type PrivateUser = components["schemas"]["PrivateUser"];
export type AuthResponse = components["schemas"]["AuthResponse"];

/** What a TokenStore keeps. `accessExpiresAt` is epoch ms on the local clock. */
export interface StoredSession {
  accessToken: string;
  refreshToken: string;
  accessExpiresAt: number;
  user: PrivateUser;
}

/** Where the session lives between page loads (or not at all). */
export interface TokenStore {
  load(): StoredSession | null;
  save(session: StoredSession | null): void;
}

/** Keeps the session in memory only: gone when the page or process goes. */
export class MemoryTokenStore implements TokenStore {
  private session: StoredSession | null = null;
  load(): StoredSession | null {
    return this.session;
  }
  save(session: StoredSession | null): void {
    this.session = session;
  }
}

/** Keeps the session in a Web Storage area (`localStorage` by default) under `key`. */
export class WebStorageTokenStore implements TokenStore {
  constructor(
    private readonly storage: Storage = globalThis.localStorage,
    private readonly key = "rankedhonor.session",
  ) {}
  load(): StoredSession | null {
    const raw = this.storage.getItem(this.key);
    if (!raw) return null;
    try {
      return JSON.parse(raw) as StoredSession;
    } catch {
      return null;
    }
  }
  save(session: StoredSession | null): void {
    if (session) this.storage.setItem(this.key, JSON.stringify(session));
    else this.storage.removeItem(this.key);
  }
}

export function toStored(auth: AuthResponse, now = Date.now()): StoredSession {
  return {
    accessToken: auth.access_token,
    refreshToken: auth.refresh_token,
    accessExpiresAt: now + auth.expires_in * 1000,
    user: auth.user,
  };
}

/**
 * The current session and its single-flight refresh. `refresher` performs the HTTP call
 * (POST /auth/refresh) and returns the new pair, or throws.
 */
export class SessionKeeper {
  private inFlight: Promise<StoredSession | null> | null = null;
  private listeners = new Set<(s: StoredSession | null) => void>();

  constructor(
    private readonly store: TokenStore,
    private readonly refresher: (refreshToken: string) => Promise<AuthResponse>,
    /** Refresh when the access token has less than this left (ms). */
    private readonly marginMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  get current(): StoredSession | null {
    return this.store.load();
  }

  set(session: StoredSession | null): void {
    this.store.save(session);
    for (const l of this.listeners) l(session);
  }

  onChange(listener: (s: StoredSession | null) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * A usable access token: the stored one while it has more than the margin left,
   * otherwise a refreshed one. `null` when logged out or when the refresh was refused
   * (the session is then cleared: the user must log in again).
   */
  async accessToken(opts: { force?: boolean } = {}): Promise<string | null> {
    const s = this.store.load();
    if (!s) return null;
    if (!opts.force && s.accessExpiresAt - this.now() > this.marginMs) return s.accessToken;
    const fresh = await this.refresh(s.refreshToken);
    return fresh?.accessToken ?? null;
  }

  /**
   * Refreshes once for everyone asking now. `usedToken` is the refresh token the caller
   * saw: if another refresh already replaced it, the newer session is returned as is,
   * so a token is never presented twice.
   */
  refresh(usedToken?: string): Promise<StoredSession | null> {
    if (this.inFlight) return this.inFlight;
    const s = this.store.load();
    if (!s) return Promise.resolve(null);
    if (usedToken && s.refreshToken !== usedToken && s.accessExpiresAt - this.now() > this.marginMs) {
      return Promise.resolve(s);
    }
    this.inFlight = (async () => {
      try {
        const auth = await this.refresher(s.refreshToken);
        const fresh = toStored(auth, this.now());
        this.set(fresh);
        return fresh;
      } catch (e) {
        // 401: the token was used, expired or revoked (logout, ban): the session is over.
        // Anything else (network, 503) keeps it, so a later call may try again.
        if ((e as { status?: number }).status === 401) {
          this.set(null);
          return null;
        }
        throw e;
      } finally {
        this.inFlight = null;
      }
    })();
    return this.inFlight;
  }
}
