/** Writes docs/benchmarks.md and docs/benchmarks-fanout.svg from the results of a run. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fanoutChart } from './chart.mjs';
import { REDIS_SERVER_IDS } from './servers.mjs';
import { metricsOf, REDIS_COMMAND_METRICS, SSEHUB_VARIANTS } from './summary.mjs';

function number(value, key) {
  if (value === undefined || value === null || Number.isNaN(value)) return '—';
  if (/PerSec$/.test(key)) return Math.round(value).toLocaleString('en-US');
  if (/Share$/.test(key)) return `${Math.round(value * 100)} %`;
  if (/UsPerEvent$/.test(key)) return value.toFixed(2);
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(2);
}

const times = (value) => (value === undefined ? '—' : `${value.toFixed(2)}×`);

// The Redis rows have a section of their own.
const mainServers = (results) => results.servers.filter((s) => !REDIS_SERVER_IDS.includes(s.id));
const mainScenarios = (results) => results.scenarios.filter((s) => s.kind !== 'redisPublisher');

function resultsTable(results) {
  const servers = mainServers(results);
  const variants = SSEHUB_VARIANTS.filter((v) => servers.some((s) => s.id === v.id));
  const ratioHeads = variants.flatMap((v) => [`${v.label} / baseline`, `${v.label} / better-sse`]);
  const head = `| scenario | metric | ${servers.map((s) => s.label).join(' | ')} | ${ratioHeads.join(' | ')} |`;
  const rule = `|---|---|${servers.map(() => '--:').join('|')}|${ratioHeads.map(() => '--:').join('|')}|`;
  const rows = [];
  for (const scenario of mainScenarios(results)) {
    const summary = results.summary[scenario.id];
    if (summary === undefined) continue;
    for (const [i, metric] of metricsOf(scenario).entries()) {
      const cells = servers.map((server) => {
        const s = summary.perServer[server.id];
        if (s === undefined) return 'n/a';
        if (s.errors.length === s.runs) return 'failed';
        let cell = number(s.medians[metric.key], metric.key);
        if (i === 0 && (s.lost > 0 || s.duplicates > 0 || s.misdelivered > 0)) cell += ' ⚠';
        return cell;
      });
      const r = summary.ratios[metric.key];
      const ratioCells = variants.flatMap((v) => [times(r[v.id]?.baseline), times(r[v.id]?.betterSse)]);
      rows.push(`| ${i === 0 ? scenario.title : ''} | ${metric.label} | ${cells.join(' | ')} | ${ratioCells.join(' | ')} |`);
    }
  }
  return [head, rule, ...rows].join('\n');
}

function targetsTable(results) {
  const variants = SSEHUB_VARIANTS.filter((v) => results.servers.some((s) => s.id === v.id));
  const cell = (t, id) => {
    if (t.met[id] === undefined) return 'n/a';
    const value = t.values[id];
    const shown = value === undefined ? '' : t.unit === undefined ? `${times(value)} ` : `${value.toFixed(1)} ${t.unit} `;
    return `${shown}${t.met[id] ? 'met' : '**not met**'}`;
  };
  const rows = results.summary.targets.map((t) => `| ${t.target} | ${variants.map((v) => cell(t, v.id)).join(' | ')} |`);
  return [
    `| target | ${variants.map((v) => `ssehub, ${v.label}`).join(' | ')} |`,
    `|---|${variants.map(() => '--:').join('|')}|`,
    ...rows,
  ].join('\n');
}

function problems(results) {
  const lines = [];
  for (const run of results.runs) {
    if (run.error !== undefined) lines.push(`- rep ${run.rep}, ${run.scenario}, ${run.server}: error — ${run.error}`);
    else if (run.lost > 0 || run.duplicates > 0 || run.misdelivered > 0) {
      lines.push(
        `- rep ${run.rep}, ${run.scenario}, ${run.server}: ${run.lost} lost, ${run.duplicates} duplicates, ${run.misdelivered} misdelivered of ${run.expected} expected (${run.closed} connections closed)`,
      );
    }
  }
  return lines.length === 0 ? 'None: every event reached every client it was for exactly once, in every run.' : lines.join('\n');
}

function scenarioList(results) {
  return results.scenarios
    .map((s) => {
      const how =
        s.kind === 'publish'
          ? s.rate > 0
            ? `${s.rate} events/s for ${s.durationMs / 1000} s`
            : `${s.batch} events per event-loop turn for ${s.durationMs / 1000} s, as fast as the loop turns`
          : s.kind === 'bounded'
            ? `the clients stop reading; ${s.batch} events per loop turn for ${s.durationMs / 1000} s`
            : s.kind === 'redisPublisher'
              ? `${s.concurrency} publishes in flight for ${s.durationMs / 1000} s, each side in a process of its own`
              : '';
      return `- **${s.id}** — ${s.title}${how ? `: ${how}` : ''}.`;
    })
    .join('\n');
}

const ms = (value) => (value === undefined ? '—' : `${value.toFixed(2)} ms`);
const signedMs = (value) => (value === undefined ? '—' : `${value >= 0 ? '+' : '−'}${Math.abs(value).toFixed(2)} ms`);
const verdict = (met) => (met === undefined ? 'n/a' : met ? 'met' : '**not met**');

/** The "Redis backend" section, or nothing when the run had no Redis rows. */
function redisSection(results) {
  const redis = results.summary.redis;
  if (redis === undefined) return '';
  const out = ['## Redis backend', ''];
  out.push(
    "The same hub and server as the createSseServer column, with `createRedisBackend` on a redis-server of the run's own (same machine, loopback): every publish is a Lua append to the log (EVALSHA) and every event reaches the clients after the hub reads it back (XREAD). Medians; ratios are Redis over memory. See the method below.",
    '',
  );
  const { hub } = redis;
  const fanout = hub['fanout-1000'];
  const latency = hub.latency;
  if (fanout !== undefined || latency !== undefined) {
    out.push('| scenario | metric | in memory | on Redis | Redis / memory |', '|---|---|--:|--:|--:|');
    const loss = (h) => (h.lossFree ? '' : ' ⚠');
    if (fanout !== undefined) {
      const d = fanout.deliveredPerSec;
      out.push(
        `| Fan-out to 1000 clients | delivered events/s | ${number(d.memory, 'deliveredPerSec')} | ${number(d.redis, 'deliveredPerSec')}${loss(fanout)} | ${times(d.ratio)} |`,
      );
      const c = fanout.serverCpuUsPerEvent;
      out.push(
        `| | server CPU per delivered event (µs) | ${number(c.memory, 'serverCpuUsPerEvent')} | ${number(c.redis, 'serverCpuUsPerEvent')} | ${times(c.ratio)} |`,
      );
      for (const key of ['latencyP50Ms', 'latencyP99Ms']) {
        const l = fanout[key];
        out.push(`| | latency ${key === 'latencyP50Ms' ? 'p50' : 'p99'} | ${ms(l.memory)} | ${ms(l.redis)} | ${signedMs(l.added)} |`);
      }
    }
    if (latency !== undefined) {
      const title = results.scenarios.find((s) => s.id === 'latency')?.title ?? 'Light load';
      for (const [i, key] of ['latencyP50Ms', 'latencyP99Ms'].entries()) {
        const l = latency[key];
        out.push(
          `| ${i === 0 ? title : ''} | latency ${key === 'latencyP50Ms' ? 'p50' : 'p99'}${i === 0 ? loss(latency) : ''} | ${ms(l.memory)} | ${ms(l.redis)} | ${signedMs(l.added)} |`,
        );
      }
    }
    for (const [id, h] of [
      ['Fan-out to 1000 clients', fanout],
      ['Light load', latency],
    ]) {
      if (h?.redisLeg.redisLegP50Ms === undefined) continue;
      for (const [i, key] of ['redisLegP50Ms', 'redisLegP99Ms'].entries()) {
        out.push(
          `| ${i === 0 ? `${id}: the Redis leg` : ''} | publish → read back in the hub, ${i === 0 ? 'p50' : 'p99'} | none | ${ms(h.redisLeg[key])} | ${signedMs(h.redisLeg[key])} |`,
        );
      }
    }
    out.push(
      '',
      "Latency rows compare by difference (Redis minus memory), not ratio. Latency is from the publish call to the event's arrival at the client; at thousands of clients its p99 is mostly the fan-out's writes and moves by tens of ms from run to run, more than Redis adds. The Redis leg is the part Redis adds: from the publish call to the event read back from the log in the hub process (timed there, before the fan-out); in memory the append delivers at once. ⚠ marks runs on Redis that lost or duplicated events (listed above).",
      '',
    );
    out.push(
      "**Redis commands per event** (`INFO commandstats` over the publishing and delivery, divided by the events published; the hub's once-a-second epoch check, an EVALSHA, and the blocking XREAD that times out when idle are counted too):",
      '',
    );
    const shown = Object.entries(hub);
    out.push(`| | ${shown.map(([id]) => id).join(' | ')} |`, `|---|${shown.map(() => '--:').join('|')}|`);
    for (const metric of REDIS_COMMAND_METRICS) {
      out.push(`| ${metric.label} | ${shown.map(([, h]) => number(h.commands[metric.key], metric.key)).join(' | ')} |`);
    }
    out.push('');
  }
  const publisher = redis.publisher;
  if (publisher !== undefined) {
    const scenario = results.scenarios.find((s) => s.kind === 'redisPublisher');
    out.push(
      `**Publisher** — \`createPublisher().broadcast()\` against bare ioredis sending the same EVALSHA (same script, keys and arguments), ${scenario?.concurrency ?? 64} in flight for ${(scenario?.durationMs ?? 5000) / 1000} s:`,
      '',
      '| metric | createPublisher | bare ioredis | publisher / bare |',
      '|---|--:|--:|--:|',
    );
    for (const metric of metricsOf({ kind: 'redisPublisher' })) {
      const a = publisher.publisher?.[metric.key];
      const b = publisher.bare?.[metric.key];
      const r = a === undefined || b === undefined || b === 0 ? undefined : a / b;
      out.push(`| ${metric.label} | ${number(a, metric.key)} | ${number(b, metric.key)} | ${times(r)} |`);
    }
    out.push('');
  }
  out.push('### Redis targets', '', '| target | value | |', '|---|--:|--:|');
  for (const t of redis.targets) {
    const value = t.value === undefined ? '' : t.unit === 'ms' ? signedMs(t.value) : times(t.value);
    out.push(`| ${t.target} | ${value} | ${verdict(t.met)} |`);
  }
  return `${out.join('\n')}\n\n`;
}

