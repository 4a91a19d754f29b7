// Admin tools (shown to users whose role is admin; the API checks the role itself on
// every call): user search, ban and unban, rating adjustment, match void, audit log.
import type { AdminUser, AuditEntry } from "@rankedhonor/client";
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { useCatalog } from "../catalog.js";
import { Link, navigate } from "../router.js";
import { client } from "../state.js";
import { ErrorBox, useAsync, when } from "../util.js";

const PERMANENT_FROM_MS = 253_402_300_000_000;

function value(e: Event): string {
  return (e.target as HTMLInputElement).value;
}

function banText(u: AdminUser): string {
  if (!u.banned_until_ms || u.banned_until_ms <= Date.now()) return "active";
  return u.banned_until_ms >= PERMANENT_FROM_MS ? "banned (permanent)" : `banned until ${when(u.banned_until_ms)}`;
}

/** Runs one admin action, showing its outcome; `after` refreshes what it changed. */
function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [done, setDone] = useState<string | null>(null);
  const run = async (label: string, f: () => Promise<unknown>, after?: () => void) => {
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      await f();
      setDone(label);
      after?.();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, done, run };
}

function UserActions(props: { user: AdminUser; onChange: () => void }) {
  const u = props.user;
  const catalog = useCatalog();
  const [reason, setReason] = useState("");
  const [until, setUntil] = useState("");
  const [mode, setMode] = useState(catalog.modes[0] ?? "1v1");
  const [kind, setKind] = useState<"mmr" | "delta" | "reset">("delta");
  const [amount, setAmount] = useState("");
  const a = useAction();
  const banned = !!u.banned_until_ms && u.banned_until_ms > Date.now();
  const ban = () =>
    a.run(
      `banned ${u.username}`,
      () => client.admin.ban(u.id, { reason, ...(until ? { until_ms: new Date(until).getTime() } : {}) }),
      props.onChange,
    );
  const unban = () => a.run(`unbanned ${u.username}`, () => client.admin.unban(u.id, reason), props.onChange);
  const rate = () => {
    const n = Number(amount);
    const change = kind === "reset" ? { reset: true } : kind === "mmr" ? { mmr: n } : { delta: n };
    return a.run(`rating of ${u.username} in ${mode} changed`, () => client.admin.adjustRating(u.id, { mode, reason, ...change }), props.onChange);
  };
  return html`<div class="panel" data-testid="user-actions">
    <h2><${Link} href=${`/players/${u.id}`}>${u.username}</${Link}> <small>#${u.id} · ${u.email} · ${u.role} · <span data-testid="ban-state">${banText(u)}</span></small></h2>
    ${u.ban_reason && banned && html`<p class="note">Reason: ${u.ban_reason}</p>`}
    <label>Reason (recorded in the audit log) <input name="reason" data-testid="reason" value=${reason} onInput=${(e: Event) => setReason(value(e))} /></label>
    <fieldset>
      <legend>Ban</legend>
      ${banned
        ? html`<button onClick=${unban} disabled=${a.busy || !reason} data-testid="unban">Unban</button>`
        : html`<label>Until (empty: permanent) <input type="datetime-local" value=${until} onInput=${(e: Event) => setUntil(value(e))} /></label>
            <button class="danger" onClick=${ban} disabled=${a.busy || !reason} data-testid="ban">Ban</button>`}
    </fieldset>
    <fieldset>
      <legend>Rating</legend>
      <select aria-label="Mode" value=${mode} onChange=${(e: Event) => setMode(value(e))}>${catalog.modes.map((m) => html`<option>${m}</option>`)}</select>
      <select aria-label="Change" value=${kind} onChange=${(e: Event) => setKind(value(e) as typeof kind)}>
        <option value="delta">move by</option><option value="mmr">set to</option><option value="reset">reset</option>
      </select>
      ${kind !== "reset" && html`<input type="number" aria-label="Amount" data-testid="rating-amount" value=${amount} onInput=${(e: Event) => setAmount(value(e))} />`}
      <button onClick=${rate} disabled=${a.busy || !reason || (kind !== "reset" && amount === "")} data-testid="adjust">Apply</button>
    </fieldset>
    ${a.done && html`<p class="ok" role="status" data-testid="action-done">Done: ${a.done}</p>`}
    <${ErrorBox} error=${a.error} />
  </div>`;
}

function Users() {
  const [query, setQuery] = useState("");
  const [submitted, setSubmitted] = useState("");
  const [selected, setSelected] = useState<number | null>(null);
  const list = useAsync(() => client.admin.searchUsers(submitted, 50), [submitted]);
  const items = list.data?.items ?? [];
  const user = items.find((u) => u.id === selected);
  return html`<div>
    <form class="row" onSubmit=${(e: Event) => (e.preventDefault(), setSubmitted(query))}>
      <input type="search" placeholder="id, username or email" aria-label="Search users" data-testid="user-search"
        value=${query} onInput=${(e: Event) => setQuery(value(e))} />
      <button type="submit">Search</button>
    </form>
    <${ErrorBox} error=${list.error} />
    <div class="scroll"><table data-testid="user-results">
      <thead><tr><th>User</th><th class="wide">Email</th><th>Region</th><th>State</th></tr></thead>
      <tbody>
        ${items.map(
          (u) => html`<tr key=${u.id} class=${u.id === selected ? "selected" : ""} data-user=${u.id}>
            <td><button class="link" onClick=${() => setSelected(u.id)}>${u.username}</button>${u.role === "admin" ? html` <small>admin</small>` : ""}</td>
            <td class="wide">${u.email}</td><td>${u.region.toUpperCase()}</td><td>${banText(u)}</td>
          </tr>`,
        )}
      </tbody>
    </table></div>
    ${!list.loading && items.length === 0 && html`<p class="note">No account matches.</p>`}
    ${user && html`<${UserActions} user=${user} onChange=${list.reload} />`}
  </div>`;
}

