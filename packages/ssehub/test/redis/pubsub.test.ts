/**
 * The Redis backend in pub/sub mode: ids still come from one sequence and every hub delivers
 * every event once, in order; but nothing is kept, so a client that missed events and
 * reconnects to another hub gets the reset event rather than a replay (as documented).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BackendMessage } from '../../src/backends/Backend.js';
import { RedisBackend } from '../../src/redis/index.js';
import { RedisServer, skipRedis } from '../support/redisServer.js';
import { epochOf, received, resetsOf, Scope, seqOf, until } from './support.js';

let redis: RedisServer;
let prefixes = 0;
const scope = new Scope();

describe.skipIf(skipRedis)("RedisBackend in mode 'pubsub'", () => {
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(() => redis?.stop());
  afterEach(() => scope.dispose());

  it('delivers an append made right after subscribe() resolved', async () => {
    // Subscribing must mean subscribed: an event published the moment after is not lost.
    for (let round = 0; round < 5; round++) {
      const backend = new RedisBackend({ redis: redis.url, prefix: `ps${++prefixes}`, mode: 'pubsub' });
      scope.add(() => backend.close());
      const got: BackendMessage[] = [];
      const head = await backend.subscribe((message) => got.push(message));
      const [appended] = await backend.append([{ event: 'e', data: 'first', target: { all: true }, history: true }]);
      await until(() => got.length === 1, 'the first event', 2000);
      expect(got[0]).toMatchObject({ epoch: head.epoch, seq: head.seq + 1, data: 'first' });
      expect(appended?.seq).toBe(head.seq + 1);
    }
  });

  it('delivers across two hubs, once each, in order, whoever published', async () => {
    const prefix = `ps${++prefixes}`;
    const a = await scope.node({ redis: redis.url, prefix, mode: 'pubsub' });
    const b = await scope.node({ redis: redis.url, prefix, mode: 'pubsub' });
    expect(a.backend.keepsHistory).toBe(false);
    const clients = [
      await scope.connected(`${a.events}?user=ada&room=lobby`),
      await scope.connected(`${b.events}?user=ada`),
      await scope.connected(`${b.events}?room=lobby`),
    ];
    // Sent concurrently from both hubs: the order is the sequence's, not the callers'.
    const idOf = new Map<string, string>();
    const audiences: Array<(i: number) => boolean> = [() => true, (i) => i % 3 !== 2, (i) => i % 3 !== 1];
    const sends: Array<Promise<void>> = [];
    for (let i = 0; i < 60; i++) {
      const hub = i % 2 === 0 ? a.hub : b.hub;
      const audience = i % 3 === 2 ? hub.toRoom('lobby') : i % 3 === 1 ? hub.toUser('ada') : hub.toAll();
      sends.push(
        audience.send('chat', { text: `m${i}` }).then((id) => {
          idOf.set(`m${i}`, id);
        }),
      );
    }
    await Promise.all(sends);
    const seqs = [...idOf.values()].map(seqOf).sort((x, y) => x - y);
    expect(new Set([...idOf.values()].map(epochOf)).size).toBe(1);
    expect(seqs).toEqual(seqs.map((_, i) => (seqs[0] as number) + i));

    for (const [index, client] of clients.entries()) {
      // Every event of its audience, in seq order, each once, with the id its publish resolved with.
      const mine = [...idOf.entries()]
        .filter(([text]) => (audiences[index] as (i: number) => boolean)(Number(text.slice(1))))
        .sort(([, x], [, y]) => seqOf(x) - seqOf(y))
        .map(([text, id]) => `${id}|chat|{"text":"${text}"}`);
      await client.until((c) => received(c).length >= mine.length, 5000, `client ${index}'s events`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(received(client), `client ${index}`).toEqual(mine);
      expect(resetsOf(client), `client ${index}`).toEqual([]);
    }
  });

  it('a client that missed events and resumes on the other hub gets the reset event, no replay', async () => {
    const prefix = `ps${++prefixes}`;
    const a = await scope.node({ redis: redis.url, prefix, mode: 'pubsub' });
    const b = await scope.node({ redis: redis.url, prefix, mode: 'pubsub' });
    const first = await scope.connected(`${a.events}?user=ada`);
    const seen = await a.hub.toUser('ada').send('chat', { text: 'seen' });
    await first.until((c) => received(c).length === 1, 5000, 'the first event');
    first.close();
    await b.hub.toUser('ada').send('chat', { text: 'missed' });
    const head = await a.hub.toAll().send('note', { n: 1 });
    await until(() => b.hub.stats().history.headId === head, 'hub B to see the head', 2000);

    const resumed = await scope.connected(`${b.events}?user=ada&lastEventId=${seen}`);
    await resumed.waitFor('ssehub:reset');
    expect(resetsOf(resumed)).toEqual([{ reason: 'stale', lastEventId: seen, headId: head }]);
    // Nothing missed is replayed; live events follow the reset.
    const live = await a.hub.toUser('ada').send('chat', { text: 'live' });
    await resumed.until((c) => received(c).length === 1, 5000, 'the live event');
    expect(received(resumed)).toEqual([`${live}|chat|{"text":"live"}`]);
    expect(resumed.of('ssehub:reset')[0]?.lastEventId).toBe(head);
  });

  it('after Redis comes back empty, both hubs subscribe again by themselves, reset their clients and deliver', async () => {
    const own = await RedisServer.start();
    scope.add(() => own.stop());
    const a = await scope.node({ redis: own.url, prefix: 'psrestart', mode: 'pubsub' });
    const b = await scope.node({ redis: own.url, prefix: 'psrestart', mode: 'pubsub' });
    const clients = [await scope.connected(`${a.events}?user=ada`), await scope.connected(`${b.events}?user=ada`)];
    const before = await a.hub.toAll().send('note', { n: 0 });
    await Promise.all(clients.map((client) => client.until((c) => received(c).length === 1, 5000, 'the first event')));
    await own.kill();
    await until(() => !a.backend.available && !b.backend.available, 'both backends to notice', 2000);
    await own.restart();
    await Promise.all(clients.map((client) => client.waitFor('ssehub:reset', 1, 5000)));
    // Once resubscribed (not observable from outside), every hub delivers again.
    let after = '';
    await until(
      async () => {
        after = await b.hub.toAll().send('note', { n: 1 });
        await new Promise((resolve) => setTimeout(resolve, 100));
        return clients.every((client) => received(client).some((text) => text.startsWith(`${after}|`)));
      },
      'delivery after the restart',
      5000,
    );
    for (const client of clients) {
      // A publish that came before a hub had subscribed again is a hole it can only report.
      const [first, ...later] = resetsOf(client);
      expect(first?.reason).toBe('restarted');
      for (const reset of later) expect(reset.reason).toBe('gap');
      expect(received(client)[0]).toBe(`${before}|note|{"n":0}`);
      expect(received(client).at(-1)).toBe(`${after}|note|{"n":1}`);
      expect(epochOf(after)).not.toBe(epochOf(before));
    }
  });
});
