/**
 * The scenarios. Each gets a started server and a started load client and returns the numbers
 * of one run. Sizes come from `plan(options)`; `--quick` shrinks them for development.
 */
import { fileURLToPath } from 'node:url';
import { payload } from '../servers/control.mjs';
import { LineProcess } from './lineProcess.mjs';
import { cpuSeconds, cpuSplit, rssBytes } from './procStat.mjs';
import { perEvent } from './redis.mjs';
import { benchEnv } from './servers.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const MB = 1024 * 1024;

/** The scenarios of a run, in order, with their sizes. */
export function plan({ quick, durationMs, batch, clients }) {
  const big = quick ? Math.min(clients, 2000) : clients;
  const idle = quick ? 2000 : 10_000;
  const publishMs = durationMs ?? (quick ? 1500 : 5000);
  return [
    { id: 'idle', kind: 'idle', title: `Idle memory per connection (${idle} connections)`, clients: idle },
    {
      id: 'accept',
      kind: 'accept',
      title: 'Accept rate (5,000 connections, 256 in flight)',
      clients: quick ? 2000 : 5000,
      concurrency: 256,
    },
    ...[100, 1000, big].map((n) => ({
      id: `fanout-${n}`,
      kind: 'publish',
      title: `Fan-out to ${n} clients`,
      clients: n,
      mode: 'all',
      durationMs: publishMs,
      batch,
      fanout: true,
    })),
    // How much of the fan-out gain is coalescing: fewer events per loop turn leave less to batch.
    ...[1, 8].map((b) => ({
      id: `fanout-1000-batch${b}`,
      kind: 'publish',
      title: `Fan-out to 1000 clients, ${b} event${b === 1 ? '' : 's'} per loop turn`,
      clients: 1000,
      mode: 'all',
      durationMs: publishMs,
      batch: b,
      metrics: ['deliveredPerSec', 'latencyP99Ms', 'serverCpuUsPerEvent'],
    })),
    {
      id: 'latency',
      kind: 'publish',
      title: `Light load: 2 events/s to ${big} clients`,
      clients: big,
      mode: 'all',
      durationMs: quick ? 3000 : 10_000,
      rate: 2,
      metrics: ['latencyP50Ms', 'latencyP99Ms', 'latencyMaxMs', 'serverCpuShare'],
    },
    {
      id: 'rooms',
      kind: 'publish',
      title: `Rooms: ${big} clients, 100 rooms, 3 rooms each, events to 2 rooms`,
      clients: big,
      mode: 'rooms',
      rooms: 100,
      durationMs: publishMs,
      batch,
    },
    {
      id: 'users',
      kind: 'publish',
      title: `Users: ${big} clients, ${big / 2} users (2 connections each), events to 1 user`,
      clients: big,
      mode: 'users',
      users: big / 2,
      durationMs: publishMs,
      batch,
    },
    {
      id: 'bounded',
      kind: 'bounded',
      title: '100 clients that stop reading, 1 KiB events at full speed for 3 s',
      clients: 100,
      durationMs: 3000,
      batch,
      bytes: 1024,
    },
    // Not an SSE scenario: events/s of createPublisher against bare ioredis sending the same
    // EVALSHA, on the run's redis-server (bench/redis/publisherLoop.mjs).
    {
      id: 'redis-publisher',
      kind: 'redisPublisher',
      title: 'Redis publisher: broadcast with 64 in flight',
      durationMs: quick ? 2000 : 5000,
      concurrency: 64,
    },
  ];
}

async function open(client, scenario, concurrency = 256) {
  const answer = await client.request(`open ${scenario.clients} ${concurrency} ${scenario.rooms ?? 0} ${scenario.users ?? 0}`, 180_000);
  if (answer.opened !== scenario.clients)
    throw new Error(`opened ${answer.opened} of ${scenario.clients} connections (${answer.failed} failed)`);
  return answer;
}

async function memory(server) {
  if (server.control !== undefined) return server.control({ cmd: 'stats' });
  return { rss: rssBytes(server.pid), heapUsed: undefined };
}

async function idle(server, client, scenario) {
  await sleep(300);
  const before = await memory(server);
  await open(client, scenario);
  await sleep(server.control === undefined ? 2000 : 1000);
  const after = await memory(server);
  return {
    clients: scenario.clients,
    rssPerConnectionKB: (after.rss - before.rss) / scenario.clients / 1024,
    heapPerConnectionKB: after.heapUsed === undefined ? undefined : (after.heapUsed - before.heapUsed) / scenario.clients / 1024,
    rssMB: after.rss / MB,
  };
}

async function accept(server, client, scenario) {
  const before = cpuSplit(server.pid);
  const answer = await open(client, scenario, scenario.concurrency);
  const after = cpuSplit(server.pid);
  const cpu = after.user - before.user + after.system - before.system;
  return {
    clients: answer.opened,
    ms: answer.ms,
    acceptPerSec: (answer.opened / answer.ms) * 1000,
    // Server CPU (user + system) per accepted connection: steadier than the rate on a shared machine.
    serverCpuUsPerConnection: (cpu * 1e6) / answer.opened,
    serverSystemShare: (after.system - before.system) / cpu,
  };
}

