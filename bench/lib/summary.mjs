/** Turns the runs into medians per scenario and server, ratios, and the target checks. */
import { median, ratio } from './stats.mjs';

/** The numbers reported per kind of scenario; `better` says which way is good. */
export const METRICS = {
  idle: [
    { key: 'rssPerConnectionKB', label: 'RSS per connection (KiB)', better: 'lower' },
    { key: 'heapPerConnectionKB', label: 'JS heap per connection (KiB)', better: 'lower' },
  ],
  accept: [{ key: 'acceptPerSec', label: 'connections/s', better: 'higher' }],
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
};

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
    const ratios = {};
    for (const metric of metricsOf(scenario)) {
      const mine = perServer.ssehub?.medians[metric.key];
      ratios[metric.key] = {
        baseline: ratio(mine, perServer.baseline?.medians[metric.key]),
        betterSse: ratio(mine, perServer['better-sse']?.medians[metric.key]),
      };
    }
    summary[scenario.id] = { perServer, ratios };
  }
  summary.targets = checkTargets(summary, scenarios);
  return summary;
}

const MAX_QUEUE_MIB = 1;

/** The targets of the issue, checked against the medians. */
function checkTargets(summary, scenarios) {
  const targets = [];
  const get = (id, server, key) => summary[id]?.perServer[server]?.medians[key];
  const lossFree = (id, server) => {
    const s = summary[id]?.perServer[server];
    return s !== undefined && s.errors.length === 0 && s.lost === 0 && s.duplicates === 0 && s.misdelivered === 0;
  };
  const fanouts = scenarios.filter((s) => s.fanout === true && s.clients >= 1000);
  for (const scenario of fanouts) {
    const vsBase = summary[scenario.id]?.ratios.deliveredPerSec;
    if (vsBase === undefined) continue;
    targets.push({
      target: `delivered events/s at ${scenario.clients} clients ≥ 1.5× baseline`,
      value: vsBase.baseline,
      met: vsBase.baseline !== undefined && vsBase.baseline >= 1.5,
    });
    targets.push({
      target: `delivered events/s at ${scenario.clients} clients ≥ 3× better-sse`,
      value: vsBase.betterSse,
      met: vsBase.betterSse !== undefined && vsBase.betterSse >= 3,
    });
    targets.push({ target: `zero loss at ${scenario.clients} clients (ssehub)`, value: undefined, met: lossFree(scenario.id, 'ssehub') });
  }
  if (summary.idle !== undefined) {
    const r = summary.idle.ratios.rssPerConnectionKB.baseline;
    targets.push({ target: 'RSS per idle connection ≤ 1.1× baseline', value: r, met: r !== undefined && r <= 1.1 });
  }
  if (summary.accept !== undefined) {
    const r = summary.accept.ratios.acceptPerSec.baseline;
    targets.push({ target: 'accept rate ≥ baseline', value: r, met: r !== undefined && r >= 1 });
  }
  if (summary.latency !== undefined) {
    const r = summary.latency.ratios.latencyP99Ms.baseline;
    targets.push({ target: 'p99 latency at light load ≤ baseline', value: r, met: r !== undefined && r <= 1 });
  }
  const bounded = scenarios.find((s) => s.id === 'bounded');
  if (bounded !== undefined && summary.bounded !== undefined) {
    const growth = get('bounded', 'ssehub', 'peakRssGrowthMB');
    const limit = bounded.clients * MAX_QUEUE_MIB + 64;
    targets.push({
      target: `memory bounded when the publisher outruns the clients: peak growth ≤ ${limit} MiB (${bounded.clients} × 1 MiB queue + 64 MiB)`,
      value: growth,
      unit: 'MiB',
      met: growth !== undefined && growth <= limit,
    });
  }
  return targets;
}
