// The live queue: tickets waiting per mode and region with wait estimates. The queue
// has no public event channel (a join is one player's private news), so this re-reads
// the overview every few seconds while the page is visible.
import { html } from "htm/preact";
import { useEffect } from "preact/hooks";
import { client } from "../state.js";
import { ErrorBox, useAsync } from "../util.js";

const EVERY_MS = 3000;

function duration(s: number | null): string {
  if (s === null) return "—";
  return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m ${s % 60}s`;
}

export function Queue() {
  const overview = useAsync(() => client.queues(), []);
  useEffect(() => {
    const t = setInterval(() => {
      if (document.visibilityState === "visible") overview.reload();
    }, EVERY_MS);
    return () => clearInterval(t);
  }, []);
  const o = overview.data;
  const total = o?.queues.reduce((n, q) => n + q.tickets, 0) ?? 0;
  return html`<section>
    <h1>Matchmaking queue</h1>
    <p class="note">${total} ticket${total === 1 ? "" : "s"} waiting · refreshed every ${EVERY_MS / 1000}s</p>
    <${ErrorBox} error=${overview.error} />
    ${o &&
    html`<div class="scroll"><table class="queue" data-testid="queue-table">
      <thead><tr><th>Mode</th>${o.regions.map((r) => html`<th class="num">${r.toUpperCase()}</th>`)}</tr></thead>
      <tbody>
        ${o.modes.map(
          (m) => html`<tr key=${m}><th scope="row">${m}</th>
            ${o.regions.map((r) => {
              const q = o.queues.find((x) => x.mode === m && x.region === r);
              return html`<td class="num ${q && q.tickets ? "busy" : ""}" data-queue=${`${m}:${r}`} data-tickets=${q?.tickets ?? 0}>
                <strong>${q?.tickets ?? 0}</strong>
                <small>oldest ${duration(q?.oldest_wait_s ?? null)}</small>
                <small>est. ${duration(q?.estimated_wait_s ?? null)}</small>
              </td>`;
            })}
          </tr>`,
        )}
      </tbody>
    </table></div>`}
  </section>`;
}
