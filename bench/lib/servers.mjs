/**
 * The measured servers. Each runs in its own process. Those with a control channel
 * (bench/servers/control.mjs) publish in-process when told to; the standalone ssehub server is
 * measured from outside and published to with POST /publish.
 */
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { connect, createServer } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { LineProcess } from './lineProcess.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = `${ROOT}packages/server/dist/cli.js`;
const script = (name) => `${ROOT}bench/servers/${name}`;

/** The scenarios the hub on Redis runs: fan-out throughput and light-load latency. */
export const REDIS_HUB_SCENARIOS = ['fanout-1000', 'latency'];

export const SERVERS = [
  { id: 'ssehub', label: 'ssehub (library)', script: script('ssehub-lib.mjs') },
  { id: 'ssehub-fast', label: 'ssehub (createSseServer)', script: script('ssehub-fast.mjs') },
  { id: 'ssehub-server', label: 'ssehub server (cli)', cli: CLI, only: ['idle', 'accept', 'latency'] },
  { id: 'better-sse', label: 'better-sse 0.16', script: script('better-sse.mjs') },
  { id: 'baseline', label: 'node:http baseline', script: script('baseline.mjs') },
  // On the run's own redis-server (run.mjs passes BENCH_REDIS_URL), next to ssehub-fast.
  {
    id: 'ssehub-redis',
    label: 'ssehub on Redis (createSseServer)',
    script: script('ssehub-redis.mjs'),
    redis: true,
    only: REDIS_HUB_SCENARIOS,
  },
  // Not SSE servers: the two sides of the `redis-publisher` scenario (bench/redis/publisherLoop.mjs).
  { id: 'redis-publisher', label: 'createPublisher().broadcast', publisher: 'publisher', redis: true, only: ['redis-publisher'] },
  { id: 'redis-bare', label: 'bare ioredis EVALSHA', publisher: 'bare', redis: true, only: ['redis-publisher'] },
];

/** The ids of the servers that only the Redis section of the report shows. */
export const REDIS_SERVER_IDS = SERVERS.filter((s) => s.redis === true).map((s) => s.id);

/**
 * The environment of a measured process: BENCH_SSEHUB, the module URL of the library to
 * measure (the bench's copy unless set, to compare two versions), and BENCH_REDIS_URL.
 */
export function benchEnv(redisUrl) {
  const copy = `${ROOT}bench/.build/ssehub/index.js`;
  const env = { ...process.env };
  if (env.BENCH_SSEHUB === undefined && existsSync(copy)) env.BENCH_SSEHUB = pathToFileURL(copy).href;
  if (redisUrl !== undefined) env.BENCH_REDIS_URL = redisUrl;
  return env;
}

/** Whether a server can run at all here (the CLI exists only once packages/server is built). */
export function available(server) {
  return server.cli === undefined || existsSync(server.cli);
}

/** A port nothing listens on now. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address();
      probe.close(() => resolve(port));
    });
  });
}

async function waitForPort(port, deadline) {
  while (Date.now() < deadline) {
    const open = await new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`nothing listens on ${port}`);
}

/** POST /publish to the standalone server; resolves with the status. */
function postPublish(port, body) {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/publish',
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/**
 * Starts `server` and resolves with `{ proc, pid, port, path, control, publishHttp }`:
 * `control(command)` talks to the in-process control channel (undefined for the CLI).
 * `redisUrl` is the run's redis-server, for the servers on Redis.
 */
export async function startServer(server, redisUrl) {
  if (server.cli !== undefined) {
    const port = await freePort();
    const proc = new LineProcess(
      server.id,
      process.execPath,
      [server.cli, '--port', String(port), '--host', '127.0.0.1', '--log-level', 'warn'],
      {
        cwd: ROOT,
      },
    );
    await waitForPort(port, Date.now() + 15_000);
    return { proc, pid: proc.pid, port, path: '/events', control: undefined, publishHttp: (body) => postPublish(port, body) };
  }
  // BENCH_NODE_FLAGS adds flags to the measured servers, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile them.
  const extra = process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [];
  const proc = new LineProcess(server.id, process.execPath, [...extra, '--expose-gc', server.script], {
    cwd: ROOT,
    env: benchEnv(redisUrl),
  });
  const { port } = await proc.next(15_000);
  return {
    proc,
    pid: proc.pid,
    port,
    path: '/events',
    control: (command, timeoutMs) => proc.request(command, timeoutMs),
    publishHttp: undefined,
  };
}
