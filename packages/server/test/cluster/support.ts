/**
 * Several `ssehub` processes (the built CLI) on one `redis-server` of the test's own: each on
 * its own free port, in development mode (`?user=`, `?room=`), killed after each test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { freePort, RedisServer } from '../../../ssehub/test/support/redisServer.js';
import { type Answer, request } from '../support/http.js';
import { Subscriber } from '../support/sse.js';

export { freePort, RedisServer, skipRedis } from '../../../ssehub/test/support/redisServer.js';

const CLI = fileURLToPath(new URL('../../dist/cli.js', import.meta.url));

/** Event types the cluster suites record, besides `connected` and `message`. */
export const TYPES = ['e', 'ssehub:reset'] as const;

/** One running `ssehub` process. */
export interface HubProcess {
  readonly child: ChildProcess;
  readonly url: string;
  /** Its node id, as `/status` and presence name it. */
  readonly nodeId: string;
  /** What it wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves when it has exited. */
  readonly exited: Promise<void>;
}

const running = new Set<ChildProcess>();

/** Throws when the CLI has not been built (`npm run build`; `npm test` does it first). */
export function requireBuild(): void {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first (npm test does)`);
}

/**
 * Starts `ssehub` on Redis at `redisUrl` with `env` on top of the defaults, and resolves once
 * it answers `readiness` with 200: `/readyz` (it is subscribed to Redis) unless told otherwise.
 */
export async function startHubProcess(
  redisUrl: string,
  env: Record<string, string> = {},
  port?: number,
  readiness: '/readyz' | '/healthz' = '/readyz',
): Promise<HubProcess> {
  const listenPort = port ?? (await freePort());
  const child = spawn(process.execPath, [CLI], {
    env: {
      PATH: process.env.PATH ?? '',
      REDIS_URL: redisUrl,
      PORT: String(listenPort),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk;
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => {
      running.delete(child);
      resolve();
    });
  });
  const url = `http://127.0.0.1:${listenPort}`;
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`ssehub exited at start: ${output}`);
    const ready = await request(url, readiness).catch(() => undefined);
    if (ready?.status === 200) break;
    if (Date.now() > deadline) throw new Error(`ssehub did not answer ${readiness} with 200 in 15 s: ${output}`);
    await sleep(50);
  }
  const status = await request(url, '/status');
  return { child, url, nodeId: status.json.nodeId as string, output: () => output, exited };
}

/** Kills every process still running (SIGKILL) and waits for them to exit. */
export async function killAll(): Promise<void> {
  const exits = [...running].map((child) => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    return exited;
  });
  await Promise.all(exits);
}

/** Kills one process with `signal` and waits for it to exit. */
export async function stopHubProcess(hub: HubProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  hub.child.kill(signal);
  await hub.exited;
}

const subscribers = new Set<Subscriber>();

/** A real EventSource on a process's `/events`, connected (its `connected` event received). */
export async function subscribe(hub: HubProcess, query: string, headers?: Record<string, string>): Promise<Subscriber> {
  const subscriber = new Subscriber(`${hub.url}/events?${query}`, { types: TYPES, ...(headers === undefined ? {} : { headers }) });
  subscribers.add(subscriber);
  await subscriber.waitFor('connected');
  return subscriber;
}

/** Closes every subscriber opened by {@link subscribe}. */
export function closeSubscribers(): void {
  for (const subscriber of subscribers) subscriber.close();
  subscribers.clear();
}

/** A subscriber's `e` events as `id|data`, in arrival order. */
export function eventsOf(subscriber: Subscriber): string[] {
  return subscriber.of('e').map((event) => `${event.lastEventId}|${event.data}`);
}

/** The reset events a subscriber got, parsed. */
export function resetsOf(subscriber: Subscriber): Array<{ reason: string; lastEventId: string | null; headId: string }> {
  return subscriber.of('ssehub:reset').map((event) => JSON.parse(event.data));
}

/** POSTs one event (or a batch) to `/publish`. */
export function publishTo(hub: HubProcess, body: unknown): Promise<Answer> {
  return request(hub.url, '/publish', { method: 'POST', body: body as object });
}

/** Publishes, expecting 202, and resolves with the id (or ids of a batch). */
export async function published(hub: HubProcess, body: unknown): Promise<string> {
  const answer = await publishTo(hub, body);
  if (answer.status !== 202) throw new Error(`publish answered ${answer.status}: ${answer.text}`);
  return answer.json.id as string;
}

/** The seq of an id `<epoch>-<seq>`. */
export function seqOf(id: string): number {
  return Number(id.slice(id.lastIndexOf('-') + 1));
}

/** The epoch of an id `<epoch>-<seq>`. */
export function epochOf(id: string): string {
  return id.slice(0, id.lastIndexOf('-'));
}

/** Resolves once `predicate` holds (polled), or rejects after `timeoutMs`. */
export async function until(predicate: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000, everyMs = 25): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The hooks of a cluster suite, registered where it is called: a redis-server of the suite's
 * own (started before its first test, stopped after its last), and no process or subscriber
 * left over after each test. The server is read through the holder once the tests run.
 */
export function useRedisServer(): { readonly server: RedisServer } {
  const holder: { server?: RedisServer } = {};
  beforeAll(async () => {
    requireBuild();
    holder.server = await RedisServer.start();
  });
  afterEach(async () => {
    closeSubscribers();
    await killAll();
  });
  afterAll(() => holder.server?.stop());
  return holder as { readonly server: RedisServer };
}
