import { Redis, type RedisOptions } from 'ioredis';

/** A Redis to use: a URL (`redis://host:port`, `redis://user:pass@host:port/db`, `rediss://…` for TLS) or an ioredis client. */
export type RedisInput = string | Redis;

/** The connections a backend or publisher opens, and whether it must close them. */
export interface RedisConnections {
  /** Commands: never queued while Redis is unreachable, so that a publish fails at once. */
  readonly commands: Redis;
  /** A second connection for blocking reads (XREAD BLOCK) or pub/sub, when needed. */
  readonly reader: Redis | undefined;
  close(): Promise<void>;
}

// Connections that have been ready once: from then on, nothing waits for them any more.
const everReady = new WeakSet<Redis>();

// A command never waits for a reconnection: it fails at once, and the caller says so (503).
const FAIL_FAST: Partial<RedisOptions> = { enableOfflineQueue: false, maxRetriesPerRequest: 0 };
// The reader keeps trying on its own; its loop handles the errors.
const READER: Partial<RedisOptions> = { enableOfflineQueue: false, maxRetriesPerRequest: 0 };

/**
 * Opens the connections: from a URL, or as duplicates of a caller's client (which stays the
 * caller's to close; its own options, database and credentials are kept).
 */
export function openConnections(input: RedisInput, withReader: boolean): RedisConnections {
  // Connected at once, even as duplicates of a lazyConnect client: a connection in 'wait' never
  // becomes ready by itself, and the reader would wait for it forever.
  const make = (options: Partial<RedisOptions>): Redis =>
    typeof input === 'string' ? new Redis(input, { ...options, lazyConnect: false }) : input.duplicate({ ...options, lazyConnect: false });
  const commands = make(FAIL_FAST);
  const reader = withReader ? make(READER) : undefined;
  for (const connection of [commands, reader]) {
    if (connection === undefined) continue;
    // Errors are reported through the callers' promises and the backend's state; an 'error'
    // event without a listener would crash the process on every failed reconnection.
    connection.on('error', () => {});
    // Known to have connected even when nobody waited for it: a later outage fails at once.
    connection.once('ready', () => everReady.add(connection));
  }
  return {
    commands,
    reader,
    async close() {
      // The reader may be blocked in XREAD for a while: a QUIT would wait behind it, and a
      // reader has nothing to finish.
      reader?.disconnect();
      try {
        await commands.quit();
      } catch {
        commands.disconnect();
      }
    },
  };
}

const FIRST_CONNECTION_MS = 10_000;

/**
 * Waits for a connection's first `ready` (at most 10 s): at start-up a connection is still
 * being made, which is not an outage. Once it has been ready, nothing waits any more.
 */
export async function firstConnection(redis: Redis): Promise<void> {
  if (redis.status === 'ready') {
    everReady.add(redis);
    return;
  }
  if (everReady.has(redis)) return;
  const deadline = Date.now() + FIRST_CONNECTION_MS;
  const status = (): string => redis.status;
  while (status() !== 'ready') {
    if (status() === 'end' || Date.now() > deadline) return;
    await sleep(20);
  }
  everReady.add(redis);
}

/** Waits `ms` without keeping the process alive. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
