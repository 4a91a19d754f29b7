// The console's Spin component over HTTP: content types, cache headers, CSP, the SPA
// fallback, problem+json for what it does not serve.
import assert from "node:assert/strict";
import { test } from "node:test";
import { API } from "./helpers.mjs";

const get = (path, init) => fetch(API() + path, { redirect: "manual", ...init });

test("/console redirects to /console/", async () => {
  const r = await get("/console");
  assert.equal(r.status, 308);
  assert.equal(r.headers.get("location"), "/console/");
});

test("the page is HTML with a strict CSP, revalidated on every load", async () => {
  const r = await get("/console/");
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("content-type"), "text/html; charset=utf-8");
  assert.equal(r.headers.get("cache-control"), "no-cache");
  const csp = r.headers.get("content-security-policy");
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self'/);
  assert.match(csp, /frame-ancestors 'none'/);
  assert.match(csp, new RegExp(`connect-src 'self' ${new URL(process.env.RH_TEST_WS_URL).origin.replace(/\./g, "\\.")}`));
  assert.equal(r.headers.get("x-content-type-options"), "nosniff");
  const html = await r.text();
  const script = html.match(/src="(\/console\/assets\/[^"]+\.js)"/)?.[1];
  assert.ok(script, html);

  // Hashed assets: a year, immutable; the right type; an ETag that revalidates.
  const js = await get(script);
  assert.equal(js.status, 200);
  assert.equal(js.headers.get("content-type"), "text/javascript; charset=utf-8");
  assert.equal(js.headers.get("cache-control"), "public, max-age=31536000, immutable");
  const etag = js.headers.get("etag");
  assert.ok(etag);
  const again = await get(script, { headers: { "if-none-match": etag } });
  assert.equal(again.status, 304);
  const css = html.match(/href="(\/console\/assets\/[^"]+\.css)"/)?.[1];
  assert.equal((await get(css)).headers.get("content-type"), "text/css; charset=utf-8");
});

test("app paths get the page; missing files are 404 problem+json; writes are 405", async () => {
  const deep = await get("/console/players/42");
  assert.equal(deep.status, 200);
  assert.match(await deep.text(), /<div id="app">/);
  const missing = await get("/console/assets/gone-1234.js");
  assert.equal(missing.status, 404);
  assert.equal(missing.headers.get("content-type"), "application/problem+json");
  assert.equal((await missing.json()).status, 404);
  const post = await get("/console/", { method: "POST", body: "x" });
  assert.equal(post.status, 405);
  assert.match(post.headers.get("allow") ?? "", /GET/);
  assert.equal(post.headers.get("content-type"), "application/problem+json");
});

test("config.json names the WebSocket the page connects to", async () => {
  const r = await get("/console/config.json");
  assert.equal(r.headers.get("cache-control"), "no-store");
  assert.deepEqual(await r.json(), { websocket_url: process.env.RH_TEST_WS_URL });
});
