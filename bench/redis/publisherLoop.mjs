/**
 * Publishes to Redis as fast as `--concurrency` promises in flight allow, for `--duration` ms,
 * and prints one JSON line: events/s, the round trip of a publish (p50/p99), this process's CPU
 * per event, and the Redis commands per event (`INFO commandstats` deltas).
 *
 *   node bench/redis/publisherLoop.mjs --mode publisher|bare --redis URL [--duration 5000] [--concurrency 64]
 *
 * `publisher`: `createPublisher(...).broadcast('bench', data)` from ssehub/redis.
 * `bare`: ioredis alone sending the very EVALSHA the publisher sends — the same script (its SHA
 * taken from the publisher's own command, seen with MONITOR), the same keys and arguments
 * (rebuilt in the order of the library's `appendArguments`, checked against the captured ones),
 * on a connection with the same options. The ratio of the two is what the library adds.
 */
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { parseCommandStats, perEvent } from '../lib/redis.mjs';
import { payload } from '../servers/control.mjs';

const { values: args } = parseArgs({
  options: {
    mode: { type: 'string', default: 'publisher' },
    redis: { type: 'string' },
    duration: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '64' },
    warmup: { type: 'string', default: '500' },
  },
});
const url = args.redis ?? process.env.BENCH_REDIS_URL;
if (url === undefined) throw new Error('--redis URL (or BENCH_REDIS_URL) is needed');
const durationMs = Number(args.duration);
const concurrency = Number(args.concurrency);

// The bench measures its own copy of the built library (bench/.build/ssehub, see run.mjs).
const ssehub = process.env.BENCH_SSEHUB ?? 'ssehub';
const { createPublisher } = await import(ssehub === 'ssehub' ? 'ssehub/redis' : new URL('redis.js', ssehub).href);

const admin = new Redis(url);
const publisher = createPublisher({ redis: url });

/** The publisher's EVALSHA as Redis receives it: `[sha, numkeys, ...keys, ...argv]`. */
async function capturePublisherCommand() {
  const monitor = await admin.monitor();
  const seen = [];
  monitor.on('monitor', (_time, command) => seen.push(command));
  // Twice: the first may be an EVAL (ioredis loads the script after a NOSCRIPT).
  await publisher.broadcast('bench', payload(0, 100));
  await publisher.broadcast('bench', payload(1, 100));
  await new Promise((resolve) => setTimeout(resolve, 100));
  monitor.disconnect();
  // MONITOR shows the script of an EVAL escaped, so its SHA is taken from an EVALSHA only.
  const evalsha = seen.find((command) => String(command[0]).toLowerCase() === 'evalsha');
  if (evalsha !== undefined) return evalsha.slice(1);
  throw new Error(`no EVALSHA seen from the publisher: ${JSON.stringify(seen.slice(0, 3))}`);
}

const captured = await capturePublisherCommand();
const [sha, numberOfKeys, ...rest] = captured;
const keys = rest.slice(0, Number(numberOfKeys));
const EPOCH_CANDIDATE = 'benchxxx';

/**
 * APPEND's arguments for one broadcast, in the order of the library's `appendArguments`:
 * candidate epoch, mode, max entries, max age (ms), count, then event, data, target, history.
 */
function appendArguments(data) {
  return [EPOCH_CANDIDATE, 'log', 10_000, 3_600_000, 1, 'bench', data, '{"all":true}', '1'];
}

// Same shape as the publisher's own command, but for the random epoch candidate and the data.
const expected = appendArguments('').map(String);
const theirs = rest.slice(Number(numberOfKeys)).map(String);
const differs = expected.some((value, i) => i !== 0 && i !== 6 && value !== theirs[i]) || expected.length !== theirs.length;
if (differs) throw new Error(`the bare loop's arguments differ from the publisher's: ${JSON.stringify({ expected, theirs })}`);

// The bare client: the options the library's command connection has (connections.ts).
const bare = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
bare.on('error', () => {});
// Without an offline queue, commands sent before the connection is up fail.
if (bare.status !== 'ready') await once(bare, 'ready');

let seq = 2;
const publishOne =
  args.mode === 'bare'
    ? () => bare.evalsha(sha, numberOfKeys, ...keys, ...appendArguments(JSON.stringify(payload(seq++, 100))))
    : args.mode === 'publisher'
      ? () => publisher.broadcast('bench', payload(seq++, 100))
      : undefined;
if (publishOne === undefined) throw new Error(`--mode is publisher or bare, not ${args.mode}`);

let lastError;

/** `concurrency` loops, each publishing one event at a time, for `ms`; records round trips. */
async function run(ms, samples) {
  const end = performance.now() + ms;
  let done = 0;
  let failed = 0;
  const worker = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        await publishOne();
        done++;
        samples?.push(performance.now() - t0);
      } catch (error) {
        if (failed++ === 0) lastError = error.message;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { done, failed };
}

await run(Number(args.warmup));
await admin.config('RESETSTAT');
const samples = [];
const cpu0 = process.cpuUsage();
const t0 = performance.now();
const { done, failed } = await run(durationMs, samples);
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
const calls = parseCommandStats(await admin.info('commandstats'));
samples.sort((a, b) => a - b);
const quantile = (q) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))];

process.stdout.write(
  `${JSON.stringify({
    mode: args.mode,
    concurrency,
    events: done,
    failed,
    ...(lastError === undefined ? {} : { firstError: lastError }),
    seconds,
    eventsPerSec: done / seconds,
    roundTripP50Ms: quantile(0.5),
    roundTripP99Ms: quantile(0.99),
    cpuUsPerEvent: (cpu.user + cpu.system) / done,
    ...perEvent(calls, done),
  })}\n`,
);
await Promise.all([publisher.close(), bare.quit(), admin.quit()]);