function VoidMatch() {
  const [id, setId] = useState("");
  const [reason, setReason] = useState("");
  const a = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void a.run(`match ${id} voided`, () => client.admin.voidMatch(Number(id), reason));
  };
  return html`<form class="panel" onSubmit=${submit} data-testid="void-form">
    <p class="note">Voiding reverses the match's rating changes (for players with no later match in the mode) and removes it from history and analytics.</p>
    <label>Match id <input type="number" min="1" required value=${id} onInput=${(e: Event) => setId(value(e))} data-testid="void-id" /></label>
    <label>Reason <input required value=${reason} onInput=${(e: Event) => setReason(value(e))} data-testid="void-reason" /></label>
    <button class="danger" type="submit" disabled=${a.busy}>Void match</button>
    ${a.done && html`<p class="ok" role="status" data-testid="action-done">Done: ${a.done}</p>`}
    <${ErrorBox} error=${a.error} />
  </form>`;
}

function Rebuild() {
  const a = useAction();
  return html`<div class="panel">
    <p class="note">Rebuild every mode's leaderboards from MySQL (after a Redis loss or a manual fix; players keep their ratings).</p>
    <button onClick=${() => a.run("leaderboards rebuilt", () => client.admin.rebuildRankings())} disabled=${a.busy} data-testid="rebuild">Rebuild leaderboards</button>
    ${a.done && html`<p class="ok" role="status">Done: ${a.done}</p>`}
    <${ErrorBox} error=${a.error} />
  </div>`;
}

function Audit() {
  const [action, setAction] = useState("");
  const [target, setTarget] = useState("");
  const [cursor, setCursor] = useState<string | undefined>(undefined);
  const page = useAsync(
    () =>
      client.admin.audit({
        limit: 50,
        ...(action ? { action } : {}),
        ...(target ? { target_type: "user", target_id: target } : {}),
        ...(cursor ? { cursor } : {}),
      }),
    [action, target, cursor],
  );
  const items: AuditEntry[] = page.data?.items ?? [];
  return html`<div>
    <div class="row">
      <select aria-label="Action" value=${action} onChange=${(e: Event) => (setCursor(undefined), setAction(value(e)))}>
        <option value="">every action</option>
        ${["admin_ban", "admin_unban", "admin_rating", "admin_void_match", "admin_rebuild_leaderboards", "admin_denied", "login", "login_failed", "logout"].map(
          (x) => html`<option value=${x}>${x}</option>`,
        )}
      </select>
      <input type="number" min="1" placeholder="target user id" aria-label="Target user" value=${target}
        onInput=${(e: Event) => (setCursor(undefined), setTarget(value(e)))} />
      <button onClick=${() => (setCursor(undefined), page.reload())}>Refresh</button>
    </div>
    <${ErrorBox} error=${page.error} />
    <div class="scroll"><table data-testid="audit-log">
      <thead><tr><th>When</th><th>Action</th><th>Actor</th><th>Target</th><th class="wide">Reason</th><th class="wide">Change</th></tr></thead>
      <tbody>
        ${items.map(
          (e) => html`<tr key=${e.id} data-action=${e.action} data-target=${`${e.target_type}:${e.target_id}`}>
            <td>${when(e.created_at_ms)}</td><td>${e.action}</td>
            <td>${e.actor_id ? html`<${Link} href=${`/players/${e.actor_id}`}>#${e.actor_id}</${Link}>` : "—"}</td>
            <td>${e.target_type ?? ""} ${e.target_id ?? ""}</td>
            <td class="wide">${e.reason ?? ""}</td>
            <td class="wide"><code>${e.after ? JSON.stringify(e.after) : ""}</code></td>
          </tr>`,
        )}
      </tbody>
    </table></div>
    ${page.data?.next_cursor && html`<button onClick=${() => setCursor(page.data!.next_cursor!)}>Older</button>`}
  </div>`;
}

const TABS = { users: "Users", matches: "Matches & boards", audit: "Audit log" } as const;

export function Admin(props: { query: URLSearchParams }) {
  const tab = (props.query.get("tab") as keyof typeof TABS) || "users";
  return html`<section>
    <h1>Admin</h1>
    <div class="tabs" role="tablist">
      ${Object.entries(TABS).map(
        ([k, label]) => html`<button role="tab" aria-selected=${k === tab} class=${k === tab ? "active" : ""}
          onClick=${() => navigate(`/admin?tab=${k}`)} data-testid=${`tab-${k}`}>${label}</button>`,
      )}
    </div>
    ${tab === "users" && html`<${Users} />`}
    ${tab === "matches" && html`<${VoidMatch} /><${Rebuild} />`}
    ${tab === "audit" && html`<${Audit} />`}
  </section>`;
}