/** Publishes through POST /publish (the standalone server), at `rate` events/s. */
async function publishOverHttp(server, scenario) {
  const startNs = Number(process.hrtime.bigint());
  const interval = 1000 / scenario.rate;
  let count = 0;
  for (let next = Date.now(); count * interval < scenario.durationMs; next += interval) {
    await sleep(Math.max(0, next - Date.now()));
    const status = await server.publishHttp({ event: 'bench', data: payload(count, scenario.bytes ?? 100) });
    if (status !== 202) throw new Error(`POST /publish answered ${status}`);
    count++;
  }
  return { count, startNs, endNs: Number(process.hrtime.bigint()), peakRss: rssBytes(server.pid) };
}

async function publish(server, client, scenario) {
  await open(client, scenario);
  await sleep(300);
  await client.request(`start ${scenario.mode}`);
  // A hub on Redis: count the commands the publishing sends (and the reading back).
  await server.redis?.resetStats();
  const cpuBefore = cpuSeconds(server.pid);
  const wallBefore = performance.now();
  const published =
    server.control === undefined
      ? await publishOverHttp(server, scenario)
      : await server.control(
          {
            cmd: 'publish',
            mode: scenario.mode,
            durationMs: scenario.durationMs,
            batch: scenario.batch ?? 1,
            rate: scenario.rate ?? 0,
            bytes: 100,
            rooms: scenario.rooms ?? 0,
            users: scenario.users ?? 0,
          },
          scenario.durationMs + 60_000,
        );
  const got = await client.request(`expect ${published.count} 3000`, 600_000);
  const serverCpu = cpuSeconds(server.pid) - cpuBefore;
  const wall = (performance.now() - wallBefore) / 1000;
  // A hub on Redis: the commands per event, and the Redis leg it timed itself (ssehub-redis.mjs).
  const redis =
    server.redis === undefined
      ? {}
      : {
          publishFailed: published.failed,
          ...perEvent(await server.redis.commandStats(), published.count),
          ...(await server.control({ cmd: 'extra' })),
        };
  const deliverySeconds = (got.lastNs - published.startNs) / 1e9;
  return {
    clients: scenario.clients,
    published: published.count,
    publishPerSec: published.count / ((published.endNs - published.startNs) / 1e9),
    expected: got.expected,
    received: got.received,
    lost: got.lost,
    duplicates: got.duplicates,
    misdelivered: got.misdelivered,
    closed: got.closed,
    deliveredPerSec: deliverySeconds > 0 ? got.received / deliverySeconds : 0,
    latencyP50Ms: got.latencyUs.p50 / 1000,
    latencyP99Ms: got.latencyUs.p99 / 1000,
    latencyMaxMs: got.latencyUs.max / 1000,
    serverCpuShare: serverCpu / wall,
    serverCpuUsPerEvent: got.received > 0 ? (serverCpu / got.received) * 1e6 : undefined,
    clientCpuShare: (got.cpuUser + got.cpuSys) / ((got.endNs - got.startNs) / 1e9),
    peakRssMB: published.peakRss / MB,
    ...redis,
  };
}

async function bounded(server, client, scenario) {
  // A small receive buffer: otherwise the kernel (tcp_rmem up to 32 MiB here) holds the backlog.
  await client.request('rcvbuf 16384');
  await open(client, scenario);
  await client.request('pause');
  await sleep(300);
  const before = await memory(server);
  const published = await server.control(
    { cmd: 'publish', mode: 'all', durationMs: scenario.durationMs, batch: scenario.batch ?? 1, rate: 0, bytes: scenario.bytes },
    scenario.durationMs + 120_000,
  );
  const after = await memory(server);
  return {
    clients: scenario.clients,
    published: published.count,
    peakRssGrowthMB: (published.peakRss - before.rss) / MB,
    rssGrowthAfterGcMB: (after.rss - before.rss) / MB,
    clientsLeft: after.clients,
  };
}

const KINDS = { idle, accept, publish, bounded };

/** Runs one scenario on a started server with a started client. */
export function runScenario(server, client, scenario) {
  return KINDS[scenario.kind](server, client, scenario);
}

/**
 * The `redisPublisher` scenario for one side (`server.publisher`: 'publisher' or 'bare'): runs
 * bench/redis/publisherLoop.mjs in a process of its own against `redisUrl`.
 */
export async function runPublisher(server, scenario, redisUrl) {
  const proc = new LineProcess(
    server.id,
    process.execPath,
    [
      `${ROOT}bench/redis/publisherLoop.mjs`,
      '--mode',
      server.publisher,
      '--redis',
      redisUrl,
      '--duration',
      String(scenario.durationMs),
      '--concurrency',
      String(scenario.concurrency),
    ],
    { cwd: ROOT, env: benchEnv(redisUrl) },
  );
  try {
    return await proc.next(scenario.durationMs + 30_000);
  } finally {
    await proc.stop();
  }
}
