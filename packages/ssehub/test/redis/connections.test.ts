/**
 * The Redis a caller hands over as an ioredis client: the backend and the publisher open their
 * own duplicates (with the client's options), which connect at once even when the client is
 * lazy, and leave the client itself to its owner.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPublisher } from '../../src/redis/index.js';
import { RedisServer, skipRedis } from '../support/redisServer.js';
import { type Events, received, Scope } from './support.js';

let redis: RedisServer;
const scope = new Scope();

describe.skipIf(skipRedis)("a caller's ioredis client", () => {
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(() => redis?.stop());
  afterEach(() => scope.dispose());

  it('a lazyConnect client: hubs and a publisher on it are ready at once, and deliver', async () => {
    const lazy = new Redis(redis.url, { lazyConnect: true });
    scope.add(() => lazy.disconnect());
    const started = Date.now();
    const node = await scope.node({ redis: lazy, prefix: 'lazy' });
    expect(Date.now() - started).toBeLessThan(2000);
    const client = await scope.connected(`${node.events}?user=ada`);
    const publisher = createPublisher<Events>({ redis: lazy, prefix: 'lazy' });
    scope.add(() => publisher.close());
    const ids = [await node.hub.toUser('ada').send('note', { n: 1 }), await publisher.toUser('ada').send('note', { n: 2 })];
    await client.until((c) => received(c).length === 2, 3000, 'both events');
    expect(received(client)).toEqual([`${ids[0]}|note|{"n":1}`, `${ids[1]}|note|{"n":2}`]);
    // The caller's own client was left alone.
    expect(lazy.status).toBe('wait');
    await node.close();
    await publisher.close();
    expect(lazy.status).toBe('wait');
  });
});
