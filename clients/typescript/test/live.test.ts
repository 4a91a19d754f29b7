// The whole loop through the client, against the live stack: two players queue, both get
// `match_found`, a game server posts the result, the ranking change arrives on the
// WebSocket and the new rating reads back over HTTP. Then the socket's own behaviour:
// heartbeats, reconnect with resubscribe, and a refreshed token on reconnect.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  channels,
  EventSocket,
  MemoryTokenStore,
  createClient,
  type ControlMessage,
  type RankingEvent,
  type UserEvent,
  type WebSocketFactory,
  type WebSocketLike,
} from "../src/index.js";
import { API, WS, eventually, gameServer, newPlayer, socketFor, waitFor } from "./helpers.js";

type MatchFound = Extract<UserEvent, { type: "match_found" }>;

function firstOf<E extends { type: string }, T extends E["type"]>(
  socket: EventSocket,
  channel: Parameters<EventSocket["subscribe"]>[0],
  type: T,
  pred: (e: Extract<E, { type: T }>) => boolean = () => true,
) {
  let sub: { ready: Promise<void>; unsubscribe(): void } | undefined;
  const got = waitFor<Extract<E, { type: T }>>(`${type} on ${channel}`, (done) => {
    sub = socket.subscribe(channel, (e) => {
      const ev = e as unknown as E;
      if (ev.type === type && pred(ev as Extract<E, { type: T }>)) done(ev as Extract<E, { type: T }>);
    });
    return () => sub?.unsubscribe();
  });
  return { got, ready: sub!.ready };
}

test("two players queue, get match_found, and see the result's rating change live and over HTTP", async () => {
  // A region of its own keeps this pair from meeting anyone else's ticket.
  const region = "oce";
  const [a, b] = await Promise.all([newPlayer(region), newPlayer(region)]);
  const sa = socketFor(a.client);
  const sb = socketFor(b.client);
  try {
    const foundA = firstOf<UserEvent, "match_found">(sa, channels.user(a.user.id), "match_found");
    const foundB = firstOf<UserEvent, "match_found">(sb, channels.user(b.user.id), "match_found");
    const ratedA = firstOf<UserEvent, "rating_changed">(sa, channels.user(a.user.id), "rating_changed");
    await Promise.all([foundA.ready, foundB.ready, ratedA.ready]);

    const ticketA = await a.client.joinQueue({ mode: "1v1", region });
    assert.equal(ticketA.state, "queued");
    await b.client.joinQueue({ mode: "1v1", region });

    const [mA, mB]: [MatchFound, MatchFound] = await Promise.all([foundA.got, foundB.got]);
    assert.equal(mA.match_id, mB.match_id);
    assert.deepEqual(mA.opponents, [b.user.id]);
    assert.deepEqual(mB.opponents, [a.user.id]);
    const status = await a.client.queueStatus();
    assert.equal(status.state, "matched");

    // Subscribe to the board before the result, then post it as the game server.
    const board = firstOf<RankingEvent, "rating_changed">(sa, channels.rankings("1v1"), "rating_changed", (e) => e.match_id === mA.match_id);
    await board.ready;
    const result = await gameServer().postResult(mA.match_id, {
      winner_team: mA.team,
      duration_s: 420,
      participants: [
        { user_id: a.user.id, kills: 9, deaths: 2, assists: 1, hero: "ranger" },
        { user_id: b.user.id, kills: 2, deaths: 9, assists: 0, hero: "brute" },
      ],
    });
    assert.equal(result.match.status, "completed");

    const moved = await board.got;
    const winner = moved.changes.find((c) => c.user_id === a.user.id)!;
    const loser = moved.changes.find((c) => c.user_id === b.user.id)!;
    assert.ok(winner.mmr_after > winner.mmr_before, JSON.stringify(moved));
    assert.ok(loser.mmr_after < loser.mmr_before);
    assert.equal(winner.username, a.user.username);

    const mine = await ratedA.got;
    assert.equal(mine.result, "win");
    assert.equal(mine.mmr_after, winner.mmr_after);

    // The same numbers over HTTP: the regional board, the profile, the history.
    const page = await a.client.leaderboard("1v1", { region });
    const row = page.entries.find((e) => e.user_id === a.user.id);
    assert.equal(row?.mmr, winner.mmr_after);
    assert.equal(row?.wins, 1);
    const profile = await b.client.user(a.user.id);
    assert.equal(profile.stats["1v1"]?.mmr, winner.mmr_after);
    const history = await a.client.history(a.user.id);
    const entry = history.matches.find((m) => m.id === mA.match_id)!;
    assert.equal(entry.result, "win");
    assert.equal(entry.mmr_after, winner.mmr_after);
    assert.ok(entry.sigma_after !== null && entry.sigma_before !== null && entry.sigma_after < entry.sigma_before);
    assert.ok(entry.mu_after !== null && entry.mu_before !== null && entry.mu_after > entry.mu_before);
  } finally {
    sa.close();
    sb.close();
  }
});

