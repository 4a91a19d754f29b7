// Rating over time as an SVG line with its uncertainty band: mmr after each match, and
// mmr ± 40·σ (the model's σ in mmr units: mmr = 1500 + 40 (μ − 25)), oldest to newest.
import { html } from "htm/preact";

export interface Point {
  at: number;
  mmr: number;
  /** σ in μ units, when the API gave it. */
  sigma: number | null;
  matchId: number;
}

const W = 640;
const H = 220;
const PAD = { l: 44, r: 12, t: 12, b: 24 };
const MMR_PER_MU = 40;

export function RatingChart(props: { points: Point[]; label: string }) {
  const pts = props.points;
  if (pts.length === 0) return html`<p class="note">No completed match in this mode yet.</p>`;
  const lows = pts.map((p) => p.mmr - MMR_PER_MU * (p.sigma ?? 0));
  const highs = pts.map((p) => p.mmr + MMR_PER_MU * (p.sigma ?? 0));
  let min = Math.min(...lows);
  let max = Math.max(...highs);
  if (max - min < 50) {
    const mid = (max + min) / 2;
    min = mid - 25;
    max = mid + 25;
  }
  const x = (i: number) => PAD.l + (pts.length === 1 ? (W - PAD.l - PAD.r) / 2 : (i * (W - PAD.l - PAD.r)) / (pts.length - 1));
  const y = (v: number) => PAD.t + ((max - v) * (H - PAD.t - PAD.b)) / (max - min);
  const line = pts.map((p, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(p.mmr).toFixed(1)}`).join("");
  const hasBand = pts.some((p) => p.sigma !== null);
  const band =
    highs.map((v, i) => `${i ? "L" : "M"}${x(i).toFixed(1)},${y(v).toFixed(1)}`).join("") +
    lows
      .map((v, i) => [i, v] as const)
      .reverse()
      .map(([i, v]) => `L${x(i).toFixed(1)},${y(v).toFixed(1)}`)
      .join("") +
    "Z";
  const ticks = [min, (min + max) / 2, max].map((v) => Math.round(v));
  return html`<figure class="chart" data-testid="rating-chart" data-points=${pts.length}>
    <svg viewBox=${`0 0 ${W} ${H}`} role="img" aria-label=${props.label} preserveAspectRatio="none">
      ${ticks.map(
        (t) => html`<g><line x1=${PAD.l} x2=${W - PAD.r} y1=${y(t)} y2=${y(t)} class="grid" />
          <text x=${PAD.l - 6} y=${y(t) + 4} class="axis" text-anchor="end">${t}</text></g>`,
      )}
      ${hasBand && html`<path d=${band} class="band" data-testid="sigma-band" />`}
      <path d=${line} class="line" />
      ${pts.map((p, i) => html`<circle cx=${x(i)} cy=${y(p.mmr)} r="3" class="dot"><title>match ${p.matchId}: ${p.mmr}${p.sigma !== null ? ` ± ${Math.round(MMR_PER_MU * p.sigma)}` : ""}</title></circle>`)}
    </svg>
    <figcaption>${props.label}${hasBand ? " — band: ±σ" : ""}</figcaption>
  </figure>`;
}
