// The console as a person uses it, in a real Chromium against the live stack: log in,
// watch a leaderboard row move when a game server posts a result, open the player's
// chart, follow a match; as an admin ban a player and find it in the audit log; and a
// player kept out of the admin pages and their API.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { API, browser, gameServer, login, newPlayer, promoteAdmin, shot } from "./helpers.mjs";

const REGION = "sa";
let alice, bob, admin, firstMatch, lastMatch;

/** One 1v1 between `a` and `b` that `winner` wins; returns the match id. */
async function play(a, b, winner) {
  const gs = gameServer();
  const m = await gs.createMatch({ mode: "1v1", region: REGION, teams: [[a.user.id], [b.user.id]] });
  await gs.appendEvent(m.id, { type: "kill", at_ms: 65_000, data: { by: winner.user.id } });
  await gs.appendEvent(m.id, { type: "objective", at_ms: 190_000, data: { team: winner === a ? 0 : 1 } });
  await gs.postResult(m.id, {
    winner_team: winner === a ? 0 : 1,
    duration_s: 311,
    participants: [
      { user_id: a.user.id, kills: winner === a ? 7 : 3, deaths: winner === a ? 3 : 7, assists: 2, hero: "ranger" },
      { user_id: b.user.id, kills: winner === b ? 7 : 3, deaths: winner === b ? 3 : 7, assists: 1, hero: "brute" },
    ],
  });
  return m.id;
}

before(async () => {
  [alice, bob, admin] = await Promise.all([newPlayer(REGION), newPlayer(REGION), newPlayer("eu")]);
  await promoteAdmin(admin.email);
  await admin.client.login({ email: admin.email, password: admin.password });
  // A few matches so the chart has a history, then both moved to the top of the board
  // (an admin rating change) so the test's rows are on its first page whatever else the
  // test database holds.
  firstMatch = await play(alice, bob, alice);
  await play(alice, bob, bob);
  await play(alice, bob, alice);
  const top = (await admin.client.leaderboard("1v1", { region: REGION, limit: 1 })).entries[0]?.mmr ?? 1500;
  await admin.client.admin.adjustRating(alice.user.id, { mode: "1v1", mmr: top + 40, reason: "ui test: top of the board" });
  await admin.client.admin.adjustRating(bob.user.id, { mode: "1v1", mmr: top + 20, reason: "ui test: top of the board" });
});

let b;
after(async () => {
  await b?.close();
});

test("a player logs in and watches a leaderboard row move when a result lands", async () => {
  b = await browser();
  const { page } = b;
  await login(page, bob);
  await page.goto(`/console/?mode=1v1&region=${REGION}`);
  const row = (who) => page.locator(`[data-testid=leaderboard] tr[data-user="${who.user.id}"]`);
  await row(alice).waitFor();
  const rank = async (who) => Number(await row(who).getAttribute("data-rank"));
  assert.equal(await rank(alice), 1);
  assert.equal(await rank(bob), 2);
  await page.getByTestId("live").filter({ hasText: "live" }).waitFor();
  await shot(page, "leaderboard");

  // Bob beats Alice: his row moves up to rank 1 on the open page, with no reload.
  const m = (lastMatch = await play(alice, bob, bob));
  await page.waitForFunction(
    (id) => document.querySelector(`[data-testid=leaderboard] tr[data-user="${id}"]`)?.getAttribute("data-rank") === "1",
    bob.user.id,
  );
  assert.match((await row(bob).getAttribute("class")) ?? "", /moved/);
  assert.match(await row(bob).getByTestId("rank-delta").innerText(), /▲1/);
  assert.ok((await rank(alice)) > 1);
  const profile = await bob.client.user(bob.user.id);
  assert.equal(await row(bob).getByTestId("mmr").innerText().then((t) => parseInt(t, 10)), profile.stats["1v1"].mmr);
  assert.match(await page.getByTestId("last-result").innerText(), new RegExp(`match ${m}`));
  await shot(page, "leaderboard-moved");
});

test("the player's page shows the rating chart with its sigma band and recent matches", async () => {
  const { page } = b;
  await page.locator(`[data-testid=leaderboard] tr[data-user="${bob.user.id}"] a`).click();
  await page.getByTestId("player-name").filter({ hasText: bob.user.username }).waitFor();
  const chart = page.getByTestId("rating-chart");
  await chart.waitFor();
  assert.ok(Number(await chart.getAttribute("data-points")) >= 4);
  assert.equal(await page.getByTestId("sigma-band").count(), 1);
  assert.equal(await page.locator("[data-testid=recent-matches] tbody tr").count() >= 4, true);
  await shot(page, "player");

  // And a match from there: teams, rating changes and the timeline.
  await page.locator(`[data-testid=recent-matches] a[href="/console/matches/${firstMatch}"]`).click();
  await page.getByTestId("match-summary").filter({ hasText: "team 1 won" }).waitFor();
  assert.equal(await page.locator("[data-testid=timeline] li").count(), 2);
  assert.match(await page.getByTestId("team-0").getByTestId("rating-change").innerText(), /→/);
  await shot(page, "match");
});

