/** Turns the runs into medians per scenario and server, ratios, and the target checks. */
import { REDIS_HUB_SCENARIOS } from './servers.mjs';
import { median, ratio } from './stats.mjs';

/** The numbers reported per kind of scenario; `better` says which way is good. */
export const METRICS = {
  idle: [
    { key: 'rssPerConnectionKB', label: 'RSS per connection (KiB)', better: 'lower' },
    { key: 'heapPerConnectionKB', label: 'JS heap per connection (KiB)', better: 'lower' },
  ],
  accept: [
    { key: 'acceptPerSec', label: 'connections/s', better: 'higher' },
    { key: 'serverCpuUsPerConnection', label: 'server CPU per connection (µs)', better: 'lower' },
  ],
  publish: [
    { key: 'deliveredPerSec', label: 'delivered events/s', better: 'higher' },
    { key: 'latencyP50Ms', label: 'latency p50 (ms)', better: 'lower' },
    { key: 'latencyP99Ms', label: 'latency p99 (ms)', better: 'lower' },
    { key: 'serverCpuUsPerEvent', label: 'server CPU per delivered event (µs)', better: 'lower' },
    { key: 'latencyMaxMs', label: 'latency max (ms)', better: 'lower' },
    { key: 'serverCpuShare', label: 'server CPU (share of a core)', better: 'lower' },
    { key: 'clientCpuShare', label: 'load client CPU (share of a core)', better: 'lower' },
    { key: 'peakRssMB', label: 'server peak RSS (MiB)', better: 'lower' },
  ],
  bounded: [
    { key: 'peakRssGrowthMB', label: 'server peak RSS growth (MiB)', better: 'lower' },
    { key: 'clientsLeft', label: 'connections left (slow ones cut)', better: 'info' },
  ],
  redisPublisher: [
    { key: 'eventsPerSec', label: 'events/s', better: 'higher' },
    { key: 'roundTripP50Ms', label: 'publish round trip p50 (ms)', better: 'lower' },
    { key: 'roundTripP99Ms', label: 'publish round trip p99 (ms)', better: 'lower' },
    { key: 'cpuUsPerEvent', label: 'publisher CPU per event (µs)', better: 'lower' },
    { key: 'roundTripsPerEvent', label: 'round trips per event', better: 'info' },
    { key: 'commandsPerEvent', label: 'commands run by Redis per event', better: 'info' },
  ],
};

/** What commandstats gives per event for a hub on Redis (bench/lib/redis.mjs). */
export const REDIS_COMMAND_METRICS = [
  { key: 'roundTripsPerEvent', label: 'round trips per event (EVALSHA + XREAD)' },
  { key: 'evalshaPerEvent', label: 'EVALSHA per event' },
  { key: 'xreadPerEvent', label: 'XREAD per event' },
  { key: 'commandsPerEvent', label: 'commands run by Redis per event (with those inside the script)' },
];

/** The two ways ssehub serves connections, each compared with the others. */
export const SSEHUB_VARIANTS = [
  { id: 'ssehub', label: 'hub.handler()' },
  { id: 'ssehub-fast', label: 'createSseServer' },
];

/** The metrics shown for `scenario`: its own list, or those of its kind (but the max latency). */
export function metricsOf(scenario) {
  const all = METRICS[scenario.kind];
  if (scenario.metrics !== undefined) return scenario.metrics.map((key) => all.find((metric) => metric.key === key));
  return all.filter((metric) => metric.key !== 'latencyMaxMs');
}

export function summarize(runs, scenarios, servers) {
  const summary = {};
  for (const scenario of scenarios) {
    const perServer = {};
    for (const server of servers) {
      const mine = runs.filter((run) => run.scenario === scenario.id && run.server === server.id);
      if (mine.length === 0) continue;
      const ok = mine.filter((run) => run.error === undefined);
      const medians = {};
      for (const metric of metricsOf(scenario)) medians[metric.key] = median(ok.map((run) => run[metric.key]));
      perServer[server.id] = {
        runs: mine.length,
        errors: mine.filter((run) => run.error !== undefined).map((run) => run.error),
        medians,
        ...(scenario.kind === 'publish'
          ? {
              lost: ok.reduce((sum, run) => sum + run.lost, 0),
              duplicates: ok.reduce((sum, run) => sum + run.duplicates, 0),
              misdelivered: ok.reduce((sum, run) => sum + run.misdelivered, 0),
            }
          : {}),
      };
    }
    // ratios[metric][variant] = { baseline, betterSse }: the variant's median over theirs.
    const ratios = {};
    for (const metric of metricsOf(scenario)) {
      ratios[metric.key] = {};
      for (const variant of SSEHUB_VARIANTS) {
        const mine = perServer[variant.id]?.medians[metric.key];
        ratios[metric.key][variant.id] = {
          baseline: ratio(mine, perServer.baseline?.medians[metric.key]),
          betterSse: ratio(mine, perServer['better-sse']?.medians[metric.key]),
        };
      }
    }
    summary[scenario.id] = { perServer, ratios };
  }
  summary.targets = checkTargets(summary, scenarios);
  summary.redis = summarizeRedis(runs, summary);
  return summary;
}

