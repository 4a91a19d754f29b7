// Browser-test helpers: Debian's Chromium driven by playwright-core (no browser download),
// and the same live-stack setup as the client's tests (players, game server, admin).
import { execFile } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { randomBytes } from "node:crypto";
import { chromium } from "playwright-core";
import { createClient, GameServer } from "@rankedhonor/client";

export function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run through ./scripts/test (scripts/lib.sh run_node_tests)`);
  return v;
}
export const API = () => env("RH_TEST_API_URL");
// One game server for the whole file: it remembers what it signed, so two identical
// requests (the same roster twice) in one second get distinct timestamps.
let server;
export const gameServer = () => (server ??= new GameServer(API(), env("RH_TEST_GAME_SERVER_KEY")));

// Without the background-networking flags Chromium keeps calling home, and on a closed
// network every attempt is a refused connection.
const FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A fresh browser profile (deleted by `close`). */
export async function browser(viewport = { width: 1280, height: 800 }) {
  const dir = mkdtempSync(join(tmpdir(), "rh-console-chromium-"));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: process.env.RH_CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: FLAGS,
    viewport,
    baseURL: API(),
  });
  const close = async () => {
    await context.close();
    rmSync(dir, { recursive: true, force: true });
  };
  return { context, page: context.pages()[0] ?? (await context.newPage()), close };
}

export async function newPlayer(region = "eu") {
  const username = `ui_${randomBytes(5).toString("hex")}`;
  const email = `${username}@example.test`;
  const password = "correct horse battery";
  const client = createClient({ baseUrl: API() });
  const user = await client.register({ email, username, password, region });
  return { client, user, email, password };
}

export async function promoteAdmin(email) {
  await promisify(execFile)(env("RH_MIGRATE_BIN"), ["promote-admin", email], {
    env: { ...process.env, RH_MIGRATE_URL: env("RH_TEST_MIGRATE_URL") },
  });
}

export async function login(page, who) {
  await page.goto("/console/");
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel("Password").fill(who.password);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.getByTestId("logout").waitFor({ state: "attached" }); // folded away on a phone
}

/** Saves a screenshot under RH_CONSOLE_SCREENSHOTS (the README's come from here). */
export async function shot(page, name) {
  const dir = process.env.RH_CONSOLE_SCREENSHOTS;
  if (!dir) return;
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`), fullPage: false });
}
