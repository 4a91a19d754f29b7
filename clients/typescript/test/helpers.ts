// Shared by the tests: the live stack's addresses (set by scripts/lib.sh's
// run_node_tests, which starts rh-runtime and rh-sidecar on free ports), fresh players,
// a signed game server, admin promotion, and waiting for events.
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import { createClient, EventSocket, GameServer, type RankedHonorClient, type PrivateUser } from "../src/index.js";

function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run these tests through ./scripts/test (or scripts/lib.sh run_node_tests)`);
  return v;
}

export const API = () => env("RH_TEST_API_URL");
export const WS = () => env("RH_TEST_WS_URL");

export function gameServer(): GameServer {
  return new GameServer(API(), env("RH_TEST_GAME_SERVER_KEY"));
}

export interface Player {
  client: RankedHonorClient;
  user: PrivateUser;
  email: string;
  password: string;
}

export function uniqueName(prefix = "ts"): string {
  return `${prefix}_${randomBytes(5).toString("hex")}`.slice(0, 20);
}

export async function newPlayer(region = "eu", client = createClient({ baseUrl: API() })): Promise<Player> {
  const username = uniqueName();
  const email = `${username}@example.test`;
  const password = "correct horse battery";
  const user = await client.register({ email, username, password, region });
  return { client, user, email, password };
}

/** Makes `email` an admin the way an operator does (README "Migrations and admin"). */
export async function promoteAdmin(email: string): Promise<void> {
  await promisify(execFile)(env("RH_MIGRATE_BIN"), ["promote-admin", email], {
    env: { ...process.env, RH_MIGRATE_URL: env("RH_TEST_MIGRATE_URL") },
  });
}

export function socketFor(client: RankedHonorClient, opts: Partial<ConstructorParameters<typeof EventSocket>[0]> = {}) {
  const s = new EventSocket({ url: WS(), token: (o) => client.accessToken(o), backoffInitialMs: 100, ...opts });
  s.connect();
  return s;
}

/** Resolves with the first value `take` returns (not undefined), or rejects after `ms`. */
export function waitFor<T>(what: string, start: (done: (v: T) => void) => () => void, ms = 20_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let stop = () => {};
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
    stop = start((v) => {
      clearTimeout(timer);
      stop();
      resolve(v);
    });
  });
}

/** Polls `check` (every 100 ms) until it returns a value, for state read over HTTP. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