const lossFreeRuns = (s) => s !== undefined && s.errors.length === 0 && s.lost === 0 && s.duplicates === 0 && s.misdelivered === 0;

/**
 * The Redis section: the hub on Redis against the same hub in memory (ssehub-fast), the
 * publisher against bare ioredis, commands per event, and the Redis targets. Undefined when
 * the run had no Redis rows.
 */
function summarizeRedis(runs, summary) {
  const hub = {};
  for (const id of REDIS_HUB_SCENARIOS) {
    const redis = summary[id]?.perServer['ssehub-redis'];
    if (redis === undefined) continue;
    const memory = summary[id].perServer['ssehub-fast'];
    const ok = runs.filter((run) => run.scenario === id && run.server === 'ssehub-redis' && run.error === undefined);
    const get = (key) => ({ memory: memory?.medians[key], redis: redis.medians[key] });
    const difference = ({ memory, redis }) => (memory === undefined || redis === undefined ? undefined : redis - memory);
    hub[id] = {
      deliveredPerSec: { ...get('deliveredPerSec'), ratio: ratio(redis.medians.deliveredPerSec, memory?.medians.deliveredPerSec) },
      latencyP50Ms: { ...get('latencyP50Ms'), added: difference(get('latencyP50Ms')) },
      latencyP99Ms: { ...get('latencyP99Ms'), added: difference(get('latencyP99Ms')) },
      serverCpuUsPerEvent: {
        ...get('serverCpuUsPerEvent'),
        ratio: ratio(redis.medians.serverCpuUsPerEvent, memory?.medians.serverCpuUsPerEvent),
      },
      commands: Object.fromEntries(REDIS_COMMAND_METRICS.map(({ key }) => [key, median(ok.map((run) => run[key]))])),
      // From the publish call to the event read back from Redis in the hub, before the fan-out.
      redisLeg: Object.fromEntries(['redisLegP50Ms', 'redisLegP99Ms'].map((key) => [key, median(ok.map((run) => run[key]))])),
      lossFree: lossFreeRuns(redis),
      memoryLossFree: memory === undefined ? undefined : lossFreeRuns(memory),
      runs: redis.runs,
      errors: redis.errors,
    };
  }
  const pub = summary['redis-publisher']?.perServer;
  const publisher =
    pub === undefined
      ? undefined
      : {
          publisher: pub['redis-publisher']?.medians,
          bare: pub['redis-bare']?.medians,
          ratio: ratio(pub['redis-publisher']?.medians.eventsPerSec, pub['redis-bare']?.medians.eventsPerSec),
          errors: [...(pub['redis-publisher']?.errors ?? []), ...(pub['redis-bare']?.errors ?? [])],
        };
  if (Object.keys(hub).length === 0 && publisher === undefined) return undefined;
  // One row per target: `value` (a ratio, or ms with `unit`), `met` (undefined: not measured).
  const targets = [];
  const fanout = hub['fanout-1000'];
  if (fanout !== undefined) {
    const value = fanout.deliveredPerSec.ratio;
    targets.push({
      target: 'delivered events/s at 1000 clients on Redis ≥ 0.7× in memory',
      value,
      met: value === undefined ? undefined : value >= 0.7,
    });
  }
  if (hub.latency !== undefined) {
    // What Redis adds is the leg before the fan-out, timed in the hub; the end-to-end difference
    // (shown next to it) carries the noise of thousands of writes per event.
    const leg = hub.latency.redisLeg.redisLegP99Ms;
    const value = leg ?? hub.latency.latencyP99Ms.added;
    targets.push({
      target: `p99 latency at light load: Redis adds ≤ 5 ms (${leg === undefined ? 'end-to-end p99, Redis minus memory' : 'p99 of the Redis leg, publish to read back in the hub'})`,
      value,
      unit: 'ms',
      met: value === undefined ? undefined : value <= 5,
    });
  }
  if (Object.keys(hub).length > 0) {
    targets.push({ target: `zero loss on Redis (${Object.keys(hub).join(', ')})`, met: Object.values(hub).every((h) => h.lossFree) });
  }
  if (publisher !== undefined) {
    const value = publisher.ratio;
    targets.push({
      target: 'publisher events/s ≥ 0.5× bare ioredis (same EVALSHA, 64 in flight)',
      value,
      met: value === undefined ? undefined : value >= 0.5,
    });
  }
  return { hub, publisher, targets };
}