export function writeReport(results, root) {
  mkdirSync(`${root}docs`, { recursive: true });
  writeFileSync(`${root}docs/benchmarks-fanout.svg`, fanoutChart(results));
  const notesFile = `${root}bench/notes.md`;
  const notes = existsSync(notesFile) ? readFileSync(notesFile, 'utf8').trim() : '';
  const m = results.machine;
  const method = readFileSync(`${root}bench/method.md`, 'utf8').trim();
  const md = `# Benchmarks

<!-- Generated by \`npm run bench\` (bench/run.mjs) from bench/results/latest.json. Do not edit: edit bench/method.md or bench/notes.md and run it again. -->

Measured ${results.date.slice(0, 10)} with \`${results.command}\` (${results.options.reps} repetition${results.options.reps === 1 ? '' : 's'}, medians; the run took ${Math.round(results.durationSeconds / 60)} min).

![Fan-out: delivered events/s and p99 latency per client count](benchmarks-fanout.svg)

## Results

Medians of ${results.options.reps} run${results.options.reps === 1 ? '' : 's'} per cell. Ratios are ssehub's value (served by \`hub.handler()\` on node:http, or by \`createSseServer\`) divided by the other's: above 1 is better for throughput and accept rate, below 1 is better for memory and latency. ⚠ marks a cell whose runs lost or duplicated events (listed below).

${resultsTable(results)}

### Targets

${targetsTable(results)}

### Loss, duplicates, errors

${problems(results)}

${redisSection(results)}## Machine

| | |
|---|---|
| CPU | ${m.cpuModel} |
| cores (nproc) | ${m.nproc} |
| memory | ${m.memoryGiB} GiB |
| Node.js | ${m.node} |
| kernel | ${m.kernel} |
| load average (1, 5, 15 min) at start / end | ${m.loadAverageAtStart} / ${m.loadAverageAtEnd ?? '—'} |

## Method

${method}

### Scenarios of this run

${scenarioList(results)}
${notes ? `\n${notes}\n` : ''}`;
  writeFileSync(`${root}docs/benchmarks.md`, md);
}
