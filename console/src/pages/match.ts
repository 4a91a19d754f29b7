// A match: teams with each player's stats and rating change, and the timeline, kept live
// from `match:{id}` (status changes re-read the match; timeline events are appended).
import type { TimelineEvent } from "@rankedhonor/client";
import { html } from "htm/preact";
import { useEffect, useState } from "preact/hooks";
import { Link } from "../router.js";
import { client, useChannel } from "../state.js";
import { ErrorBox, signed, useAsync, when } from "../util.js";

export function MatchPage(props: { id: number }) {
  const id = props.id;
  const data = useAsync(async () => {
    const [match, timeline] = await Promise.all([client.match(id), client.timeline(id)]);
    // Names for the roster: one profile read per player (at most 8).
    const users = await Promise.all(match.participants.map((p) => client.user(p.user_id).catch(() => null)));
    const names = new Map(users.filter((u) => u !== null).map((u) => [u!.id, u!.username]));
    return { match, events: timeline.events, names };
  }, [id]);
  const [extra, setExtra] = useState<TimelineEvent[]>([]);
  useEffect(() => setExtra([]), [id, data.data]);

  useChannel(`match:${id}`, (e) => {
    if (e.type === "status") data.reload();
    else setExtra((x) => [...x, e.event]);
  }, data.reload);

  if (data.error) return html`<${ErrorBox} error=${data.error} />`;
  if (!data.data) return html`<p class="note">Loading…</p>`;
  const { match, names } = data.data;
  const seen = new Set(data.data.events.map((e) => e.seq));
  const events = [...data.data.events, ...extra.filter((e) => !seen.has(e.seq))].sort((a, b) => a.at_ms - b.at_ms || a.seq - b.seq);
  const outcome =
    match.status !== "completed" ? match.status : match.winner_team === null ? "draw" : `team ${match.winner_team + 1} won`;
  return html`<section>
    <h1>Match #${match.id}</h1>
    <p class="note" data-testid="match-summary">${match.mode} · ${match.region.toUpperCase()} · <strong>${outcome}</strong>
      ${match.duration_s ? ` · ${Math.floor(match.duration_s / 60)}:${String(match.duration_s % 60).padStart(2, "0")}` : ""} · ${when(match.completed_at ?? match.created_at)}</p>
    <div class="teams">
      ${match.teams.map(
        (_, t) => html`<div class="team ${match.winner_team === t ? "winner" : ""}" data-testid=${`team-${t}`}>
          <h2>Team ${t + 1}${match.winner_team === t ? " · winner" : ""}</h2>
          <table>
            <thead><tr><th>Player</th><th class="num">K/D/A</th><th class="wide">Hero</th><th class="num">Rating</th></tr></thead>
            <tbody>
              ${match.participants
                .filter((p) => p.team === t)
                .map(
                  (p) => html`<tr key=${p.user_id}>
                    <td><${Link} href=${`/players/${p.user_id}`}>${names.get(p.user_id) ?? `#${p.user_id}`}</${Link}></td>
                    <td class="num">${p.kills}/${p.deaths}/${p.assists}</td>
                    <td class="wide">${p.hero ?? "—"}</td>
                    <td class="num" data-testid="rating-change">${p.mmr_before !== null && p.mmr_after !== null
                      ? html`${p.mmr_before} → ${p.mmr_after} <small class=${p.mmr_after >= p.mmr_before ? "up" : "down"}>${signed(p.mmr_after - p.mmr_before)}</small>`
                      : "—"}</td>
                  </tr>`,
                )}
            </tbody>
          </table>
        </div>`,
      )}
    </div>
    <h2>Timeline</h2>
    ${events.length === 0 && html`<p class="note">No timeline events.</p>`}
    <ol class="timeline" data-testid="timeline">
      ${events.map(
        (e) => html`<li key=${e.seq}><time>${Math.floor(e.at_ms / 60000)}:${String(Math.floor((e.at_ms % 60000) / 1000)).padStart(2, "0")}</time>
          <strong>${e.type}</strong> <code>${JSON.stringify(e.data)}</code></li>`,
      )}
    </ol>
  </section>`;
}