test("the socket answers heartbeats, reconnects, refreshes its token and resubscribes", async () => {
  const store = new MemoryTokenStore();
  const a = await newPlayer("eu", createClient({ baseUrl: API(), storage: store }));
  const b = await newPlayer("eu");
  const match = await gameServer().createMatch({ mode: "1v1", region: "eu", teams: [[a.user.id], [b.user.id]] });

  // A factory that keeps the sockets it made, so the test can cut the link.
  const made: WebSocketLike[] = [];
  const Base = (globalThis as { WebSocket?: WebSocketFactory }).WebSocket!;
  const Tracking = class {
    constructor(url: string) {
      const ws = new Base(url);
      made.push(ws);
      return ws;
    }
  } as unknown as WebSocketFactory;
  const socket = new EventSocket({
    url: WS(),
    token: (o) => a.client.accessToken(o),
    WebSocket: Tracking,
    backoffInitialMs: 50,
    heartbeatMs: 200,
  });
  const controls: ControlMessage[] = [];
  socket.onControl((m) => controls.push(m));
  socket.connect();
  try {
    const events: unknown[] = [];
    const sub = socket.subscribe(channels.match(match.id), (e) => events.push(e));
    await sub.ready;
    await eventually("a pong", async () => (controls.some((m) => m.type === "pong") ? true : undefined), 5_000);

    // The token is about to expire when the link drops: the reconnect must refresh it.
    const before = store.load()!;
    store.save({ ...before, accessExpiresAt: Date.now() });
    const reconnected = waitFor<void>("reconnect", (done) => socket.onReconnect(() => done()));
    made.at(-1)!.close(4001, "test cuts the link");
    await reconnected;
    assert.equal(made.length, 2);
    assert.notEqual(store.load()!.refreshToken, before.refreshToken, "a fresh token after reconnecting");
    assert.equal(socket.status, "open");

    // Resubscribed: a timeline event published now arrives on the new connection.
    await eventually("resubscribed", async () => (controls.filter((m) => m.type === "subscribed").length >= 2 ? true : undefined), 5_000);
    await gameServer().appendEvent(match.id, { type: "kill", at_ms: 1500, data: { by: a.user.id } });
    const got = await eventually("the timeline event", async () => (events.length ? events[0] : undefined));
    assert.deepEqual(got, {
      type: "timeline",
      match_id: match.id,
      event: { match_id: match.id, seq: 1, type: "kill", at_ms: 1500, data: { by: a.user.id } },
    } as unknown);
  } finally {
    socket.close();
  }
});

test("another user's private channel is refused, and the subscription says so", async () => {
  const [a, b] = await Promise.all([newPlayer(), newPlayer()]);
  const s = socketFor(a.client);
  try {
    const sub = s.subscribe(channels.user(b.user.id), () => {});
    await assert.rejects(sub.ready, /forbidden_channel/);
    const ok = s.subscribe(channels.feed, () => {});
    await ok.ready;
  } finally {
    s.close();
  }
});