const MAX_QUEUE_MIB = 1;

/** The targets of the issue, checked against the medians: `values[variant]`, `met[variant]`. */
function checkTargets(summary, scenarios) {
  const targets = [];
  const get = (id, server, key) => summary[id]?.perServer[server]?.medians[key];
  const lossFree = (id, server) => {
    const s = summary[id]?.perServer[server];
    return s !== undefined && s.errors.length === 0 && s.lost === 0 && s.duplicates === 0 && s.misdelivered === 0;
  };
  // One row per target, one value per ssehub variant; `check(variant)` → { value, met }.
  const add = (target, check, unit) => {
    const values = {};
    const met = {};
    for (const variant of SSEHUB_VARIANTS) {
      const result = check(variant.id);
      if (result === undefined) continue;
      values[variant.id] = result.value;
      met[variant.id] = result.met;
    }
    if (Object.keys(met).length > 0) targets.push({ target, values, met, unit });
  };
  const ratioOf = (id, key, variant, other) => summary[id]?.ratios[key]?.[variant]?.[other];
  const fanouts = scenarios.filter((s) => s.fanout === true && s.clients >= 1000);
  for (const scenario of fanouts) {
    if (summary[scenario.id] === undefined) continue;
    add(`delivered events/s at ${scenario.clients} clients ≥ 1.5× baseline`, (v) => {
      const r = ratioOf(scenario.id, 'deliveredPerSec', v, 'baseline');
      return r === undefined ? undefined : { value: r, met: r >= 1.5 };
    });
    add(`delivered events/s at ${scenario.clients} clients ≥ 3× better-sse`, (v) => {
      const r = ratioOf(scenario.id, 'deliveredPerSec', v, 'betterSse');
      return r === undefined ? undefined : { value: r, met: r >= 3 };
    });
    add(`zero loss at ${scenario.clients} clients`, (v) =>
      summary[scenario.id].perServer[v] === undefined ? undefined : { value: undefined, met: lossFree(scenario.id, v) },
    );
  }
  if (summary.idle !== undefined) {
    add('RSS per idle connection ≤ 1.1× baseline', (v) => {
      const r = ratioOf('idle', 'rssPerConnectionKB', v, 'baseline');
      return r === undefined ? undefined : { value: r, met: r <= 1.1 };
    });
  }
  if (summary.accept !== undefined) {
    add('accept rate ≥ baseline', (v) => {
      const r = ratioOf('accept', 'acceptPerSec', v, 'baseline');
      return r === undefined ? undefined : { value: r, met: r >= 1 };
    });
  }
  if (summary.latency !== undefined) {
    add('p99 latency at light load ≤ baseline', (v) => {
      const r = ratioOf('latency', 'latencyP99Ms', v, 'baseline');
      return r === undefined ? undefined : { value: r, met: r <= 1 };
    });
  }
  const bounded = scenarios.find((s) => s.id === 'bounded');
  if (bounded !== undefined && summary.bounded !== undefined) {
    const limit = bounded.clients * MAX_QUEUE_MIB + 64;
    add(
      `memory bounded when the publisher outruns the clients: peak growth ≤ ${limit} MiB (${bounded.clients} × 1 MiB queue + 64 MiB)`,
      (v) => {
        const growth = get('bounded', v, 'peakRssGrowthMB');
        return growth === undefined ? undefined : { value: growth, met: growth <= limit };
      },
      'MiB',
    );
  }
  return targets;
}