test("the queue page shows every mode and region", async () => {
  const { page } = b;
  await page.getByTestId("nav-queue").click();
  await page.locator('[data-queue="1v1:eu"]').waitFor();
  assert.ok((await page.locator("[data-testid=queue-table] tbody tr").count()) >= 3);
  await shot(page, "queue");
});

test("a player cannot reach the admin pages, and the API refuses their admin calls", async () => {
  const { page } = b;
  assert.equal(await page.getByTestId("nav-admin").count(), 0);
  const adminCalls = [];
  page.on("request", (r) => {
    if (r.url().includes("/api/v1/admin/")) adminCalls.push(r.url());
  });
  await page.goto("/console/admin?tab=audit");
  await page.getByTestId("not-admin").waitFor();
  assert.deepEqual(adminCalls, [], "the page made no admin call");
  // Calling the API directly with the player's own token is refused too.
  const status = await page.evaluate(async () => {
    const s = JSON.parse(localStorage.getItem("rankedhonor.console.session"));
    const r = await fetch("/api/v1/admin/audit", { headers: { authorization: `Bearer ${s.accessToken}` } });
    return { status: r.status, type: r.headers.get("content-type") };
  });
  assert.equal(status.status, 403);
  assert.match(status.type, /problem\+json/);
  await page.getByTestId("logout").click();
  await page.getByLabel("Email").waitFor();
});

test("an admin finds a player, bans them and sees the ban in the audit log", async () => {
  const { page } = b;
  await login(page, admin);
  await page.getByTestId("nav-admin").click();
  await page.getByTestId("user-search").fill(alice.user.username);
  await page.getByRole("button", { name: "Search" }).click();
  await page.locator(`[data-testid=user-results] tr[data-user="${alice.user.id}"] button`).click();
  const actions = page.getByTestId("user-actions");
  await actions.getByTestId("reason").fill("ui test: cheating");
  await shot(page, "admin-users");
  await actions.getByTestId("ban").click();
  await page.getByTestId("action-done").waitFor();
  await actions.getByTestId("ban-state").filter({ hasText: "banned" }).waitFor();

  // The ban took effect on the server: Alice can no longer log in.
  const refused = await alice.client.login({ email: alice.email, password: alice.password }).catch((e) => e);
  assert.equal(refused.status, 403);

  await page.getByTestId("tab-audit").click();
  const entry = page.locator(`[data-testid=audit-log] tr[data-action="admin_ban"][data-target="user:${alice.user.id}"]`);
  await entry.waitFor();
  assert.match(await entry.innerText(), /ui test: cheating/);
  await shot(page, "admin-audit");
});

test("an admin lifts the ban and voids a match, each recorded", async () => {
  const { page } = b;
  await page.getByTestId("tab-users").click();
  await page.getByTestId("user-search").fill(String(alice.user.id));
  await page.getByRole("button", { name: "Search" }).click();
  await page.locator(`[data-testid=user-results] tr[data-user="${alice.user.id}"] button`).click();
  const actions = page.getByTestId("user-actions");
  await actions.getByTestId("reason").fill("ui test: appeal granted");
  await actions.getByTestId("unban").click();
  await actions.getByTestId("ban-state").filter({ hasText: "active" }).waitFor();
  await alice.client.login({ email: alice.email, password: alice.password });

  await page.getByTestId("tab-matches").click();
  await page.getByTestId("void-id").fill(String(lastMatch));
  await page.getByTestId("void-reason").fill("ui test: server fault");
  await page.getByRole("button", { name: "Void match" }).click();
  await page.getByTestId("action-done").filter({ hasText: `match ${lastMatch} voided` }).waitFor();
  assert.equal((await bob.client.match(lastMatch)).status, "voided");

  await page.getByTestId("tab-audit").click();
  await page.locator(`[data-testid=audit-log] tr[data-action="admin_void_match"][data-target="match:${lastMatch}"]`).waitFor();
  await page.locator(`[data-testid=audit-log] tr[data-action="admin_unban"][data-target="user:${alice.user.id}"]`).waitFor();
});

test("the pages are readable on a 375 px phone", async () => {
  const phone = await browser({ width: 375, height: 740 });
  try {
    const { page } = phone;
    await login(page, bob);
    await page.goto(`/console/?mode=1v1&region=${REGION}`);
    await page.locator(`[data-testid=leaderboard] tr[data-user="${bob.user.id}"]`).waitFor();
    // Nothing wider than the screen but the tables' own scrolling boxes.
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `page is ${overflow}px wider than the phone`);
    await shot(page, "phone-leaderboard");
    await page.goto(`/console/players/${bob.user.id}`);
    await page.getByTestId("rating-chart").waitFor();
    assert.ok((await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)) <= 0);
    await shot(page, "phone-player");
  } finally {
    await phone.close();
  }
});
