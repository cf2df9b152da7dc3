/**
 * Every targeting mode of `POST /publish` across three `ssehub` processes on one Redis: a
 * publish to any process reaches exactly its audience on every process — a client id handed
 * out by another process included — each connection once per event, in one order, with the id
 * the publish answered.
 */
import { describe, expect, it } from 'vitest';
import type { Subscriber } from '../support/sse.js';
import {
  epochOf,
  eventsOf,
  type HubProcess,
  publishTo,
  resetsOf,
  seqOf,
  skipRedis,
  sleep,
  startHubProcess,
  subscribe,
  useRedisServer,
} from './support.js';

describe.skipIf(skipRedis)('targeting across ssehub processes', () => {
  const redis = useRedisServer();

  it('clients, users, rooms, everyone and unions reach exactly their audience on every process, once, in order', async () => {
    const [a, b, c] = (await Promise.all([
      startHubProcess(redis.server.url),
      startHubProcess(redis.server.url),
      startHubProcess(redis.server.url),
    ])) as [HubProcess, HubProcess, HubProcess];
    const subscribers = {
      adaOnA: await subscribe(a, 'user=ada&room=lobby'),
      adaOnB: await subscribe(b, 'user=ada'),
      bobOnC: await subscribe(c, 'user=bob&room=lobby&room=kitchen'),
      anonymousOnA: await subscribe(a, 'room=kitchen'),
      carlOnB: await subscribe(b, 'user=carl'),
    };
    type Name = keyof typeof subscribers;
    const names = Object.keys(subscribers) as Name[];
    const idOf = (name: Name): string => subscribers[name].identity.clientId;
    const expected = Object.fromEntries(names.map((name) => [name, [] as string[]])) as Record<Name, string[]>;
    const ids: string[] = [];
    let count = 0;

    /** Publishes one event through `via` and records who must get it. */
    const send = async (via: HubProcess, target: Record<string, string[]>, audience: Name[]): Promise<void> => {
      const data = { k: ++count };
      const answer = await publishTo(via, { event: 'e', data, ...target });
      expect(answer.status, answer.text).toBe(202);
      const id = answer.json.id as string;
      ids.push(id);
      for (const name of audience) expected[name].push(`${id}|${JSON.stringify(data)}`);
    };

    // A client id handed out by A, targeted through B (and C): only that connection.
    await send(b, { clients: [idOf('adaOnA')] }, ['adaOnA']);
    await send(c, { clients: [idOf('anonymousOnA'), idOf('carlOnB')] }, ['anonymousOnA', 'carlOnB']);
    // Users: every connection of each, wherever it is.
    await send(b, { users: ['ada'] }, ['adaOnA', 'adaOnB']);
    await send(a, { users: ['ada', 'bob'] }, ['adaOnA', 'adaOnB', 'bobOnC']);
    // Rooms.
    await send(b, { rooms: ['lobby'] }, ['adaOnA', 'bobOnC']);
    await send(c, { rooms: ['lobby', 'kitchen'] }, ['adaOnA', 'bobOnC', 'anonymousOnA']);
    // Everyone (no target).
    await send(b, {}, names);
    // Unions: each connection once, however many parts it matches.
    await send(b, { rooms: ['kitchen'], users: ['ada'], clients: [idOf('carlOnB'), idOf('bobOnC')] }, names);
    await send(a, { users: ['carl'], clients: [idOf('carlOnB')], rooms: ['nobody-here'] }, ['carlOnB']);
    await send(c, { users: ['nobody'] }, []);

    // A batch through B: consecutive ids, each event to its own audience.
    const batch = await publishTo(b, [
      { event: 'e', data: { k: 'batch-1' }, users: ['bob'] },
      { event: 'e', data: { k: 'batch-2' }, rooms: ['kitchen'], clients: [idOf('adaOnB')] },
    ]);
    expect(batch.status, batch.text).toBe(202);
    const [first, second] = batch.json.ids as [string, string];
    ids.push(first, second);
    expected.bobOnC.push(`${first}|{"k":"batch-1"}`);
    for (const name of ['adaOnB', 'bobOnC', 'anonymousOnA'] as const) expected[name].push(`${second}|{"k":"batch-2"}`);

    // One sequence for every process: one epoch, consecutive seqs.
    expect(new Set(ids.map(epochOf)).size).toBe(1);
    const seqs = ids.map(seqOf);
    expect(seqs).toEqual(seqs.map((_, i) => (seqs[0] as number) + i));

    const everyone: Subscriber[] = names.map((name) => subscribers[name]);
    for (const [index, subscriber] of everyone.entries()) {
      const mine = expected[names[index] as Name];
      await subscriber.until((s) => s.of('e').length >= mine.length, 5000, `${names[index]}'s events`);
    }
    // Extras, had there been any, would have come by now.
    await sleep(300);
    for (const name of names) {
      expect(eventsOf(subscribers[name]), name).toEqual(expected[name]);
      expect(resetsOf(subscribers[name]), name).toEqual([]);
      expect(subscribers[name].errors, name).toBe(0);
    }
  });

  it('concurrent publishes to every process: each connection sees the same order, each event once', async () => {
    const hubs = await Promise.all([startHubProcess(redis.server.url), startHubProcess(redis.server.url)]);
    const [a, b] = hubs as [HubProcess, HubProcess];
    const watchers = [await subscribe(a, 'user=ada'), await subscribe(b, 'user=ada'), await subscribe(b, 'user=bob')];
    const answers = await Promise.all(
      Array.from({ length: 60 }, (_, i) => publishTo(hubs[i % 2] as HubProcess, { event: 'e', data: { i }, users: ['ada', 'bob'] })),
    );
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 202));
    const bySeq = answers.map((answer, i) => ({ id: answer.json.id as string, i })).sort((x, y) => seqOf(x.id) - seqOf(y.id));
    const expected = bySeq.map(({ id, i }) => `${id}|{"i":${i}}`);
    for (const watcher of watchers) {
      await watcher.until((s) => s.of('e').length >= 60, 5000, 'sixty events');
      expect(eventsOf(watcher)).toEqual(expected);
    }
  });
});
