/**
 * The run's own redis-server (never the system's): started on a free loopback port without
 * persistence, emptied (FLUSHALL) before every run that uses it, and stopped at the end. Also
 * reads `INFO commandstats`, to count the commands a run sent per event.
 */
import { execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { LineProcess } from './lineProcess.mjs';

/** The path of redis-server, or undefined when it is not installed. */
export function redisServerPath() {
  try {
    return execFileSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

// Commands a client sends (each one a round trip); the others in commandstats ran inside the
// Lua scripts (XADD, INCRBY, TIME, …) or are the bench's own (INFO, CONFIG, FLUSHALL).
const ROUND_TRIPS = new Set(['evalsha', 'eval', 'evalsha_ro', 'eval_ro', 'xread', 'subscribe', 'script', 'ping']);
const BENCH_OWN = new Set(['info', 'config', 'flushall', 'monitor', 'client', 'hello', 'select', 'quit']);

/** Parses `INFO commandstats` into `{ command: calls }`, without the bench's own commands. */
export function parseCommandStats(text) {
  const calls = {};
  for (const match of text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    // Redis 7 names subcommands `config|resetstat`.
    const name = match[1].toLowerCase();
    if (!BENCH_OWN.has(name.split('|')[0])) calls[name] = Number(match[2]);
  }
  return calls;
}

/** Commands per event from `calls` (parsed commandstats) and the number of events. */
export function perEvent(calls, events) {
  let roundTrips = 0;
  let all = 0;
  for (const [name, n] of Object.entries(calls)) {
    all += n;
    if (ROUND_TRIPS.has(name)) roundTrips += n;
  }
  const per = (n) => (events > 0 ? n / events : undefined);
  return {
    redisCalls: calls,
    roundTripsPerEvent: per(roundTrips),
    evalshaPerEvent: per((calls.evalsha ?? 0) + (calls.eval ?? 0)),
    xreadPerEvent: per(calls.xread ?? 0),
    commandsPerEvent: per(all),
  };
}

function answersPing(port) {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
    socket.once('error', () => resolve(false));
  });
}

export class BenchRedis {
  #process;
  #admin;

  constructor(proc, port) {
    this.#process = proc;
    this.port = port;
    this.url = `redis://127.0.0.1:${port}`;
  }

  /** Starts redis-server on `port`; resolves once it answers. */
  static async start(binary, port) {
    const proc = new LineProcess('redis-server', binary, [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--daemonize',
      'no',
      '--loglevel',
      'warning',
    ]);
    const deadline = Date.now() + 10_000;
    while (!(await answersPing(port))) {
      if (Date.now() > deadline) {
        await proc.stop(500);
        throw new Error(`redis-server did not start on port ${port}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const redis = new BenchRedis(proc, port);
    redis.#admin = new Redis(redis.url);
    redis.#admin.on('error', () => {});
    await redis.#admin.ping();
    return redis;
  }

  /** Empties it, so that every run starts from a new sequence. */
  flush() {
    return this.#admin.flushall();
  }

  /** Zeroes the command counters. */
  resetStats() {
    return this.#admin.config('RESETSTAT');
  }

  /** `{ command: calls }` since the last reset. */
  async commandStats() {
    return parseCommandStats(await this.#admin.info('commandstats'));
  }

  async stop() {
    this.#admin.disconnect();
    await this.#process.stop(500);
  }
}
