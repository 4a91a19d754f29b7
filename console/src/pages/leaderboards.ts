// Live leaderboards: a page of the board per mode and region, re-read whenever a result
// lands on `rankings:{mode}`; rows that moved are marked with their change.
import type { LeaderboardEntry, RankingEvent } from "@rankedhonor/client";
import { html } from "htm/preact";
import { useRef, useState } from "preact/hooks";
import { Link, navigate } from "../router.js";
import { client, useChannel } from "../state.js";
import { ErrorBox, signed, useAsync } from "../util.js";
import { useCatalog } from "../catalog.js";

interface Moved {
  rank: number;
  mmr: number;
}

export function Leaderboards(props: { query: URLSearchParams }) {
  const catalog = useCatalog();
  const mode = props.query.get("mode") || catalog.modes[0] || "1v1";
  const region = props.query.get("region") || "";
  // The rows on screen when an event arrives (the handler outlives renders).
  const latest = useRef<LeaderboardEntry[]>([]);
  const [moved, setMoved] = useState(new Map<number, Moved>());
  const [lastEvent, setLastEvent] = useState<RankingEvent | null>(null);

  const board = useAsync(async () => {
    const page = await client.leaderboard(mode, { ...(region ? { region } : {}), limit: 50 });
    return page;
  }, [mode, region]);

  // What moved since the last read: the rank and mmr change of every player of the event.
  const entries = board.data?.entries ?? [];
  latest.current = entries;
  const show = (e: LeaderboardEntry) => moved.get(e.user_id);

  useChannel(
    `rankings:${mode}`,
    (event) => {
      const before = new Map(latest.current.map((e) => [e.user_id, e]));
      setLastEvent(event);
      const next = new Map<number, Moved>();
      for (const c of event.changes) {
        const old = before.get(c.user_id);
        next.set(c.user_id, { rank: old ? old.rank : 0, mmr: c.mmr_after - c.mmr_before });
      }
      setMoved(next);
      board.reload();
    },
    board.reload,
  );

  const pick = (m: string, r: string) =>
    navigate(`/?mode=${encodeURIComponent(m)}${r ? `&region=${encodeURIComponent(r)}` : ""}`);

  return html`<section>
    <h1>Leaderboards</h1>
    <div class="tabs" role="tablist">
      ${catalog.modes.map(
        (m) => html`<button role="tab" aria-selected=${m === mode} class=${m === mode ? "active" : ""}
          onClick=${() => pick(m, region)}>${m}</button>`,
      )}
      <select aria-label="Region" data-testid="region" value=${region}
        onChange=${(e: Event) => pick(mode, (e.target as HTMLSelectElement).value)}>
        <option value="">Global</option>
        ${catalog.regions.map((r) => html`<option value=${r}>${r.toUpperCase()}</option>`)}
      </select>
    </div>
    <${ErrorBox} error=${board.error} />
    ${lastEvent &&
    html`<p class="note" data-testid="last-result">
      Result of <${Link} href=${`/matches/${lastEvent.match_id}`}>match ${lastEvent.match_id}</${Link}>:
      ${lastEvent.changes.map((c) => `${c.username} ${signed(c.mmr_after - c.mmr_before)}`).join(", ")}
    </p>`}
    <div class="scroll">
      <table class="board" data-testid="leaderboard">
        <thead><tr><th>#</th><th>Player</th><th class="num">MMR</th><th class="num">W</th><th class="num">L</th><th class="num wide">Win %</th></tr></thead>
        <tbody>
          ${entries.map((e) => {
            const m = show(e);
            const rankDelta = m && m.rank ? m.rank - e.rank : 0;
            return html`<tr key=${e.user_id} data-user=${e.user_id} data-rank=${e.rank} class=${m ? "moved" : ""}>
              <td class="rank">${e.rank}${rankDelta !== 0 &&
              html`<span class=${rankDelta > 0 ? "up" : "down"} data-testid="rank-delta">${rankDelta > 0 ? "▲" : "▼"}${Math.abs(rankDelta)}</span>`}</td>
              <td><${Link} href=${`/players/${e.user_id}`}>${e.username}</${Link}></td>
              <td class="num" data-testid="mmr">${e.mmr}${m &&
              html` <small class=${m.mmr >= 0 ? "up" : "down"}>${signed(m.mmr)}</small>`}</td>
              <td class="num">${e.wins}</td>
              <td class="num">${e.losses}</td>
              <td class="num wide">${e.wins + e.losses ? Math.round((100 * e.wins) / (e.wins + e.losses)) : 0}%</td>
            </tr>`;
          })}
        </tbody>
      </table>
    </div>
    ${!board.loading && entries.length === 0 && html`<p class="note">Nobody is ranked in ${mode}${region ? ` (${region})` : ""} yet.</p>`}
    ${board.data && html`<p class="note">${board.data.total} ranked</p>`}
  </section>`;
}
