/**
 * The conformance suite against the Redis backend (log mode), on a `redis-server` of its own.
 * "Another process" is another backend on the same Redis and prefix; a restart that lost the
 * data is a FLUSHALL.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe } from 'vitest';
import type { Backend } from '../../src/backends/Backend.js';
import { RedisBackend } from '../../src/redis/index.js';
import { RedisServer, skipRedis } from '../support/redisServer.js';
import { describeBackend } from './conformance.js';

let server: RedisServer;
let prefixes = 0;
const prefixOf = new WeakMap<Backend, string>();

describe.skipIf(skipRedis)('RedisBackend conformance', () => {
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(() => server?.stop());

  const make = (prefix: string, history?: { maxEvents?: number } | false): RedisBackend => {
    const backend = new RedisBackend({ redis: server.url, prefix, ...(history === undefined ? {} : { history }), epochCheckMs: 100 });
    prefixOf.set(backend, prefix);
    return backend;
  };

  describeBackend('RedisBackend', {
    make: (options) => make(`t${++prefixes}`, options?.history),
    share: (backend) => make(prefixOf.get(backend) as string),
    async restart(backend) {
      const admin = new Redis(server.url);
      await admin.flushall();
      await admin.quit();
      return make(prefixOf.get(backend) as string);
    },
    exact: true,
  });
});
