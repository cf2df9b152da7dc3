/**
 * The fan-out chart as hand-written SVG (no dependencies): delivered events/s (left) and p99
 * latency (right, log scale) per client count, one line per server.
 */

import { REDIS_SERVER_IDS } from './servers.mjs';

const COLORS = { ssehub: '#d6336c', 'ssehub-fast': '#9c36b5', 'ssehub-server': '#f08c00', 'better-sse': '#1c7ed6', baseline: '#495057' };
const W = 960;
const H = 430;
const PANEL = { width: 400, height: 280, top: 60 };

const esc = (text) => String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function compact(value) {
  if (value === 0) return '0';
  if (value >= 1e6) return `${(value / 1e6).toFixed(value >= 1e7 ? 0 : 1)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(value >= 1e4 ? 0 : 1)}k`;
  return value >= 10 ? value.toFixed(0) : value >= 1 ? value.toFixed(1) : value.toFixed(2);
}

function niceMax(value) {
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

/** One panel: `series` is [{ id, label, points: [[clients, value]] }]. */
function panel({ left, title, series, xs, log }) {
  const { width, height, top } = PANEL;
  const values = series.flatMap((s) => s.points.map(([, v]) => v)).filter((v) => v > 0);
  if (values.length === 0) return '';
  const xAt = (clients) => left + ((Math.log10(clients) - Math.log10(xs[0])) / (Math.log10(xs.at(-1)) - Math.log10(xs[0]) || 1)) * width;
  let yAt;
  let ticks;
  if (log) {
    const lo = 10 ** Math.floor(Math.log10(Math.min(...values)));
    const hi = 10 ** Math.ceil(Math.log10(Math.max(...values)));
    yAt = (v) => top + height - ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo) || 1)) * height;
    ticks = [];
    for (let t = lo; t <= hi * 1.0001; t *= 10) ticks.push(t);
  } else {
    const hi = niceMax(Math.max(...values) * 1.05);
    yAt = (v) => top + height - (v / hi) * height;
    ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => f * hi);
  }
  const out = [`<text x="${left + width / 2}" y="${top - 24}" text-anchor="middle" font-size="15" font-weight="600">${esc(title)}</text>`];
  for (const t of ticks) {
    const y = yAt(t).toFixed(1);
    out.push(`<line x1="${left}" y1="${y}" x2="${left + width}" y2="${y}" stroke="#e9ecef"/>`);
    out.push(`<text x="${left - 8}" y="${y}" dy="4" text-anchor="end" font-size="11" fill="#495057">${compact(t)}</text>`);
  }
  for (const x of xs) {
    out.push(`<line x1="${xAt(x).toFixed(1)}" y1="${top}" x2="${xAt(x).toFixed(1)}" y2="${top + height}" stroke="#f1f3f5"/>`);
    out.push(`<text x="${xAt(x).toFixed(1)}" y="${top + height + 18}" text-anchor="middle" font-size="11" fill="#495057">${x}</text>`);
  }
  out.push(`<text x="${left + width / 2}" y="${top + height + 38}" text-anchor="middle" font-size="12" fill="#495057">clients</text>`);
  out.push(`<rect x="${left}" y="${top}" width="${width}" height="${height}" fill="none" stroke="#adb5bd"/>`);
  for (const s of series) {
    const points = s.points.filter(([, v]) => v > 0).map(([x, v]) => [xAt(x), yAt(v)]);
    if (points.length === 0) continue;
    const color = COLORS[s.id] ?? '#000';
    out.push(
      `<polyline fill="none" stroke="${color}" stroke-width="2.5" points="${points.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`).join(' ')}"/>`,
    );
    for (const [x, y] of points) out.push(`<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="4" fill="${color}"/>`);
  }
  return out.join('\n');
}

/** The SVG text for the fan-out scenarios of `results`. */
export function fanoutChart(results) {
  const fanouts = results.scenarios.filter((s) => s.fanout === true);
  const xs = fanouts.map((s) => s.clients);
  const seriesOf = (key) =>
    results.servers
      // The hub on Redis runs one client count only: it has its own section of the report.
      .filter((server) => !REDIS_SERVER_IDS.includes(server.id))
      .map((server) => ({
        id: server.id,
        label: server.label,
        points: fanouts
          .map((s) => [s.clients, results.summary[s.id]?.perServer[server.id]?.medians[key]])
          .filter(([, v]) => v !== undefined),
      }))
      .filter((s) => s.points.length > 0);
  const delivered = seriesOf('deliveredPerSec');
  const p99 = seriesOf('latencyP99Ms');
  const legend = delivered
    .map((s, i) => {
      const x = 80 + i * 210;
      return `<rect x="${x}" y="${H - 22}" width="14" height="14" fill="${COLORS[s.id] ?? '#000'}"/><text x="${x + 20}" y="${H - 10}" font-size="13">${esc(s.label)}</text>`;
    })
    .join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, sans-serif">
<rect width="${W}" height="${H}" fill="#fff"/>
${panel({ left: 70, title: 'Delivered events/s (higher is better)', series: delivered, xs, log: false })}
${panel({ left: 540, title: 'p99 latency, ms, log scale (lower is better)', series: p99, xs, log: true })}
${legend}
</svg>
`;
}
