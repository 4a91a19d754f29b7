// The HTTP client against the live stack: auth, typed problems, refresh.
import assert from "node:assert/strict";
import { test } from "node:test";
import { createClient, isProblem, MemoryTokenStore, ProblemError } from "../src/index.js";
import { API, newPlayer, uniqueName } from "./helpers.js";

test("register logs in and me() returns the private profile", async () => {
  const p = await newPlayer("na");
  assert.equal(p.client.loggedIn, true);
  const me = await p.client.me();
  assert.equal(me.id, p.user.id);
  assert.equal(me.email, p.email);
  assert.equal(me.region, "na");
  assert.equal(me.role, "player");
});

test("a 422 is a ProblemError with its field errors", async () => {
  const c = createClient({ baseUrl: API() });
  const e = await c.register({ email: "not-an-email", username: "x", password: "short", region: "mars" }).catch((e) => e);
  assert.ok(isProblem(e, 422), String(e));
  assert.equal(e.type, "/problems/validation-failed");
  assert.ok(e.fieldError("username"), JSON.stringify(e.errors));
  assert.ok(e.fieldError("region"));
  assert.equal(c.loggedIn, false);
});

test("a taken username is 409 and a wrong password 401, both typed", async () => {
  const p = await newPlayer();
  const c = createClient({ baseUrl: API() });
  const dup = await c
    .register({ email: `${uniqueName()}@example.test`, username: p.user.username, password: p.password, region: "eu" })
    .catch((e) => e);
  assert.ok(dup instanceof ProblemError && dup.status === 409, String(dup));
  const bad = await c.login({ email: p.email, password: "wrong password!" }).catch((e) => e);
  assert.ok(isProblem(bad, 401));
  assert.equal(bad.type, "/problems/invalid-credentials");
});

test("concurrent calls with an expiring token share one refresh", async () => {
  let refreshes = 0;
  const counting: typeof fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (url.endsWith("/api/v1/auth/refresh")) refreshes += 1;
    return fetch(input, init);
  };
  const store = new MemoryTokenStore();
  const p = await newPlayer("eu", createClient({ baseUrl: API(), storage: store, fetch: counting }));
  const before = store.load()!;
  // The access token "expires" now: the next calls must refresh first, once for all.
  store.save({ ...before, accessExpiresAt: Date.now() });
  const results = await Promise.all(Array.from({ length: 6 }, () => p.client.me()));
  assert.equal(refreshes, 1);
  for (const me of results) assert.equal(me.id, p.user.id);
  const after = store.load()!;
  assert.notEqual(after.refreshToken, before.refreshToken);
  assert.ok(after.accessExpiresAt > Date.now() + 10 * 60_000);
  // The rotated family still works: a second refresh with the new token succeeds.
  assert.ok(await p.client.accessToken({ force: true }));
  assert.equal(refreshes, 2);
});

test("a refused refresh ends the session instead of retrying", async () => {
  const store = new MemoryTokenStore();
  const p = await newPlayer("eu", createClient({ baseUrl: API(), storage: store }));
  const stale = store.load()!;
  await p.client.accessToken({ force: true }); // rotates: `stale.refreshToken` is now used
  store.save({ ...stale, accessExpiresAt: 0 });
  // Presenting the used token revokes the family (the server's rule) and logs us out.
  assert.equal(await p.client.accessToken(), null);
  assert.equal(p.client.loggedIn, false);
});

test("logout revokes the token on the server and forgets it here", async () => {
  const store = new MemoryTokenStore();
  const p = await newPlayer("eu", createClient({ baseUrl: API(), storage: store }));
  const token = store.load()!.accessToken;
  await p.client.logout();
  assert.equal(p.client.loggedIn, false);
  const r = await fetch(`${API()}/api/v1/users/me`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal(r.status, 401);
  assert.match(r.headers.get("content-type") ?? "", /application\/problem\+json/);
});

test("reads are typed end to end: a leaderboard page and a public profile", async () => {
  const p = await newPlayer();
  const board = await p.client.leaderboard("1v1", { region: "eu", limit: 5 });
  assert.equal(board.mode, "1v1");
  assert.equal(board.region, "eu");
  assert.ok(Array.isArray(board.entries));
  const pub = await p.client.user(p.user.id);
  assert.equal(pub.username, p.user.username);
  assert.equal((pub as Record<string, unknown>).email, undefined);
  const missing = await p.client.user(999_999_999).catch((e) => e);
  assert.ok(isProblem(missing, 404));
});
