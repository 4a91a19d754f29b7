// A player: profile, rating over time per mode (from match history), recent matches.
// Re-read when a result of this player lands on the mode's rankings channel.
import type { HistoryEntry } from "@rankedhonor/client";
import { html } from "htm/preact";
import { useState } from "preact/hooks";
import { RatingChart, type Point } from "../chart.js";
import { Link } from "../router.js";
import { client, useChannel } from "../state.js";
import { ErrorBox, signed, useAsync, when } from "../util.js";

/** Up to `pages` pages of history (100 matches each), newest first. */
async function history(id: number, pages = 3): Promise<HistoryEntry[]> {
  const all: HistoryEntry[] = [];
  let before: number | undefined;
  for (let i = 0; i < pages; i++) {
    const page = await client.history(id, { limit: 100, ...(before ? { before } : {}) });
    all.push(...page.matches);
    if (!page.next_before) break;
    before = page.next_before;
  }
  return all;
}

export function points(matches: HistoryEntry[], mode: string): Point[] {
  return matches
    .filter((m) => m.mode === mode && m.status === "completed" && m.mmr_after !== null)
    .reverse()
    .map((m) => ({
      at: m.completed_at ?? m.created_at,
      mmr: m.mmr_after!,
      sigma: m.sigma_after ?? null,
      matchId: m.id,
    }));
}

export function Player(props: { id: number }) {
  const id = props.id;
  const data = useAsync(async () => {
    const [user, matches] = await Promise.all([client.user(id), history(id)]);
    return { user, matches };
  }, [id]);
  const modes = Object.keys(data.data?.user.stats ?? {});
  const [picked, setPicked] = useState<string | null>(null);
  const mode = picked && modes.includes(picked) ? picked : (modes[0] ?? null);

  useChannel(mode ? `rankings:${mode}` : null, (e) => {
    if (e.changes.some((c) => c.user_id === id)) data.reload();
  });

  if (data.error) return html`<${ErrorBox} error=${data.error} />`;
  if (!data.data) return html`<p class="note">Loading…</p>`;
  const { user, matches } = data.data;
  const stats = mode ? user.stats[mode] : undefined;
  return html`<section>
    <h1 data-testid="player-name">${user.username}</h1>
    <p class="note">Region ${user.region.toUpperCase()} · joined ${when(user.created_at)} · id ${user.id}</p>
    ${modes.length === 0 && html`<p class="note">No rated match yet.</p>`}
    ${modes.length > 0 &&
    html`<div class="tabs" role="tablist">
      ${modes.map((m) => html`<button role="tab" aria-selected=${m === mode} class=${m === mode ? "active" : ""} onClick=${() => setPicked(m)}>${m}</button>`)}
    </div>`}
    ${stats &&
    html`<dl class="stats" data-testid="player-stats">
      <div><dt>MMR</dt><dd data-testid="player-mmr">${stats.mmr}</dd></div>
      <div><dt>Wins</dt><dd>${stats.wins}</dd></div>
      <div><dt>Losses</dt><dd>${stats.losses}</dd></div>
      <div><dt>Draws</dt><dd>${stats.draws}</dd></div>
    </dl>`}
    ${mode && html`<${RatingChart} points=${points(matches, mode)} label=${`${user.username}: rating in ${mode}`} />`}
    <h2>Recent matches</h2>
    <div class="scroll">
      <table data-testid="recent-matches">
        <thead><tr><th>Match</th><th>Mode</th><th>Result</th><th class="num">MMR</th><th class="num wide">K/D/A</th><th class="wide">Hero</th><th class="wide">When</th></tr></thead>
        <tbody>
          ${matches.slice(0, 20).map(
            (m) => html`<tr key=${m.id}>
              <td><${Link} href=${`/matches/${m.id}`}>#${m.id}</${Link}></td>
              <td>${m.mode} ${m.region.toUpperCase()}</td>
              <td class=${m.result ?? ""}>${m.result ?? m.status}</td>
              <td class="num">${m.mmr_after ?? "—"}${m.mmr_after !== null && m.mmr_before !== null && html` <small class=${m.mmr_after >= m.mmr_before ? "up" : "down"}>${signed(m.mmr_after - m.mmr_before)}</small>`}</td>
              <td class="num wide">${m.kills}/${m.deaths}/${m.assists}</td>
              <td class="wide">${m.hero ?? "—"}</td>
              <td class="wide">${when(m.completed_at ?? m.created_at)}</td>
            </tr>`,
          )}
        </tbody>
      </table>
    </div>
  </section>`;
}
