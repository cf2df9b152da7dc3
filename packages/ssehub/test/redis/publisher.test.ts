/**
 * `createPublisher`: a service with no connections publishes, typed, to the clients of every hub
 * on the same Redis and prefix, with the ids those clients see, in the one sequence the hubs'
 * own publishes share.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createPublisher, type Publisher } from '../../src/redis/index.js';
import { RedisServer, skipRedis } from '../support/redisServer.js';
import { clientIdOf, type Events, epochOf, received, resetsOf, Scope, seqOf } from './support.js';

let redis: RedisServer;
let prefixes = 0;
const scope = new Scope();

describe.skipIf(skipRedis)('createPublisher across two hubs', () => {
  beforeAll(async () => {
    redis = await RedisServer.start();
  });
  afterAll(() => redis?.stop());
  afterEach(() => scope.dispose());

  function publisherOn(prefix: string): Publisher<Events> {
    const publisher = createPublisher<Events>({ redis: redis.url, prefix });
    scope.add(() => publisher.close());
    return publisher;
  }

  it('reaches exactly each audience on both hubs, resolving with the ids the clients see, in one sequence with the hubs', async () => {
    const prefix = `pub${++prefixes}`;
    const a = await scope.node({ redis: redis.url, prefix });
    const b = await scope.node({ redis: redis.url, prefix });
    const publisher = publisherOn(prefix);
    // Two hubs, one user on both, a room across both, and someone alone.
    const clients = {
      adaOnA: await scope.connected(`${a.events}?user=ada&room=lobby`),
      adaOnB: await scope.connected(`${b.events}?user=ada`),
      bobOnB: await scope.connected(`${b.events}?user=bob&room=lobby`),
      carlOnA: await scope.connected(`${a.events}?user=carl`),
    };
    type Name = keyof typeof clients;
    const expected: Record<Name, string[]> = { adaOnA: [], adaOnB: [], bobOnB: [], carlOnA: [] };
    const ids: string[] = [];
    const sent = (id: string, type: 'chat' | 'note', data: unknown, to: Name[]): void => {
      ids.push(id);
      for (const name of to) expected[name].push(`${id}|${type}|${JSON.stringify(data)}`);
    };
    const everyone: Name[] = ['adaOnA', 'adaOnB', 'bobOnB', 'carlOnA'];

    sent(await publisher.toUser('ada').send('chat', { text: 'to ada' }), 'chat', { text: 'to ada' }, ['adaOnA', 'adaOnB']);
    sent(await publisher.toRoom('lobby').send('chat', { text: 'to lobby' }), 'chat', { text: 'to lobby' }, ['adaOnA', 'bobOnB']);
    // A client id handed out by hub A, targeted from a process that never saw the connection.
    const carlId = clientIdOf(clients.carlOnA);
    sent(await publisher.toClient(carlId).send('chat', { text: 'to carl' }), 'chat', { text: 'to carl' }, ['carlOnA']);
    sent(await publisher.toAll().send('note', { n: 1 }), 'note', { n: 1 }, everyone);
    sent(await publisher.broadcast('note', { n: 2 }), 'note', { n: 2 }, everyone);
    // A union: bob is in the room and named, ada (A) in the room: each gets it once.
    const union = { text: 'union' };
    sent(await publisher.publish({ event: 'chat', data: union, target: { users: ['bob'], rooms: ['lobby'] } }), 'chat', union, [
      'adaOnA',
      'bobOnB',
    ]);
    sent(await publisher.toRoom('lobby').toUser('carl').send('chat', { text: 'lobby and carl' }), 'chat', { text: 'lobby and carl' }, [
      'adaOnA',
      'bobOnB',
      'carlOnA',
    ]);
    // The hubs' own publishes take their ids from the same sequence, interleaved.
    sent(await a.hub.toUser('bob').send('chat', { text: 'A to bob' }), 'chat', { text: 'A to bob' }, ['bobOnB']);
    sent(await b.hub.toUser('carl').send('note', { n: 3 }), 'note', { n: 3 }, ['carlOnA']);
    const batch = await publisher.publishMany([
      { event: 'chat', data: { text: 'batch 1' }, target: { users: ['ada'] } },
      { event: 'note', data: { n: 4 }, target: { all: true } },
    ]);
    expect(batch).toHaveLength(2);
    sent(batch[0] as string, 'chat', { text: 'batch 1' }, ['adaOnA', 'adaOnB']);
    sent(batch[1] as string, 'note', { n: 4 }, everyone);
    sent(await publisher.toClient(clientIdOf(clients.adaOnB)).send('chat', { text: 'to ada on B' }), 'chat', { text: 'to ada on B' }, [
      'adaOnB',
    ]);

    // One epoch, consecutive seqs, whoever published.
    expect(new Set(ids.map(epochOf)).size).toBe(1);
    const seqs = ids.map(seqOf);
    expect(seqs).toEqual(seqs.map((_, i) => (seqs[0] as number) + i));

    for (const name of everyone) {
      const client = clients[name];
      await client.until((c) => received(c).length >= expected[name].length, 5000, `${name}'s events`);
    }
    // Late extras would show up now.
    await new Promise((resolve) => setTimeout(resolve, 200));
    for (const name of everyone) {
      expect(received(clients[name]), name).toEqual(expected[name]);
      expect(resetsOf(clients[name]), name).toEqual([]);
      expect(clients[name].errors, name).toBe(0);
    }
  });

  it('a publish is resumable on either hub, and refused when the publisher cannot reach Redis', async () => {
    const prefix = `pub${++prefixes}`;
    const a = await scope.node({ redis: redis.url, prefix });
    const b = await scope.node({ redis: redis.url, prefix });
    const publisher = publisherOn(prefix);
    const first = await scope.connected(`${a.events}?user=ada`);
    const seen = await publisher.toUser('ada').send('chat', { text: 'seen' });
    await first.until((c) => received(c).length === 1, 5000, 'the first event');
    first.close();
    const missed = [
      await publisher.toUser('ada').send('chat', { text: 'missed 1' }),
      await publisher.toUser('grace').send('chat', { text: 'not for ada' }),
      await publisher.toAll().send('note', { n: 7 }),
    ];
    const resumed = scope.client(`${b.events}?user=ada&lastEventId=${seen}`);
    await resumed.until((c) => received(c).length === 2, 5000, 'the replay');
    expect(received(resumed)).toEqual([`${missed[0]}|chat|{"text":"missed 1"}`, `${missed[2]}|note|{"n":7}`]);
    expect(resetsOf(resumed)).toEqual([]);
  });

  it('rejects a publish at once with BackendError when Redis is gone (not queued)', async () => {
    const own = await RedisServer.start();
    scope.add(() => own.stop());
    const publisher = createPublisher<Events>({ redis: own.url, prefix: 'gone' });
    scope.add(() => publisher.close());
    // Connected well before its first publish, as a long-lived service's publisher is.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await publisher.toAll().send('note', { n: 1 });
    await own.kill();
    const started = Date.now();
    const error = await publisher
      .toAll()
      .send('note', { n: 2 })
      .then(
        () => undefined,
        (failure: unknown) => failure,
      );
    expect(error).toMatchObject({ code: 'ERR_SSEHUB_BACKEND' });
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('types the data by the event name, as a hub does', () => {
    // Compiled, never run: each line below must fail to type-check.
    const typeChecks = (publisher: Publisher<Events>): void => {
      // @ts-expect-error a chat's text is a string
      void publisher.toAll().send('chat', { text: 1 });
      // @ts-expect-error no such event
      void publisher.toUser('ada').send('chit', { text: 'x' });
      // @ts-expect-error a note carries a number
      void publisher.broadcast('note', { n: 'one' });
      // @ts-expect-error publish types data by the event name too
      void publisher.publish({ event: 'note', data: { text: 'x' }, target: { all: true } });
      // @ts-expect-error and so does publishMany
      void publisher.publishMany([{ event: 'chat', data: { n: 1 }, target: { all: true } }]);
    };
    expect(typeChecks).toBeTypeOf('function');
  });
});
